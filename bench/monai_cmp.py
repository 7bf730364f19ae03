"""Section ``monai``: ``predict_image`` against MONAI's ``sliding_window_inference``.

Same network, image, tile (``roi_size``) and overlap (as a fraction of the tile), MONAI
with ``mode="gaussian"``; MONAI is also run on the image reflect-padded as ours pads its
borders (then cropped), so that both compute about as many voxels and give the borders
context.  The two blend differently, so each is compared with the
whole-image prediction (``predict_image(..., tile_shape=None)``): over the whole image and
over the interior (one halo away from the borders, where MONAI's zero padding does not reach).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from bench.common import Row, Sizes, default_model, device, interleaved, random_image, synchronize
from i2i_nb.config import Config
from i2i_nb.predict import plan_tiles, predict_image


def _cases(sz: Sizes) -> list[tuple[int, tuple[int, ...]]]:
    """(ndim, image shape): 2D always, 3D in full mode only (the whole-image reference of a
    3D volume padded by twice the halo is large)."""
    return [(2, sz.infer_image[2])] + ([] if sz.quick else [(3, sz.infer_image[3])])


def _compare(ndim: int, shape: tuple[int, ...], sz: Sizes, swi: Callable) -> list[Row]:
    """Rows of one image: time ratio, and each output's distance to the whole image."""
    dev = device()
    batch = Config().test.tiles_per_batch
    model = default_model(ndim, sz.patch[ndim]).to(dev).eval()
    image = random_image((*shape, 1))
    tile = sz.patch[ndim]
    plan = plan_tiles(shape, tile, None, model.divisor, model.halo)
    fraction = [o / t for o, t in zip(plan.overlap, plan.tile, strict=True)]
    tensor = torch.from_numpy(np.moveaxis(image, -1, 0)[None]).to(dev)
    computed = []

    def predictor(x: torch.Tensor) -> torch.Tensor:
        computed.append(x.shape[0] * math.prod(x.shape[2:]))
        return model(x)

    def theirs() -> np.ndarray:
        with torch.inference_mode():
            y = swi(tensor, plan.tile, batch, predictor, fraction, mode="gaussian")
        synchronize(dev)
        return np.moveaxis(y[0].float().cpu().numpy(), 0, -1)

    pads = [p for pad in reversed(plan.pad_before) for p in (pad, pad)]  # last axis first
    crop = (0, slice(None), *(slice(p, p + n) for p, n in zip(plan.pad_before, shape,
                                                              strict=True)))

    def theirs_padded() -> np.ndarray:
        padded = torch.nn.functional.pad(tensor, pads, mode="reflect")
        with torch.inference_mode():
            y = swi(padded, plan.tile, batch, predictor, fraction, mode="gaussian")
        synchronize(dev)
        return np.moveaxis(y[crop].float().cpu().numpy(), 0, -1)

    def ours() -> np.ndarray:
        return predict_image(model, image, tile, None, batch, dev)

    r = interleaved(ours, theirs, sz.rounds)
    r_padded = interleaved(ours, theirs_padded, sz.rounds)
    computed.clear()
    monai_padded = theirs_padded()
    padded_voxels = sum(computed)
    computed.clear()
    mine, monai = ours(), theirs()
    whole = predict_image(model, image, None, None, 1, dev)
    inner = tuple(slice(h, n - h) for h, n in zip(model.halo, shape, strict=True))
    rows = [Row("monai", f"{ndim}D {shape} tile {plan.tile} overlap {plan.overlap}: ours/MONAI "
                "time", str(r), "", f"computed voxels ours/MONAI "
                f"{plan.computed_voxels / sum(computed):.2f}"),
            Row("monai", f"{ndim}D ours/MONAI on the same border-padded image: time",
                str(r_padded), "<= 1 (not slower)", f"computed voxels ours/MONAI "
                f"{plan.computed_voxels / padded_voxels:.2f}")]
    for name, pred in (("ours", mine), ("MONAI", monai), ("MONAI padded", monai_padded)):
        diff = np.abs(pred - whole)
        rows.append(Row("monai", f"{ndim}D max|{name} - whole image|", f"{diff.max():.2e}", "",
                        f"interior {diff[inner].max():.2e}; whole-image output std "
                        f"{whole.std():.2e}"))
    return rows


def run(sz: Sizes) -> list[Row]:
    """Time ratio ours / MONAI and both outputs' distance to the whole-image prediction."""
    try:
        from monai.inferers import sliding_window_inference
    except ImportError:
        return [Row("monai", "skipped", "n/a", "", "MONAI is not installed (pip install monai)")]
    return [row for ndim, shape in _cases(sz)
            for row in _compare(ndim, shape, sz, sliding_window_inference)]
