"""Shared pieces: benchmark sizes, default models, interleaved ratio timing, peak memory."""

from __future__ import annotations

import ctypes
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from i2i_nb.config import Config
from i2i_nb.model_spec import auto_z_down
from i2i_nb.models import build_model


@dataclass(frozen=True)
class Sizes:
    """Problem sizes of one mode (``--quick`` or full)."""

    quick: bool
    patch: dict[int, tuple[int, ...]]  # training patch = default tile, per ndim
    big_tile: dict[int, tuple[int, ...]]
    batch: dict[int, int]
    train_image: dict[int, tuple[int, ...]]
    infer_image: dict[int, tuple[int, ...]]
    rounds: int  # interleaved timing rounds (twice as many for training)
    steps: int  # training steps per timed call


def sizes(quick: bool) -> Sizes:
    """The sizes of ``--quick`` (small, < 2 minutes on 2 CPU cores) or the full run."""
    if quick:
        return Sizes(True, {2: (64, 64), 3: (16, 32, 32)}, {2: (128, 128), 3: (16, 64, 64)},
                     {2: 8, 3: 4}, {2: (256, 256), 3: (32, 96, 96)},
                     {2: (256, 256), 3: (16, 32, 32)}, 3, 1)
    return Sizes(False, {2: (128, 128), 3: (16, 64, 64)}, {2: (256, 256), 3: (32, 128, 128)},
                 {2: 8, 3: 4}, {2: (1024, 1024), 3: (64, 256, 256)},
                 {2: (1024, 1024), 3: (32, 128, 128)}, 5, 2)


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    section: str
    case: str
    value: str
    target: str = ""
    note: str = ""


def table(rows: Sequence[Row]) -> str:
    """Rows as an aligned text table."""
    head = Row("section", "case", "value", "target", "note")
    cells = [[r.section, r.case, r.value, r.target, r.note] for r in (head, *rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(4)) + "  " + c[4] for c in cells]
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(line.rstrip() for line in lines)


def device() -> torch.device:
    """CUDA when available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def default_model(ndim: int, patch: Sequence[int], feature_maps: Sequence[int] | None = None
                  ) -> nn.Module:
    """``unet`` with the config's defaults (feature maps, normalisation, automatic z pooling)."""
    m = Config().model
    z_down = auto_z_down(patch[0], len(m.feature_maps) - 1) if ndim == 3 else None
    torch.manual_seed(0)
    return build_model(m.architecture, ndim, 1, 1, feature_maps or m.feature_maps, z_down,
                       m.normalization, 0.0)


class StandIn(nn.Module):
    """A near-free network (a learnable scale) with the default U-Net's tiling geometry.

    It has the ``ndim``, ``divisor`` and ``halo`` of :func:`default_model`, so
    ``predict_image`` plans the same tiles and overlap, but its cost and activations are
    negligible: what remains is the engine's own time and memory.
    """

    def __init__(self, ndim: int, patch: Sequence[int]) -> None:
        super().__init__()
        reference = default_model(ndim, patch)
        self.ndim, self.divisor, self.halo = ndim, reference.divisor, reference.halo
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scale ``x``."""
        return x * self.scale


def random_image(shape: Sequence[int], seed: int = 0) -> np.ndarray:
    """A float32 standard-normal image, filled slab by slab (no full-size temporary)."""
    rng = np.random.default_rng(seed)
    image = np.empty(tuple(shape), np.float32)
    for slab in image:
        slab[...] = rng.standard_normal(slab.shape, np.float32)
    return image


def synchronize(dev: torch.device) -> None:
    """Wait for queued device work (timings must include it)."""
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


@dataclass(frozen=True)
class Ratio:
    """Candidate time / baseline time (best of each), and the range of per-round ratios."""

    value: float
    low: float
    high: float
    candidate_s: float
    baseline_s: float

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.2f}-{self.high:.2f}]"


def _timed(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def interleaved(candidate: Callable[[], object], baseline: Callable[[], object],
                rounds: int) -> Ratio:
    """Time ``candidate`` and ``baseline`` alternately, after one warm-up call each.

    Interference from other work only ever slows a call down, so the ratio of the best
    times is the estimate; the spread of the per-round ratios (each round times both back
    to back, in alternating order) shows how noisy the machine was.
    """
    candidate(), baseline()
    times = []
    for r in range(rounds):
        if r % 2:
            b, c = _timed(baseline), _timed(candidate)
        else:
            c, b = _timed(candidate), _timed(baseline)
        times.append((c, b))
    ratios = [c / b for c, b in times]
    best_c, best_b = min(c for c, _ in times), min(b for _, b in times)
    return Ratio(best_c / best_b, min(ratios), max(ratios), best_c, best_b)


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak() -> bool:
    """Reset this process's peak RSS (VmHWM) to its current RSS; False where unsupported.

    Free heap memory is handed back first (glibc ``malloc_trim``), so that a measured call
    cannot reuse what earlier calls left in the allocator's arenas.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return _status_kib("VmHWM") is not None


def peak_rss_bytes() -> int:
    """Peak resident set size of this process (VmHWM, else ``ru_maxrss``)."""
    kib = _status_kib("VmHWM")
    if kib is None:
        import resource
        import sys

        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return maxrss if sys.platform == "darwin" else maxrss * 1024
    return kib * 1024


def rss_anon_bytes() -> int:
    """Current anonymous resident memory (not file-backed pages such as memmaps); 0 if unknown."""
    return (_status_kib("RssAnon") or 0) * 1024


class AnonPeak:
    """Samples RssAnon every ``interval`` seconds in a thread, keeping the peak since
    :meth:`reset`."""

    def __init__(self, interval: float = 0.002) -> None:
        self.peak = rss_anon_bytes()
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, rss_anon_bytes())

    def reset(self) -> int:
        """Restart from the current value, and return it."""
        self.peak = rss_anon_bytes()
        return self.peak

    def stop(self) -> int:
        """Stop sampling; the peak since the last reset."""
        self._stop.set()
        self._thread.join()
        return max(self.peak, rss_anon_bytes())


def mib(n: float) -> str:
    """Bytes as MiB text."""
    return f"{n / 2**20:.0f} MiB" if math.isfinite(n) else "n/a"
