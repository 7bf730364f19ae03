"""Run a child process under a memory limit: a memory control group made for it.

Where this process may create one (cgroup v1 memory controller, or cgroup v2 with the
memory controller enabled for new groups: usually root), the child is started inside a new
group whose limit (and swap limit, where there is one) is the given size: going beyond it
gets the child OOM-killed, and the group's peak usage (page cache included) is read back.
Elsewhere the child runs without any limit, and :attr:`MemoryLimit.enforced` is False (the
section prints that the limit was NOT enforced).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

_V1 = {"limit": "memory.limit_in_bytes", "swap": "memory.memsw.limit_in_bytes",
       "peak": "memory.max_usage_in_bytes", "events": "memory.oom_control"}
_V2 = {"limit": "memory.max", "swap": "memory.swap.max", "peak": "memory.peak",
       "events": "memory.events"}


def _candidates() -> Iterator[tuple[str, Path]]:
    """(version, folder to create the group in): this process's own group, then the root of
    the hierarchy; the v1 memory controller first (where mounted, v2 cannot have it)."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
        groups = [line.split(":", 2) for line in Path("/proc/self/cgroup").read_text().splitlines()]
    except OSError:
        return
    own = {"v2" if controllers == "" else "v1": path for _, controllers, path in groups
           if controllers == "" or "memory" in controllers.split(",")}
    found = [("v1" if fields[2] == "cgroup" else "v2", Path(fields[1].replace("\\040", " ")))
             for fields in mounts if len(fields) > 3 and (
                 fields[2] == "cgroup2" or fields[2] == "cgroup" and "memory" in
                 fields[3].split(","))]
    for version, mount in sorted(found, key=lambda vm: vm[0]):
        if version in own:
            yield version, mount / own[version].lstrip("/")
        yield version, mount


def drop_cache(path: Path) -> None:
    """Write ``path``'s data to disk and drop it from the page cache, so that the child reads
    it from disk (its page cache then counts against the child's group, not this one's)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


@dataclass
class Outcome:
    """How a child ended: its exit status and output, and its group's peak and OOM kills."""

    returncode: int
    stdout: str
    stderr: str
    group_peak: int | None  # bytes, page cache included; None without a group (or v2 < 5.19)
    oom_kills: int | None

    @property
    def killed(self) -> bool:
        """Ended by SIGKILL (the OOM killer's signal)."""
        return self.returncode in (-9, 137)


class MemoryLimit:
    """A memory control group of ``limit`` bytes for one child (``with`` removes it)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.folder, self.version, self.problems = limit, None, "", []
        for version, parent in _candidates():
            knobs = _V1 if version == "v1" else _V2
            folder = parent / f"i2i_nb-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            try:
                folder.mkdir()
            except OSError as exc:
                self.problems.append(f"{parent}: {exc.strerror or exc}")
                continue
            try:
                (folder / knobs["limit"]).write_text(str(limit))
                if (folder / knobs["swap"]).exists():  # no escape to swap
                    (folder / knobs["swap"]).write_text(str(limit if version == "v1" else 0))
                self.folder, self.version = folder, version
                return
            except OSError as exc:  # e.g. v2 without the memory controller enabled here
                self.problems.append(f"{folder / knobs['limit']}: {exc.strerror or exc}")
                folder.rmdir()
        if not self.problems:
            self.problems.append("no memory control group hierarchy is mounted")

    @property
    def enforced(self) -> bool:
        """Whether a child run by :meth:`run` is held to the limit."""
        return self.folder is not None

    def describe(self) -> str:
        """Where the limit comes from, or why there is none."""
        if self.enforced:
            return f"cgroup {self.version} group {self.folder}"
        return "NOT enforced (no writable memory cgroup: " + "; ".join(self.problems) + ")"

    def _read(self, knob: str) -> str | None:
        knobs = _V1 if self.version == "v1" else _V2
        try:
            return (self.folder / knobs[knob]).read_text()
        except (OSError, TypeError):
            return None

    def run(self, argv: Sequence[str], cwd: Path) -> Outcome:
        """Run ``argv`` in the group (the shell moves itself in, then becomes ``argv``)."""
        if self.enforced:
            argv = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"',
                    str(self.folder / "cgroup.procs"), *argv]
        done = subprocess.run(list(argv), capture_output=True, text=True, cwd=cwd)
        peak, events = self._read("peak"), self._read("events") or ""
        kills = [int(line.split()[1]) for line in events.splitlines()
                 if line.startswith("oom_kill ")]
        return Outcome(done.returncode, done.stdout, done.stderr,
                       int(peak) if peak and peak.strip().isdigit() else None,
                       kills[0] if kills else None)

    def __enter__(self) -> MemoryLimit:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.folder is not None:
            try:
                self.folder.rmdir()
            except OSError as error:
                print(f"warning: could not remove {self.folder}: {error}", file=sys.stderr)


def python_child(module: str, spec: str) -> list[str]:
    """``python -m module spec`` with this interpreter."""
    return [sys.executable, "-m", module, spec]
