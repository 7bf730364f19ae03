"""A lazy nearest-neighbour zoom of a channel-last image (``DATA.PREPROCESS.ZOOM``).

The zoom is ``scipy.ndimage.zoom`` of order 0 (BiaPy's) applied to the whole image: each
spatial axis of ``n`` voxels becomes ``round(n * factor)``, voxel ``j`` of it holding the
input voxel scipy maps it to. The view reads only the input that a slice covers, so a big
image on disk is zoomed block by block, and every block agrees with the whole zoomed image.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.ndimage import zoom as ndi_zoom

from i2i_nb.data.io.lazy import ArrayView
from i2i_nb.errors import DataError


def zoom_indices(size: int, factor: float) -> np.ndarray:
    """The input voxel of each output voxel of ``scipy.ndimage.zoom`` (order 0, mode
    ``nearest``) along one axis of ``size`` voxels."""
    if factor == 1:
        return np.arange(size, dtype=np.int64)
    source = ndi_zoom(np.arange(size, dtype=np.float64), float(factor), order=0, mode="nearest")
    return source.astype(np.int64)


def zoomed_shape(spatial: Sequence[int], factors: Sequence[float]) -> tuple[int, ...]:
    """``round(size * factor)`` per axis (scipy's and BiaPy's output size)."""
    return tuple(int(round(n * f)) for n, f in zip(spatial, factors, strict=True))


class ZoomedView(ArrayView):
    """``(*spatial, c)`` nearest-neighbour zoom of ``source`` by ``factors`` (one per
    spatial axis), read lazily.

    Supports integer and slice keys (steps included), ``...``, and coordinate selection (a
    tuple of integer arrays, one per spatial axis), like
    :class:`~i2i_nb.data.io.lazy.ChannelLastView`.
    """

    def __init__(self, source: Any, factors: Sequence[float]) -> None:
        spatial = tuple(source.shape[:-1])
        if len(factors) != len(spatial):
            raise ValueError(f"{len(factors)} zoom factors for a {len(spatial)}D image")
        self.source, self.factors = source, tuple(float(f) for f in factors)
        self.maps = [zoom_indices(n, f) for n, f in zip(spatial, self.factors, strict=True)]
        self.shape = (*(len(m) for m in self.maps), source.shape[-1])
        self.dtype = np.dtype(source.dtype)


    def __getitem__(self, key: object) -> np.ndarray:
        items = self._normalise(key)
        spatial, channel = items[:-1], items[-1]
        if all(isinstance(k, np.ndarray) for k in spatial):
            coords = tuple(m[np.asarray(k, dtype=np.int64)]
                           for m, k in zip(self.maps, spatial, strict=True))
            values = np.asarray(self.source[coords])
            return values[:, channel]
        if any(isinstance(k, np.ndarray | list) for k in items):
            raise IndexError("only slices, integers or one integer array per spatial axis")
        picks = [m[k] for m, k in zip(self.maps, spatial, strict=True)]
        box = tuple(slice(int(np.min(p)), int(np.max(p)) + 1) if np.size(p) else slice(0, 0)
                    for p in picks)
        block = np.asarray(self.source[(*box, slice(None))])
        local = [np.atleast_1d(p) - b.start for p, b in zip(picks, box, strict=True)]
        out = block[np.ix_(*local, np.arange(block.shape[-1]))] if block.size else \
            np.empty((*(len(x) for x in local), block.shape[-1]), self.dtype)
        drop = tuple(0 if isinstance(k, int | np.integer) else slice(None) for k in spatial)
        return out[drop][..., channel]

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        return np.asarray(self[...], dtype=dtype)


def zoom_pair(raw: np.ndarray, target: np.ndarray | None, factors: Sequence[float],
              target_path: Path | None) -> tuple[ZoomedView, ZoomedView | None]:
    """An input and its target (of the input's size, as BiaPy needs) zoomed alike."""
    if target is not None and target.shape[:-1] != raw.shape[:-1]:
        raise DataError(f"{target_path}: DATA.PREPROCESS.ZOOM zooms the target as its input, "
                        f"so it needs the input's size {raw.shape[:-1]}, not "
                        f"{target.shape[:-1]}")
    return (ZoomedView(raw, factors),
            ZoomedView(target, factors) if target is not None else None)
