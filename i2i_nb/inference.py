"""From files to files: normalise, predict in tiles, map back to target units, score.

Predictions are written in the training targets' intensity units: the network
works on normalised values, and its output is mapped back with the target
statistics stored in the checkpoint (:class:`~i2i_nb.data.normalize.DatasetScaler`).
They are saved as float32 by default, or clipped and rounded to ``uint16``,
``uint8`` or the training targets' dtype (``TEST.OUTPUT_DTYPE``).
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from i2i_nb.blockwise import BlockSettings, fingerprint, predict_file_by_blocks
from i2i_nb.data.io import (
    PixelSize,
    disk_array,
    image_on_disk,
    read_image,
    read_pixel_size,
    slab_ranges,
    split_container,
    write_image,
)
from i2i_nb.data.normalize import (
    MAX_SAMPLES,
    DatasetScaler,
    input_transform,
    normalize_like,
)
from i2i_nb.data.pairs import Pair, image_stem
from i2i_nb.data.preprocess import Preprocessor, as_rgb
from i2i_nb.data.roi import RoiMask
from i2i_nb.data.zoom import zoom_pair
from i2i_nb.distributed import SINGLE, World
from i2i_nb.metrics import DEFAULT_METRICS
from i2i_nb.metrics_table import scorer
from i2i_nb.predict import predict_image
from i2i_nb.resources import available_memory
from i2i_nb.tta import predict_tta


def cast_output(prediction: np.ndarray, dtype_name: str) -> np.ndarray:
    """Float32 as it is, or clipped to the integer type's range and rounded."""
    if dtype_name == "float32" or np.issubdtype(np.dtype(dtype_name), np.floating):
        return prediction.astype(np.float32, copy=False)
    info = np.iinfo(np.dtype(dtype_name))
    return np.clip(np.rint(prediction), info.min, info.max).astype(dtype_name)


