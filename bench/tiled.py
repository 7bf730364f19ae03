"""Section ``tiled``: ``predict_image`` over a whole image against the bare forward passes.

Baseline: the same number of forward passes of the same model on tiles of the same shape,
batched the same (``TEST.TILES_PER_BATCH``), on a batch already on the device: no
gathering, padding, copies or blending.  Ratio: predict_image time / baseline time.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from bench.common import Row, Sizes, default_model, device, interleaved, random_image, synchronize
from i2i_nb.config import Config
from i2i_nb.predict import TilePlan, plan_tiles, predict_image
from i2i_nb.stepper import autocast


def bare_forwards(model: nn.Module, plan: TilePlan, batch: int, dev: torch.device, amp: bool
                  ) -> Callable[[], None]:
    """The forward passes ``predict_image`` makes for ``plan``, on a resident batch."""
    x = torch.randn(batch, 1, *plan.tile, device=dev)
    sizes = [min(batch, plan.n_tiles - first) for first in range(0, plan.n_tiles, batch)]

    def run() -> None:
        with torch.inference_mode(), autocast(dev, amp):
            for n in sizes:
                model(x[:n])
        synchronize(dev)

    return run


def case(ndim: int, sz: Sizes, tile: tuple[int, ...], amp: bool = False) -> Row:
    """One image size and tile: predict_image / bare forwards, and the computed-voxel factor."""
    dev = device()
    model = default_model(ndim, sz.patch[ndim]).to(dev).eval()
    image = random_image((*sz.infer_image[ndim], 1))
    batch = Config().test.tiles_per_batch
    plan = plan_tiles(image.shape[:-1], tile, None, model.divisor, model.halo)

    def ours() -> None:
        predict_image(model, image, tile, None, batch, dev, amp)

    r = interleaved(ours, bare_forwards(model, plan, batch, dev, amp), sz.rounds)
    computed = plan.computed_voxels / math.prod(image.shape[:-1])
    name = f"{ndim}D {image.shape[:-1]} tile {plan.tile} overlap {plan.overlap}"
    return Row("tiled", name + (" AMP" if amp else ""), str(r), "<= 1.15",
               f"computed/output voxels {computed:.2f}, {plan.n_tiles} tiles, "
               f"{r.candidate_s:.2f} s")


def run(sz: Sizes) -> list[Row]:
    """Default tile (the training patch) and a larger one, 2D and 3D (and AMP on CUDA)."""
    rows = []
    for ndim in (2, 3):
        for tile in (sz.patch[ndim], sz.big_tile[ndim]):
            rows.append(case(ndim, sz, tile))
            if device().type == "cuda":
                rows.append(case(ndim, sz, tile, amp=True))
    return rows
