"""What this process may use: memory still free and CPUs (system and control-group limits)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class CpuBudget:
    """The intra-op thread count chosen for this process, and what limited it.

    ``start``: the threads before the choice (torch's default: ``OMP_NUM_THREADS`` or the
    cores; never raised); ``affinity``: CPUs the scheduler lets this process run on;
    ``quota``: the control group's CPU quota in CPUs (None: unlimited); ``requested``:
    ``SYSTEM.NUM_CPUS`` (-1: no limit); ``processes``: processes sharing the CPUs.
    """

    threads: int
    start: int
    affinity: int
    quota: float | None
    requested: int
    processes: int = 1

    def describe(self) -> str:
        """One log line: the choice and its limits."""
        quota = "none" if self.quota is None else f"{self.quota:g} CPUs"
        asked = "all" if self.requested == -1 else str(self.requested)
        share = f", shared by {self.processes} processes" if self.processes > 1 else ""
        return (f"{self.threads} CPU threads (SYSTEM.NUM_CPUS {asked}, torch's default "
                f"{self.start}, affinity {self.affinity} CPUs, cgroup quota {quota}{share})")


def _quota_v2(folder: Path) -> float | None:
    """``cpu.max`` of one cgroup v2 group in CPUs ("max": no limit)."""
    try:
        quota, period = (folder / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    return int(quota) / int(period) if quota.isdigit() and period.isdigit() and \
        int(period) > 0 else None


def _quota_v1(folder: Path) -> float | None:
    """``cpu.cfs_quota_us / cpu.cfs_period_us`` of one cgroup v1 group ("-1": no limit)."""
    quota, period = _read_int(folder / "cpu.cfs_quota_us"), _read_int(folder / "cpu.cfs_period_us")
    return quota / period if quota is not None and period else None


def _strictest(folder: Path, root: Path, read: Callable[[Path], float | None]) -> float | None:
    """The smallest quota of ``folder`` and its parents up to ``root``."""
    quotas = [read(f) for f in (folder, *folder.parents) if f == root or root in f.parents]
    quotas = [q for q in quotas if q is not None]
    return min(quotas) if quotas else None


def cgroup_cpu_quota(proc_cgroup: Path = Path("/proc/self/cgroup"),
                     sys_root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs this process's control group may use on average (quota / period), or None.

    Reads cgroup v2 ``cpu.max`` or v1 ``cpu.cfs_quota_us``, in this process's group and
    its parents (the strictest applies); inside a container whose group path is not
    visible, the mount's root group is read.
    """
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    found = []
    for line in lines:
        _, controllers, group = line.split(":", 2)
        if controllers == "":
            root, reader = sys_root, _quota_v2
        elif "cpu" in controllers.split(","):
            root = next((r for r in (sys_root / controllers, sys_root / "cpu",
                                     sys_root / "cpu,cpuacct") if r.is_dir()), None)
            if root is None:
                continue
            reader = _quota_v1
        else:
            continue
        folder = root / group.lstrip("/")
        quota = _strictest(folder if folder.is_dir() else root, root, reader)
        if quota is not None:
            found.append(quota)
    return min(found) if found else None


def affinity_cpus() -> int:
    """CPUs the scheduler lets this process run on (its affinity mask), else all CPUs."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cpu_budget(num_cpus: int = -1, processes: int = 1, start: int | None = None
               ) -> CpuBudget:
    """Intra-op threads for one of ``processes`` processes: ``start`` (the current count,
    default the CPUs of the affinity mask), at most the affinity mask's CPUs, the control
    group's quota (rounded up) and ``SYSTEM.NUM_CPUS`` unless -1 (0 counts as 1), split evenly
    between the processes, at least one."""
    affinity, quota = affinity_cpus(), cgroup_cpu_quota()
    start = affinity if start is None else start
    total = min(start, affinity)
    if quota is not None:
        total = min(total, max(1, math.ceil(quota - 1e-9)))
    if num_cpus != -1:  # as BiaPy: -1 all, anything else at least one
        total = min(total, max(1, num_cpus))
    processes = max(1, processes)
    return CpuBudget(max(1, total // processes), start, affinity, quota, num_cpus, processes)
