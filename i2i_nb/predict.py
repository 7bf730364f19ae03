"""Tiled whole-image inference with smooth blending, 2D and 3D in one code path.

The model must provide ``ndim``, ``divisor`` and ``halo`` (see :mod:`i2i_nb.models`).

Geometry per spatial axis (all in pixels, ``d`` = divisor):

- tile: requested size rounded up to a multiple of ``d``;
- overlap: default ``min(2 * halo, tile // 2)``; any overlap is rounded up to a multiple of
  ``d`` and capped at ``tile - d``.  Overlapping tiles are blended with a raised-cosine
  ramp over the central half of the overlap, so every pixel is dominated by tiles giving it
  >= ``overlap / 2`` (= ``halo`` by default) context and tiles with < ``overlap / 4`` context
  barely count: no seams, and no near-edge (zero-padding-corrupted) pixels in the result;
- borders are reflect-padded by half the overlap (rounded up to ``d``: border pixels get the
  ``>= overlap / 2`` context interior ones get), then up to a multiple of ``d`` and at
  least one tile;
- tile starts are multiples of ``d``, so every tile sees the same pooling grid as the whole
  image: with enough context, tiled and whole-image outputs agree;
- a network with a fixed input size (``fixed_shape``, e.g. UNETR) is always tiled at that
  size, whatever tile (or one whole-image tile) is asked for.

Models whose normalisation uses per-sample statistics (instance/group norm) or that pool
globally (RCAN's channel attention) see per-tile statistics, so tiling changes their output
slightly.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from i2i_nb.compute import autocast, cpu_layout

MANY_TILES = 64  # an image of this many tiles or more shows its progress per tile


@dataclass(frozen=True)
class TilePlan:
    """Tiling of one image: per spatial axis tile size, overlap, padding and tile starts."""

    tile: tuple[int, ...]
    overlap: tuple[int, ...]
    pad_before: tuple[int, ...]
    padded: tuple[int, ...]
    starts: tuple[tuple[int, ...], ...]

    @property
    def n_tiles(self) -> int:
        """Number of tiles."""
        return math.prod(len(s) for s in self.starts)

    @property
    def computed_voxels(self) -> int:
        """Pixels/voxels pushed through the network (``n_tiles * prod(tile)``)."""
        return self.n_tiles * math.prod(self.tile)


def _round_up(n: int, d: int) -> int:
    return -(-n // d) * d


def plan_tiles(
    spatial_shape: Sequence[int],
    tile_shape: Sequence[int] | None,
    overlap: Sequence[int] | None,
    divisor: Sequence[int],
    halo: Sequence[int],
) -> TilePlan:
    """Plan the tiles for an image (see module docstring for the rules).

    Parameters
    ----------
    spatial_shape : sequence of int
        Image size per spatial axis.
    tile_shape : sequence of int or None
        Requested tile size; ``None`` for one tile over the whole padded image.
    overlap : sequence of int or None
        Overlap between tiles (and border padding); ``None`` derives it from ``halo``.
    divisor, halo : sequence of int
        The model's ``divisor`` and ``halo``.

    Returns
    -------
    TilePlan
    """
    fields: list[list] = [[], [], [], [], []]
    for a, (n, d, h) in enumerate(zip(spatial_shape, divisor, halo, strict=True)):
        if tile_shape is None:
            o = _round_up(2 * h if overlap is None else overlap[a], d)
            pad = _round_up(o // 2, d)
            t = _round_up(n + 2 * pad, d)
        else:
            t = _round_up(max(int(tile_shape[a]), 1), d)
            o = min(2 * h, t // 2) if overlap is None else overlap[a]
            o = min(_round_up(o, d), t - d)
            pad = _round_up(o // 2, d)
        padded = _round_up(max(t, n + 2 * pad), d)
        starts = (*range(0, padded - t, t - o), padded - t)
        for field, value in zip(fields, (t, o, pad, padded, starts), strict=True):
            field.append(value)
    return TilePlan(*(tuple(f) for f in fields))


def _window(t: int, o: int) -> np.ndarray:
    """Blend weights of a length-``t`` tile whose ends overlap neighbours by ``o`` pixels.

    A raised-cosine ramp over the central half of each overlap: the outer quarter (least
    context) gets weight 1e-6 (never 0), the inner quarter weight 1.
    """
    if o == 0:
        return np.ones(t)
    context = np.minimum(np.arange(t), np.arange(t)[::-1]) + 0.5
    ramp = np.sin(0.5 * np.pi * np.clip((context - o / 4) / (o / 2), 0.0, 1.0)) ** 2
    return np.maximum(ramp, 1e-6)


@dataclass(frozen=True)
class _AxisTile:
    """One tile position along one axis."""

    source: slice  # smallest image range holding the tile's (reflected) indices
    take: np.ndarray | None  # indices into ``source``; None when the tile is ``source`` itself
    region: slice  # image range the tile's crop is added to
    crop: slice  # the tile's part inside the image
    weight: np.ndarray  # blend weights over the whole tile, normalised over tiles
    outside: tuple[int, int] = (0, 0)  # tile positions before / after the image (padding)


def _axis_tiles(n: int, t: int, o: int, pad: int, starts: Sequence[int]) -> list[_AxisTile]:
    """Per tile start on one axis: where to read, where to write, and the blend weights."""
    index = np.pad(np.arange(n), (pad, starts[-1] + t - n - pad), mode="reflect")
    window = _window(t, o)
    total = np.zeros(starts[-1] + t)
    for s in starts:
        total[s:s + t] += window
    tiles = []
    for s in starts:
        ix = index[s:s + t]
        first, last = int(ix.min()), int(ix.max()) + 1
        take = None if np.array_equal(ix, np.arange(first, first + t)) else ix - first
        lo, hi = max(s, pad), min(s + t, pad + n)
        tiles.append(_AxisTile(slice(first, last), take, slice(lo - pad, hi - pad),
                               slice(lo - s, hi - s), window / total[s:s + t],
                               (max(0, pad - s), max(0, s + t - pad - n))))
    return tiles


def _gather(image: np.ndarray, tile: Sequence[_AxisTile]) -> np.ndarray:
    """The (reflect-padded) tile of ``image``: a view inside the image, a small copy at borders."""
    view = image[tuple(a.source for a in tile)]
    for axis, a in enumerate(tile):
        if a.take is not None:
            view = view.take(a.take, axis=axis)
    return view


def _face_medians(image: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per spatial axis, the per-channel medians of the image's first and last slice."""
    faces = []
    for axis in range(image.ndim - 1):
        ends = []
        for index in (0, image.shape[axis] - 1):
            face = np.asarray(np.take(image, [index], axis=axis), dtype=np.float64)
            ends.append(np.median(face.reshape(-1, image.shape[-1]), axis=0))
        faces.append((ends[0], ends[1]))
    return faces


