"""Extract an uploaded zip archive without letting it write outside its folder."""

from __future__ import annotations

import contextlib
import io
import stat
import zipfile
from pathlib import Path, PurePosixPath

from i2i_nb.errors import DataError

MAX_BYTES = 4 * 1024**3  # uncompressed total
MAX_FILES = 20_000
_SKIPPED = ("__MACOSX/",)  # macOS resource forks, never data
_CHUNK = 1 << 20


def _refusal(info: zipfile.ZipInfo) -> str | None:
    """Why an entry may not be extracted, or None."""
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if ".." in PurePosixPath(name).parts:
        return "'..' in the path"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link"
    if "\0" in name:
        return "a NUL character in the name"
    if not _is_dir(info) and not PurePosixPath(name).name.strip("."):
        return "names no file"
    return None


def _is_dir(info: zipfile.ZipInfo) -> bool:
    return info.filename.endswith(("/", "\\")) or not info.filename


def _entries(archive: zipfile.ZipFile, max_bytes: int, max_files: int) -> list[zipfile.ZipInfo]:
    """The file entries to extract; raise DataError naming every refused entry."""
    infos = [i for i in archive.infolist() if not i.filename.startswith(_SKIPPED)]
    problems = [f"{i.filename}: {why}" for i in infos if (why := _refusal(i))]
    files = [i for i in infos if not _is_dir(i)]
    if len(files) > max_files:
        problems.append(f"{len(files)} files, more than the limit of {max_files}")
    total = sum(i.file_size for i in files)
    if total > max_bytes:
        problems.append(f"{total} bytes uncompressed, more than the limit of {max_bytes}")
    if problems:
        raise DataError("the zip archive was not extracted:\n"
                        + "\n".join(f"- {p}" for p in problems))
    return files


def _copy(source: io.BufferedIOBase, target: Path, budget: int, name: str) -> int:
    """Copy at most ``budget`` bytes (a lying size header cannot exceed it); return the count."""
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > budget:
                raise DataError(f"extraction stopped: {name} unpacks to more than its "
                                "stated size or the size limit")
            out.write(chunk)
    return written


def extract_zip(source: str | Path | bytes, folder: str | Path, max_bytes: int = MAX_BYTES,
                max_files: int = MAX_FILES) -> list[Path]:
    """Extract a zip archive (a path or its bytes) into ``folder``.

    Every entry is checked first: absolute paths, ``..`` components, symbolic
    links, more than ``max_files`` files or ``max_bytes`` uncompressed bytes
    refuse the whole archive, each refused entry named. ``__MACOSX/`` is skipped.
    An entry that cannot be written (a file where a folder must go, a name the file
    system refuses) stops the extraction with :class:`DataError`, and the files
    already written are removed.

    Returns
    -------
    list of Path
        The files written.
    """
    folder = Path(folder).resolve()
    data = io.BytesIO(source) if isinstance(source, bytes) else Path(source)
    try:
        archive = zipfile.ZipFile(data)
    except zipfile.BadZipFile as err:
        raise DataError(f"not a zip archive: {err}") from err
    written: list[Path] = []
    with archive:
        try:
            _extract(archive, _entries(archive, max_bytes, max_files), folder, max_bytes,
                     written)
        except DataError:
            for path in written:  # a refused archive leaves nothing behind
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
            raise
    return written


def _extract(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], folder: Path,
             budget: int, written: list[Path]) -> None:
    """Write each checked entry under ``folder``, appending its path to ``written``."""
    for info in infos:
        target = (folder / info.filename.replace("\\", "/")).resolve()
        if not target.is_relative_to(folder) or target == folder:
            raise DataError(f"the zip archive was not extracted: {info.filename} "
                            "leaves the folder")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as entry:
                written.append(target)
                budget -= _copy(entry, target, min(budget, info.file_size), info.filename)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
            raise DataError(f"extraction stopped: {info.filename}: {err}") from err
