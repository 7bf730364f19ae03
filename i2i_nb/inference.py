"""From files to files: normalise, predict in tiles, map back to target units, score.

Predictions are written in the training targets' intensity units: the network
works on normalised values, and its output is mapped back with the target
statistics stored in the checkpoint (:class:`~i2i_nb.data.normalize.DatasetScaler`).
They are saved as float32 by default, or clipped and rounded to ``uint16``,
``uint8`` or the training targets' dtype (``TEST.OUTPUT_DTYPE``).
"""

from __future__ import annotations

import csv
import itertools
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from i2i_nb.data.io import read_image, write_image
from i2i_nb.data.normalize import DatasetScaler, normalize_input
from i2i_nb.data.pairs import Pair
from i2i_nb.metrics import data_range, image_metrics
from i2i_nb.predict import predict_image

METRIC_FIELDS = ("file", "psnr", "ssim", "mae", "input_psnr", "input_ssim", "input_mae",
                 "data_range")


def input_normalization(kind: str, p_low: float, p_high: float, clip: bool,
                        dataset: DatasetScaler | None) -> dict[str, Any]:
    """The plain description of the input normalisation stored in checkpoints.

    With ``dataset`` (statistics of all training inputs) every image is scaled the
    same way; without it each image is normalised by its own statistics.
    """
    return {"type": kind, "p_low": p_low, "p_high": p_high, "clip": clip,
            "dataset": dataset.to_dict() if dataset is not None else None}


