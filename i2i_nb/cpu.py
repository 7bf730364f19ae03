"""CPU settings of a run: the intra-op thread count, and subnormal floats flushed to zero
in every thread that computes.

Subnormal floats (below 1.2e-38 in float32) can cost tens of times a normal one. On the
AMD EPYC of the development machine: ``sqrt`` of subnormals 32x (4.9x with flushing),
ELU's forward and backward in the range where ``exp(x)`` is subnormal 2x (1x with
flushing), ``exp`` with a subnormal result 36x (flushing does not help; the default
network does not call it), convolutions and matrix products none; Intel CPUs slow down
in more operations. A network that drifts into them late in training gets slower epoch
after epoch. ``torch.set_flush_denormal(True)`` sets the FTZ/DAZ bits of the calling
thread only: OpenMP threads that already exist (any parallel operation before it
creates them) keep computing subnormals, while threads created later inherit the bits.
:func:`flush_denormals` therefore also runs the flag in every thread of the OpenMP
team, and checks the result. CUDA kernels are not concerned (GPUs process float32
subnormals at full speed).
"""

from __future__ import annotations

import ctypes
import os
import re
from pathlib import Path

import torch

from i2i_nb.resources import CpuBudget, cpu_budget

_OPENMP = re.compile(r"lib(g|i|)omp[^/]*\.so")


def _openmp_library() -> ctypes.CDLL | None:
    """The OpenMP runtime this process has loaded (torch's), if it offers ``GOMP_parallel``
    (libgomp, and LLVM's libomp and Intel's libiomp5 for compatibility)."""
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return None
    for line in maps:
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and _OPENMP.search(Path(fields[5]).name):
            try:
                library = ctypes.CDLL(fields[5])
            except OSError:
                continue
            if hasattr(library, "GOMP_parallel"):
                return library
    return None


def _in_every_openmp_thread(threads: int) -> bool:
    """Run ``torch.set_flush_denormal(True)`` in each thread of a ``threads``-wide OpenMP
    team of this thread (the team torch's parallel operations use); False without one."""
    library = _openmp_library()
    if library is None:
        return False
    callback_type = ctypes.CFUNCTYPE(None, ctypes.c_void_p)

    def flush(_: int | None) -> None:
        torch.set_flush_denormal(True)

    callback = callback_type(flush)
    library.GOMP_parallel.argtypes = [callback_type, ctypes.c_void_p, ctypes.c_uint,
                                      ctypes.c_uint]
    library.GOMP_parallel.restype = None
    library.GOMP_parallel(callback, None, threads, 0)
    return True


def denormals_flushed() -> bool:
    """Whether every intra-op thread flushes subnormal results to zero.

    A multiplication whose results are all subnormal (1e-20 squared) is split across the
    intra-op threads as usual; any thread that does not flush leaves non-zero results.
    """
    tiny = torch.full((1 << 20,), 1e-20)
    return bool(torch.count_nonzero(tiny * tiny) == 0)


def flush_denormals() -> bool:
    """Flush subnormal floats to zero in this thread and every intra-op thread it uses.

    Call it from the thread that computes (the fit loop does). Results change only for
    values below 1.2e-38. Returns whether the check passed (False where the CPU has no
    flush-to-zero mode).
    """
    if not torch.set_flush_denormal(True):
        return False
    if not denormals_flushed():
        _in_every_openmp_thread(torch.get_num_threads())
    return denormals_flushed()


def worker_init(_: int) -> None:
    """``DataLoader`` ``worker_init_fn``: a worker process flushes subnormals too (a forked
    worker inherits the flag, a spawned one would not)."""
    torch.set_flush_denormal(True)


_CHANGED: list[tuple[int, int]] = []  # (threads before set_threads changed them, set to)


def set_threads(num_cpus: int = -1, processes: int = 1) -> CpuBudget:
    """Lower torch's intra-op threads to ``SYSTEM.NUM_CPUS``, the affinity mask and the
    control group's CPU quota (:func:`i2i_nb.resources.cpu_budget`); return the choice.

    The count is never raised above torch's own (``OMP_NUM_THREADS``, the cores, or the
    user's ``torch.set_num_threads``); a later call starts again from the count before an
    earlier call lowered it.
    """
    current = torch.get_num_threads()
    start = _CHANGED[-1][0] if _CHANGED and _CHANGED[-1][1] == current else current
    budget = cpu_budget(num_cpus, processes, start)
    if budget.threads != current:
        torch.set_num_threads(budget.threads)
    _CHANGED[:] = [(start, budget.threads)]
    return budget


def busy_note(budget: CpuBudget) -> str | None:
    """A note when other processes keep the CPUs busy (load average above the CPUs this
    process may use): threads that wait on each other slow every operation down."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return None
    if budget.threads > 1 and load > budget.affinity + 0.5:
        return (f"note: the CPUs are busy (load average {load:.1f} on {budget.affinity} "
                f"CPUs): with {budget.threads} threads each operation waits for the slowest "
                "one; SYSTEM.NUM_CPUS: 1 may be faster")
    return None