def _median_fill(view: np.ndarray, tile: Sequence[_AxisTile],
                 faces: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """A gathered tile with its positions outside the image set to the median of the image
    face they lie beyond (BiaPy's ``DATA.TEST.MEDIAN_PADDING``; later axes win at corners)."""
    if not any(any(a.outside) for a in tile):
        return view
    view = np.array(view, dtype=np.result_type(view.dtype, np.float32))
    for axis, a in enumerate(tile):
        before, after = a.outside
        index: list[slice] = [slice(None)] * view.ndim
        if before:
            index[axis] = slice(0, before)
            view[tuple(index)] = faces[axis][0]
        if after:
            index[axis] = slice(view.shape[axis] - after, None)
            view[tuple(index)] = faces[axis][1]
    return view


def _blend(y: torch.Tensor, batch: Sequence[Sequence[_AxisTile]]) -> torch.Tensor:
    """``y`` (``(N, C, *tile)``, float32) times each tile's blend weights, in place: one
    per-axis factor at a time, so no full-size weight array is ever made."""
    ndim = len(batch[0])
    for axis in range(ndim):
        w = torch.from_numpy(np.stack([tile[axis].weight for tile in batch]).astype(np.float32))
        y.mul_(w.to(y.device).view(len(batch), 1, *(-1 if a == axis else 1
                                                     for a in range(ndim))))
    return y


def _in_region(tiles: Sequence[_AxisTile], region: slice) -> list[_AxisTile]:
    """The tiles of one axis that add to ``region``, their ranges clipped to it and shifted
    to start at the region's start."""
    kept = []
    for a in tiles:
        lo, hi = max(a.region.start, region.start), min(a.region.stop, region.stop)
        if lo >= hi:
            continue
        crop = slice(a.crop.start + lo - a.region.start, a.crop.stop + hi - a.region.stop)
        kept.append(_AxisTile(a.source, a.take, slice(lo - region.start, hi - region.start),
                              crop, a.weight, a.outside))
    return kept


def _read_once(image: np.ndarray, axes: list[list[_AxisTile]],
               transform: Callable[[np.ndarray], np.ndarray] | None
               ) -> tuple[np.ndarray, list[list[_AxisTile]]]:
    """Read (and transform) the box every tile of ``axes`` reads from, once; return it and
    the tiles with their sources relative to it."""
    box = tuple(slice(min(a.source.start for a in tiles), max(a.source.stop for a in tiles))
                for tiles in axes)
    data = np.asarray(image[(*box, slice(None))])
    data = transform(data) if transform is not None else data
    shifted = [[_AxisTile(slice(a.source.start - b.start, a.source.stop - b.start), a.take,
                          a.region, a.crop, a.weight, a.outside) for a in tiles]
               for tiles, b in zip(axes, box, strict=True)]
    return data, shifted


def predict_image(
    model: nn.Module,
    image: np.ndarray,
    tile_shape: Sequence[int] | None,
    overlap: Sequence[int] | None = None,
    batch_size: int = 4,
    device: torch.device | str = "cpu",
    amp: bool = False,
    out: np.ndarray | None = None,
    progress: bool = False,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    region: Sequence[slice] | None = None,
    median_padding: bool = False,
) -> np.ndarray:
    """Predict a whole image tile by tile, blending overlapping tiles smoothly.

    Parameters
    ----------
    model : nn.Module
        Network with ``ndim``, ``divisor`` and ``halo``, already on ``device`` and in eval
        mode (the mode is not changed; a warning is issued in training mode).
    image : np.ndarray
        Normalised channel-last image ``(*spatial, C_in)`` (array or memmap), or a raw one
        with ``transform``.
    tile_shape : sequence of int or None
        Tile size per spatial axis (rounded up to the divisor); ``None``: one tile. A model
        with a ``fixed_shape`` is tiled at that size instead.
    overlap : sequence of int or None
        Tile overlap per axis; default ``min(2 * model.halo, tile // 2)``.
    batch_size : int
        Tiles per forward pass.
    device : torch.device or str
        Where the tiles are computed.
    amp : bool
        ``TRAIN.AMP``'s mixed precision (:func:`i2i_nb.compute.autocast`: bfloat16, or
        float16 on CUDA without it; on CPUs with native bfloat16 only). On the CPU the
        weights are channels-last meanwhile (:func:`i2i_nb.compute.cpu_layout`).
    out : np.ndarray, optional
        float32 ``(*spatial, C_out)`` array (e.g. a memmap) to write into.  Blend weights are
        pre-normalised, so ``out`` is the only accumulator: no padded copy of the input or
        of the output is ever held.
    progress : bool
        Show a progress bar over tiles.
    transform : callable, optional
        Applied to each channel-last tile read from ``image`` (e.g. the normalisation of a
        raw memory-mapped image, which is then never held whole).
    region : sequence of slice, optional
        Predict only this box of the image (block-wise prediction): the tiles that add to
        it are computed, in the same order and with the same blend weights as for the whole
        image, so the box equals that part of the whole prediction; ``out`` and the result
        have the box's shape.  The box's input (with the tiles' halo) is read once.
    median_padding : bool
        Fill the tiles' parts beyond the image with the per-channel median of the image
        face they lie beyond instead of reflecting it (BiaPy's ``DATA.TEST.MEDIAN_PADDING``;
        not with ``region``).

    Returns
    -------
    np.ndarray
        float32 ``(*spatial, C_out)`` prediction (``out`` when given).
    """
    spatial = image.shape[:-1]
    if len(spatial) != model.ndim:
        raise ValueError(f"image {image.shape} is not channel-last {model.ndim}D")
    if model.training:
        warnings.warn("predict_image: model is in training mode", stacklevel=2)
    device = torch.device(device)
    if getattr(model, "fixed_shape", None) is not None:
        tile_shape = tuple(model.fixed_shape)
    plan = plan_tiles(spatial, tile_shape, overlap, model.divisor, model.halo)
    axes = [_axis_tiles(*args) for args in zip(
        spatial, plan.tile, plan.overlap, plan.pad_before, plan.starts, strict=True)]
    faces = _face_medians(image) if median_padding else None
    if region is not None:
        if median_padding:
            raise ValueError("median_padding is not built for block-wise prediction (region)")
        region = [slice(*r.indices(n)[:2]) for r, n in zip(region, spatial, strict=True)]
        axes = [_in_region(tiles, r) for tiles, r in zip(axes, region, strict=True)]
        image, axes = _read_once(image, axes, transform)
        spatial, transform = tuple(r.stop - r.start for r in region), None
    tiles = list(product(*axes))
    cuda = device.type == "cuda"
    # one reusable input batch (pinned on CUDA); tiles are written into it channel-first
    x = torch.empty((min(batch_size, len(tiles)), image.shape[-1], *plan.tile),
                    dtype=torch.float32, pin_memory=cuda)
    buffer = x.numpy()
    layout = cpu_layout(model, device, model.ndim)
    with torch.inference_mode(), autocast(device, amp), layout, tqdm(
        total=len(tiles), disable=not progress or len(tiles) < MANY_TILES, desc="tiles",
        unit="tile", leave=False
    ) as bar:
        for first in range(0, len(tiles), batch_size):
            batch = tiles[first:first + batch_size]
            for k, tile in enumerate(batch):
                view = _gather(image, tile)
                view = view if faces is None else _median_fill(view, tile, faces)
                buffer[k] = np.moveaxis(view if transform is None else transform(view), -1, 0)
            y = model(x[:len(batch)].to(device, non_blocking=True))
            if y.shape[2:] != x.shape[2:]:
                raise ValueError(f"model changed the tile size {x.shape[2:]} -> {y.shape[2:]}")
            # the (synchronous) copy back also guarantees the input batch may be refilled
            y = _blend(y.float(), batch).movedim(1, -1).cpu().numpy()
            expected = (*spatial, y.shape[-1])
            if out is None:
                out = np.zeros(expected, dtype=np.float32)
            elif first == 0:
                if out.shape != expected or out.dtype != np.float32:
                    raise ValueError(f"out must be float32 {expected}, got {out.dtype} {out.shape}")
                out[...] = 0
            for tile, pred in zip(batch, y, strict=True):
                out[tuple(a.region for a in tile)] += pred[tuple(a.crop for a in tile)]
            bar.update(len(batch))
    return out