def normalize_like(image: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    """Normalise one input image as described by :func:`input_normalization`."""
    if spec["clip"]:
        low, high = np.percentile(image, [spec["p_low"], spec["p_high"]], axis=tuple(
            range(image.ndim - 1)), keepdims=True)
        image = np.clip(image, low[0], high[0]).astype(image.dtype, copy=False)
    if spec["dataset"] is not None:
        return DatasetScaler.from_dict(spec["dataset"]).forward(image)
    return normalize_input(image, spec["type"], spec["p_low"], spec["p_high"])


def cast_output(prediction: np.ndarray, dtype_name: str) -> np.ndarray:
    """Float32 as it is, or clipped to the integer type's range and rounded."""
    if dtype_name == "float32" or np.issubdtype(np.dtype(dtype_name), np.floating):
        return prediction.astype(np.float32, copy=False)
    info = np.iinfo(np.dtype(dtype_name))
    return np.clip(np.rint(prediction), info.min, info.max).astype(dtype_name)


def tile_settings(
    tile_shape: Sequence[int], overlap: Sequence[float], padding: Sequence[int],
    patch_shape: Sequence[int], full_image: bool,
) -> tuple[tuple[int, ...] | None, tuple[int, ...] | None]:
    """Tile shape and overlap in pixels from the ``DATA.TEST`` keys.

    No tile shape means twice the training patch size in y and x (the overlap then
    costs far less: 3x the output computed in 2D instead of 4.5x at the patch size) and
    the patch's own depth in z (deeper tiles showed an even/odd slice pattern);
    ``OVERLAP`` below 1 is a fraction of the tile, otherwise pixels; BiaPy's
    ``PADDING`` (a halo cut from each side of a tile) means an overlap of twice that.
    Neither given: the model's halo decides.
    """
    if full_image:
        return None, None
    default = [p if len(patch_shape) == 3 and axis == 0 else 2 * p
               for axis, p in enumerate(patch_shape)]  # 3D: z as deep as training patches
    tile = tuple(int(t) for t in (tile_shape or default))
    if overlap:
        pixels = (round(o * t) if o < 1 else int(o) for o, t in zip(overlap, tile, strict=True))
        return tile, tuple(pixels)
    if padding:
        return tile, tuple(2 * int(p) for p in padding)
    return tile, None


def predict_with_retry(
    model: nn.Module, image: np.ndarray, ndim: int, tta: bool, **settings: Any
) -> np.ndarray:
    """Predict (with TTA or not); when the device runs out of memory, halve the tile's
    largest axis and try again, as CSBDeep does, until a tile of one divisor is left."""
    while True:
        try:
            return (predict_tta(model, image, ndim, **settings) if tta
                    else predict_image(model, image, **settings))
        except torch.OutOfMemoryError:
            tile = list(settings["tile_shape"] or image.shape[:-1])
            axis = int(np.argmax(tile))
            divisor = model.divisor[axis]
            if tile[axis] <= divisor:
                raise
            tile[axis] = max(divisor, tile[axis] // 2 // divisor * divisor)
            warnings.warn(f"out of memory on {settings['device']}: retrying with tiles of "
                          f"{tuple(tile)} (set DATA.TEST.TILE_SHAPE to choose)", stacklevel=2)
            settings = {**settings, "tile_shape": tuple(tile)}
            if torch.cuda.is_available():
                torch.cuda.empty_cache()


def predict_tta(
    model: nn.Module, image: np.ndarray, ndim: int, **kwargs: Any
) -> np.ndarray:
    """Mean prediction over flips and 90-degree rotations (8 in 2D, 16 in 3D, as BiaPy).

    ``kwargs`` are passed to :func:`~i2i_nb.predict.predict_image`.
    """
    yx = (ndim - 2, ndim - 1)
    zflips = (False, True) if ndim == 3 else (False,)
    total = None
    variants = list(itertools.product(zflips, range(4), (False, True)))
    for zflip, turns, xflip in variants:
        view = np.flip(image, 0) if zflip else image
        view = np.rot90(view, turns, axes=yx)
        view = np.flip(view, ndim - 1) if xflip else view
        pred = predict_image(model, np.ascontiguousarray(view), **kwargs)
        pred = np.flip(pred, ndim - 1) if xflip else pred
        pred = np.rot90(pred, -turns, axes=yx)
        pred = np.flip(pred, 0) if zflip else pred
        total = pred.copy() if total is None else total + pred
    return total / len(variants)


def predict_pairs(
    model: nn.Module,
    meta: dict[str, Any],
    pairs: Sequence[Pair],
    out_dir: Path,
    tile: tuple[int, ...] | None,
    overlap: tuple[int, ...] | None,
    tiles_per_batch: int,
    device: torch.device,
    output_dtype: str = "float32",
    amp: bool = False,
    axes: tuple[str | None, str | None] = (None, None),
    tta: bool = False,
) -> list[dict[str, Any]]:
    """Predict every input of ``pairs`` into ``out_dir/<input name>`` and score it.

    With ``tta`` each prediction is the mean over flips and rotations
    (:func:`predict_tta`).

    Returns one row per input (``pair``: the index of its pair) with PSNR, SSIM and MAE
    of the prediction and of the input itself (the identity baseline) against the
    target, when there is one.
    The data range is BiaPy 3.7's ``max(gt) - min(0, min(gt))`` on raw target units.
    """
    ndim = meta["ndim"]
    scaler = DatasetScaler.from_dict(meta["target_scaler"])
    if output_dtype == "target":
        output_dtype = meta["target_dtype"]
    model.eval()
    rows = []
    inputs = [(i, path, pair.target) for i, pair in enumerate(pairs) for path in pair.inputs]
    for index, path, target_path in tqdm(inputs, desc="Predicting", unit="image"):
        raw = read_image(path, ndim, axes[0])
        normalised = normalize_like(raw, meta["input_normalization"])
        settings = {"tile_shape": tile, "overlap": overlap, "batch_size": tiles_per_batch,
                    "device": device, "amp": amp}
        prediction = predict_with_retry(model, normalised, ndim, tta, **settings)
        prediction = scaler.inverse(prediction)
        write_image(out_dir / path.name, cast_output(prediction, output_dtype), ndim)
        row: dict[str, Any] = {"file": path.name, "pair": index}
        if target_path is not None:
            target = read_image(target_path, ndim, axes[1]).astype(np.float32)
            rng = data_range(target)
            row.update(image_metrics(prediction, target, ndim), data_range=rng)
            if raw.shape == target.shape:
                identity = image_metrics(raw.astype(np.float32), target, ndim)
                row.update({f"input_{k}": v for k, v in identity.items()})
        rows.append(row)
    return rows


def mean_row(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The mean of each metric over images (NaN where no image has it)."""
    mean: dict[str, Any] = {"file": "mean"}
    for key in METRIC_FIELDS[1:]:
        values = [row[key] for row in rows if key in row]
        mean[key] = float(np.mean(values)) if values else math.nan
    return mean


def write_metrics(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """Per-image metrics and their mean as CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=METRIC_FIELDS, restval="")
        writer.writeheader()
        writer.writerows([*rows, mean_row(rows)])
