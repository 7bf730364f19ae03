"""Section ``scaling``: time and peak memory of ``predict_image`` against the image size.

The network is the :class:`~bench.common.StandIn` (the default U-Net's tiles and overlap at
negligible cost), so the times are the engine's own and any size-dependent overhead shows:
ns per output voxel relative to the smallest size should fall (fewer border tiles) or stay
flat, ns per computed voxel should stay flat.  Peak memory is the rise of this process's
peak RSS during the call (reset through ``/proc/self/clear_refs``; n/a elsewhere).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import partial

from bench.common import Row, Sizes, StandIn, mib, peak_rss_bytes, random_image, reset_peak
from i2i_nb.config import Config
from i2i_nb.predict import plan_tiles, predict_image

TILES = {2: (128, 128), 3: (16, 64, 64)}  # the default patch sizes


def _sizes(ndim: int, sz: Sizes) -> list[int]:
    if ndim == 2:
        return [256, 512, 1024, 2048] + ([] if sz.quick else [4096])
    return [32, 64, 128] if sz.quick else [64, 128, 256, 512]


def _time(fn: Callable[[], object], min_seconds: float = 0.3, min_runs: int = 3) -> float:
    """Best time of repeated calls (at least ``min_runs``, at least ``min_seconds`` in all)."""
    best, spent, runs = math.inf, 0.0, 0
    while runs < min_runs or spent < min_seconds:
        began = time.perf_counter()
        fn()
        took = time.perf_counter() - began
        best, spent, runs = min(best, took), spent + took, runs + 1
    return best


def run(sz: Sizes) -> list[Row]:
    """One row per size: ns/output voxel relative to the smallest size, time and memory."""
    batch = Config().test.tiles_per_batch
    rows = []
    for ndim in (2, 3):
        model = StandIn(ndim, TILES[ndim]).eval()
        first = None
        for n in _sizes(ndim, sz):
            image = random_image((n,) * ndim + (1,))
            voxels = image.size
            plan = plan_tiles(image.shape[:-1], TILES[ndim], None, model.divisor, model.halo)
            call = partial(predict_image, model, image, TILES[ndim], None, batch)
            seconds = _time(call, min_runs=3 if voxels <= 1 << 24 else 1)  # 512^3: once
            rise = math.nan
            if reset_peak():
                before = peak_rss_bytes()
                call()
                rise = peak_rss_bytes() - before
            per_out, per_computed = seconds / voxels * 1e9, seconds / plan.computed_voxels * 1e9
            first = first or (per_out, per_computed)
            rows.append(Row(
                "scaling", f"{ndim}D {n}^{ndim} tile {plan.tile}: ns/voxel vs smallest",
                f"{per_out / first[0]:.2f}", "flat",
                f"{seconds:.3f} s, {per_out:.1f} ns/out voxel, per computed voxel x"
                f"{per_computed / first[1]:.2f}, computed/out {plan.computed_voxels / voxels:.2f},"
                f" peak +{mib(rise)} = {rise / voxels:.1f} B/voxel"))
    return rows
