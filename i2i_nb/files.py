"""Files of the results tree: written atomically, and OS failures told in one sentence.

Every file a run writes appears under its final name only once it is complete (it is
written under a temporary name beside it, flushed and renamed), so a process killed at
any moment leaves the previous file or the new one, never a partial one taken for a
finished file. A failure of the operating system while writing (disk full, read-only
folder, a name too long, no permission) is re-raised as an :class:`OSError` that names
the final path, not the temporary one; :func:`describe_os_error` words it for the user.
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

TMP_SUFFIX_LENGTH = len(".") + len(".") + 12 + len(".tmp")  # ".<name>.<12 hex>.tmp"
NAME_MAX = 255  # bytes in a file name on ext4, XFS, btrfs, APFS, NTFS (characters)

_ADVICE = {
    errno.ENOSPC: "the disk is full: free some space or choose another --result_dir",
    errno.EDQUOT: "the disk quota is exceeded: free some space or choose another --result_dir",
    errno.EROFS: "the file system is read-only: choose another --result_dir",
    errno.EACCES: "permission denied: choose a folder you may write to (--result_dir)",
    errno.EPERM: "operation not permitted: choose a folder you may write to (--result_dir)",
    errno.ENAMETOOLONG: "the file name is too long: choose a shorter --name or --result_dir",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EEXIST: "a file of that name is in the way",
}


def temporary_name(path: Path) -> Path:
    """``.<name>.<random>.tmp`` beside ``path`` (its parent folders are created); the name
    is shortened so that the temporary name is no longer than the longest name most file
    systems take (255), so any final name that fits has a temporary name that fits."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    name = path.name
    while len(f".{name}".encode()) + TMP_SUFFIX_LENGTH - 1 > NAME_MAX:
        name = name[:-1]
    return path.with_name(f".{name}.{uuid.uuid4().hex[:12]}.tmp")


@contextlib.contextmanager
def naming(path: Path) -> Iterator[None]:
    """Re-raise an :class:`OSError` of the block as one naming ``path`` (the final file)."""
    try:
        yield
    except OSError as err:
        if err.errno is None:
            raise
        raise OSError(err.errno, err.strerror or os.strerror(err.errno), str(path)) from None


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path to write; it replaces ``path`` when the block ends cleanly.

    On an error (or a kill) ``path`` keeps its previous content and the temporary file
    is removed (a kill may leave it; its name starts with a dot and ends with ``.tmp``).
    """
    path = Path(path)
    with naming(path):
        tmp = temporary_name(path)
        try:
            yield tmp
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, flushed to disk before the rename."""
    with atomic_path(path) as tmp, open(tmp, "x", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def describe_os_error(err: OSError) -> str:
    """One sentence for the user: the path, the cause and what to do."""
    where = err.filename or "a file of the run"
    cause = _ADVICE.get(err.errno or -1)
    reason = err.strerror or str(err)
    return f"cannot write {where}: {reason}" + (f" ({cause})" if cause else "")


def name_max(folder: Path) -> int:
    """The longest file name the file system holding ``folder`` (or its nearest existing
    parent) accepts; 255 when it cannot be asked."""
    folder = Path(folder).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return 255