def tile_settings(
    tile_shape: Sequence[int], overlap: Sequence[float], padding: Sequence[int],
    patch_shape: Sequence[int], full_image: bool, fixed_shape: Sequence[int] | None = None,
) -> tuple[tuple[int, ...] | None, tuple[int, ...] | None]:
    """Tile shape and overlap in pixels from the ``DATA.TEST`` keys.

    No tile shape means, in 2D, twice the training patch size (the overlap then costs
    far less: 2.25x the output computed at 1024² instead of 4x at the patch size); in 3D
    the patch's own depth in z (deeper tiles lost 0.6 dB on ``bench/quality.py``'s
    aniso_3d), so z already costs 2x, and four times the patch in y and x (4.5x computed
    in all at 128x1024², against 8x at twice the patch);
    ``OVERLAP`` below 1 is a fraction of the tile, otherwise pixels; BiaPy's
    ``PADDING`` (a halo cut from each side of a tile) means an overlap of twice that.
    Neither given: the model's halo decides. A network with a fixed input size
    (``fixed_shape``) is tiled at that size, whatever the tile shape or ``full_image``.
    """
    if fixed_shape is not None:
        tile = tuple(int(t) for t in fixed_shape)
    elif full_image:
        return None, None
    else:
        default = [2 * p for p in patch_shape] if len(patch_shape) == 2 else [
            patch_shape[0], 4 * patch_shape[1], 4 * patch_shape[2]]
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
    largest axis and try again, as CSBDeep does, until a tile of one divisor is left (a
    network with a fixed input size: halve the tiles per batch, down to one)."""
    mode = settings.pop("tta_mode", "mean")
    group = settings.pop("tta_group", "full")
    while True:
        try:
            return (predict_tta(model, image, ndim, mode=mode, group=group, **settings) if tta
                    else predict_image(model, image, **settings))
        except torch.OutOfMemoryError:
            if getattr(model, "fixed_shape", None) is not None:
                batch = settings.get("batch_size", 4)
                if batch <= 1:
                    raise
                warnings.warn(f"out of memory on {settings['device']}: retrying with "
                              f"{batch // 2} tile(s) per batch (TEST.TILES_PER_BATCH)",
                              stacklevel=2)
                settings = {**settings, "batch_size": batch // 2}
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                continue
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


def _bytes_in_memory(raw: np.ndarray, out_channels: int, tta: bool) -> int:
    """Memory the in-memory path needs for one image: the normalised input (and the copy
    normalising makes) and the prediction (and the TTA scratch); scoring reads blocks."""
    per_voxel = 8 * raw.shape[-1] + 4 * out_channels * (2 if tta else 1)
    return math.prod(raw.shape[:-1]) * per_voxel


def _predict_on_disk(
    model: nn.Module, raw: np.ndarray, meta: dict[str, Any], dest: Path, scaler: DatasetScaler,
    settings: dict, tta: bool, output_dtype: str, score: Callable[[np.ndarray], dict] | None,
    pixel_size: PixelSize | None = None, roi: RoiMask | None = None,
) -> dict[str, Any]:
    """Predict an image too large for memory: each tile normalised as it is read from the
    memory-mapped input, the prediction accumulated in a memory-mapped output file (the
    TTA scratch and an integer output's float32 copy in temporary files beside it), then
    mapped back to target units and scored block by block (the same metrics). An OME-Zarr
    ``dest`` is written from the memory-mapped result, block by block; ``roi`` zeroes the
    prediction outside its region of interest, block by block."""
    ndim = meta["ndim"]
    shape = (*raw.shape[:-1], meta["out_channels"])
    transform = input_transform(raw, meta["input_normalization"], MAX_SAMPLES)
    if tta and not isinstance(raw, np.ndarray):  # flipped views need a numpy (memory) map
        copy = disk_array(raw.shape, raw.dtype, dest.parent)
        for block in slab_ranges(raw):
            copy[block] = raw[block]
        raw = copy
    zarr_out = dest.suffix == ".zarr"
    with contextlib.ExitStack() as stack:
        if output_dtype == "float32" and not zarr_out:
            pred = stack.enter_context(image_on_disk(dest, shape, np.float32, ndim, pixel_size))
        else:
            pred = disk_array(shape, np.float32, dest.parent)
        extra = {"scratch": disk_array(shape, np.float32, dest.parent)} if tta else {}
        predict_with_retry(model, raw, ndim, tta, out=pred, transform=transform, **extra,
                           **settings)
        for block in slab_ranges(pred):
            scaler.inverse(pred[block])
            if roi is not None:
                roi.apply(pred[block], (block,))
        if output_dtype != "float32":
            with contextlib.ExitStack() as inner:
                final = (disk_array(shape, output_dtype, dest.parent) if zarr_out else
                         inner.enter_context(image_on_disk(dest, shape, output_dtype, ndim,
                                                           pixel_size)))
                for block in slab_ranges(pred):
                    final[block] = cast_output(pred[block], output_dtype)
                if zarr_out:
                    write_image(dest, final, ndim, pixel_size)
        elif zarr_out:
            write_image(dest, pred, ndim, pixel_size)
        return score(pred) if score is not None else {}


def output_name(path: Path, output_format: str, clash: bool = False) -> str:
    """The file name of an input's prediction: OME-Zarr (``<stem>.zarr``) for ``zarr``, or
    for ``auto`` and a Zarr/HDF5 input; else a TIFF of the input's own name (``.tif`` for a
    container's image). ``clash``: prefixed by the input's folder (multiple-raw samples)."""
    container = split_container(path)[0] != "tiff"
    zarr_out = output_format == "zarr" or (output_format == "auto" and container)
    if zarr_out:
        name = f"{image_stem(path)}.zarr"
    else:
        name = f"{image_stem(path)}.tif" if container else path.name
    return f"{path.parent.name}/{name}" if clash else name


def _by_blocks(model: nn.Module, raw: np.ndarray, path: Path, dest: Path, meta: dict[str, Any],
               scaler: DatasetScaler, settings: dict[str, Any], output_dtype: str,
               by_chunks: BlockSettings, world: World, checkpoint: Path | None,
               score: Callable[[np.ndarray], dict[str, Any]] | None) -> dict[str, Any]:
    """One image through :func:`~i2i_nb.blockwise.predict_file_by_blocks`."""
    transform = input_transform(raw, meta["input_normalization"], MAX_SAMPLES)
    dtype = "float32" if output_dtype == "float32" else output_dtype
    identity = fingerprint(checkpoint, path, {
        "tile": settings["tile_shape"], "overlap": settings["overlap"], "dtype": dtype,
        "normalization": meta["input_normalization"], "target": scaler.to_dict(),
        **({"zoom": list(by_chunks.zoom)} if by_chunks.zoom else {})})
    pixel_size = read_pixel_size(path, meta["ndim"])
    if by_chunks.zoom:  # the zoomed voxels are smaller by the factor
        pixel_size = PixelSize(tuple(s / f for s, f in zip(pixel_size.sizes, by_chunks.zoom,
                                                           strict=True)), pixel_size.units)
    return predict_file_by_blocks(
        model, raw, dest, by_chunks, world, ndim=meta["ndim"],
        out_channels=meta["out_channels"], transform=transform, scaler=scaler, dtype=dtype,
        cast=lambda p: cast_output(p, dtype), pixel_size=pixel_size,
        identity=identity, score=score, tiling=settings)


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
    axes: tuple[Any, Any] = (None, None),
    tta: bool = False,
    on_disk: str = "auto",
    tta_mode: str = "mean",
    metrics: Sequence[str] = DEFAULT_METRICS,
    border: Sequence[int] = (),
    output_format: str = "auto",
    by_chunks: BlockSettings | None = None,
    world: World = SINGLE,
    checkpoint: Path | None = None,
    preprocess: Preprocessor | None = None,
    median_padding: bool = False,
    force_rgb: bool = False,
    roi_mask: tuple[Path, str] | None = None,
    tta_group: str = "full",
) -> list[dict[str, Any]]:
    """Predict every input of ``pairs`` into ``out_dir/<name>`` and score it.

    Names come from :func:`output_name` (``output_format`` ``auto``, ``tiff`` or
    ``zarr``); inputs of different samples with the same file name (multiple-raw sample
    folders) are written as ``out_dir/<sample folder>/<name>``. Each prediction carries the
    input's pixel sizes (ImageJ metadata in a TIFF, NGFF ``scale`` and units in OME-Zarr).

    With ``tta`` each prediction combines the orientations of ``tta_group`` (flips and
    rotations, flips only or none: :func:`~i2i_nb.tta.tta_variants`) by ``tta_mode``
    (:func:`~i2i_nb.tta.predict_tta`).
    Images are read as memory maps (or lazy Zarr/HDF5 views) and scored block by block
    (:func:`~i2i_nb.metrics.image_metrics`); one whose prediction would not fit in half the
    available memory (``on_disk`` ``"auto"``; ``"always"``, ``"never"``) is predicted from
    disk to disk, never held whole. With ``by_chunks`` every image is predicted block by
    block into an OME-Zarr, the blocks shared among the ``world``'s ranks (every rank gets
    every pair) and recorded so that a job run again resumes (:mod:`i2i_nb.blockwise`;
    ``checkpoint`` identifies the model); only rank 0 returns rows, with metrics once every
    block of an image is done.

    Returns one row per input (``pair``: the index of its pair) with ``metrics`` of the
    prediction, of the identity baseline (``input_*``: the input itself, or the input
    channel that best predicts each target channel after an affine fit, named in
    ``identity``) and of the constant baseline (``constant_*``: the training targets'
    mean) against the target, when there is one, each cropped by ``border`` pixels at
    both ends of every spatial axis (``TEST.EVAL_BORDER_CROP``) first.
    The data range is BiaPy 3.7's ``max(gt) - min(0, min(gt))`` on raw target units.

    With ``preprocess`` (``DATA.PREPROCESS.TEST``) each input is pre-processed whole before
    normalisation and, when resized, its prediction resized back to the input's size (as
    BiaPy) before it is written and scored against the target as stored.
    ``median_padding`` (``DATA.TEST.MEDIAN_PADDING``) fills the tiles beyond the image
    borders with the border's median instead of reflecting it. ``force_rgb``
    (``DATA.FORCE_RGB``) repeats one-channel inputs and targets into three, as BiaPy.
    ``roi_mask`` (``DATA.TEST.ROI_MASK``: the path and axes of the mask, or of a folder of
    masks named as the images) sets each prediction to 0 outside its region of interest
    before it is written and scored (as BiaPy).
    """
    ndim = meta["ndim"]
    scaler = DatasetScaler.from_dict(meta["target_scaler"])
    if output_dtype == "target":
        output_dtype = meta["target_dtype"]
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    inputs = [(i, path, pair.target) for i, pair in enumerate(pairs) for path in pair.inputs]
    names = [path.name for _, path, _ in inputs]
    clash = {name for name in names if names.count(name) > 1}  # multiple-raw samples
    settings = {"tile_shape": tile, "overlap": overlap, "batch_size": tiles_per_batch,
                "device": device, "amp": amp, "tta_mode": tta_mode,
                "tta_group": tta_group, "progress": True,
                **({"median_padding": True} if median_padding else {})}
    fmt = "zarr" if by_chunks is not None else output_format
    for index, path, target_path in tqdm(inputs, desc="Predicting", unit="image",
                                         disable=not world.is_main):
        raw = read_image(path, ndim, axes[0], memmap=True)
        target = read_image(target_path, ndim, axes[1], memmap=True) if target_path else None
        name = output_name(path, fmt, path.name in clash)
        row: dict[str, Any] = {"file": name, "pair": index}
        if by_chunks is not None and by_chunks.zoom:  # DATA.PREPROCESS.ZOOM, before the rest
            raw, target = zoom_pair(raw, target, by_chunks.zoom, target_path)
        source = raw if preprocess is None else preprocess.input(raw)
        if force_rgb:
            source = as_rgb(source)
            target = as_rgb(target) if target is not None else None
        large = on_disk == "always" or on_disk == "auto" and _bytes_in_memory(
            source, meta["out_channels"], tta) > available_memory() // 2
        large = large and source.shape[:-1] == raw.shape[:-1]  # resized: restored in memory
        score = None
        if target is not None:
            score = scorer(raw, target, metrics, border, scaler.mean, target_path)
        roi = RoiMask(roi_mask[0], path, raw.shape[:-1], ndim, roi_mask[1]) if roi_mask else None
        if by_chunks is not None:
            row.update(_by_blocks(model, source, path, out_dir / name, meta, scaler, settings,
                                  output_dtype, by_chunks, world, checkpoint, score))
            print(f"{name} (rank {world.rank}): blocks {row.pop('blocks')}", flush=True)
            if not world.is_main:
                continue
            row.pop("complete")
        elif large:
            row.update(_predict_on_disk(model, source, meta, out_dir / name, scaler, settings, tta,
                                        output_dtype, score, read_pixel_size(path, ndim), roi))
        else:
            normalised = normalize_like(source, meta["input_normalization"])
            prediction = predict_with_retry(model, normalised, ndim, tta, **settings)
            prediction = scaler.inverse(prediction)
            if preprocess is not None:
                prediction = preprocess.restore(prediction, raw.shape[:-1])
            if roi is not None:
                prediction = roi.apply(prediction)
            write_image(out_dir / name, cast_output(prediction, output_dtype), ndim,
                        read_pixel_size(path, ndim))
            if score is not None:
                row.update(score(prediction))
        rows.append(row)
    return rows
