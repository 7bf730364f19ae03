"""How much memory this process may still use (system and control-group limits)."""

from __future__ import annotations

import os
from pathlib import Path

_UNLIMITED = 1 << 60  # cgroup v1 reports "no limit" as a huge number


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _cgroup_room() -> int | None:
    """Limit minus usage of this process's memory control group (v2 or v1), if limited."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, group = line.split(":", 2)
        if controllers == "":
            folder, limit, usage = Path("/sys/fs/cgroup"), "memory.max", "memory.current"
        elif "memory" in controllers.split(","):
            folder, limit, usage = Path("/sys/fs/cgroup/memory"), "memory.limit_in_bytes", \
                "memory.usage_in_bytes"
        else:
            continue
        folder = folder / group.lstrip("/")
        cap, used = _read_int(folder / limit), _read_int(folder / usage)
        if cap is not None and used is not None and cap < _UNLIMITED:
            return max(0, cap - used)
    return None


def available_memory() -> int:
    """Bytes of memory available to this process: the system's available memory
    (``MemAvailable``), or less where a control group (container, job scheduler) limits it."""
    system = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                system = int(line.split()[1]) * 1024
    except OSError:
        pass
    if system is None:
        system = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    room = _cgroup_room()
    return system if room is None else min(system, room)
