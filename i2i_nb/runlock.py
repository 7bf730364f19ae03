"""One run at a time into one ``<name>`` and ``<run_id>``: a lock file holding the PID.

The lock is ``<result_dir>/<name>/.<name>_<run_id>.lock``, held with an exclusive
``flock`` for the whole run. The operating system drops the lock when its process
ends in any way (killed too), so a lock left by a dead process is simply taken over;
a second run while the first lives is refused, naming the first one's PID. The file
is removed when the run ends. Where ``fcntl`` is missing (Windows) the file is created
exclusively instead and a lock whose PID no longer runs is taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from i2i_nb.errors import ConfigError
from i2i_nb.files import naming

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


def _alive(pid: int) -> bool:
    """Whether a process with this PID runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def _owner(path: Path) -> str:
    """``process N`` (on host H) from the lock file, for the message."""
    try:
        owner = json.loads(path.read_text())
        return f"process {owner['pid']}" + (f" on {owner['host']}"
                                            if owner["host"] != socket.gethostname() else "")
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def _refusal(path: Path, what: str) -> ConfigError:
    return ConfigError(f"{what}: another run ({_owner(path)}) is writing into this results "
                       "tree now; wait for it to end, or choose another --name or --run_id "
                       f"(lock file {path})")


def _flock(path: Path, what: str) -> int:
    """An open descriptor of ``path`` holding its exclusive lock (the file being the one
    at ``path`` now, not one a finishing run has just removed)."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _refusal(path, what) from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def _exclusive(path: Path, what: str) -> int:
    """Without ``fcntl``: create the file exclusively, taking over one of a dead PID."""
    for _ in range(3):
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                pid = int(json.loads(path.read_text())["pid"])
            except (OSError, ValueError, KeyError, TypeError):
                pid = None
            if pid is not None and _alive(pid):
                raise _refusal(path, what) from None
            path.unlink(missing_ok=True)
    raise _refusal(path, what)


@contextlib.contextmanager
def run_lock(path: Path, what: str) -> Iterator[None]:
    """Hold the lock file ``path`` for the block.

    Parameters
    ----------
    path : the lock file (its folder is created).
    what : the run, for the message (``--name job --run_id 1``).

    Raises
    ------
    ConfigError
        Another live process holds the lock.
    """
    path = Path(path)
    with naming(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = _flock(path, what) if fcntl is not None else _exclusive(path, what)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode())
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # while still holding it: a waiting run then retries the new file
        os.close(fd)
