"""A channel-last view of an array stored in another axis order (Zarr, HDF5), read lazily.

Slicing the view reads only what the slice covers; the few numpy functions the engine
calls on whole images (``np.max``, ``np.min``, ``np.asarray``) work block by block or
load the image.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from i2i_nb.data.io.axes import Layout
from i2i_nb.data.io.common import slab_ranges


class ArraySource(Protocol):
    """What the view needs of a stored array: ``shape``, ``dtype``, basic slicing."""

    shape: tuple[int, ...]
    dtype: np.dtype

    def __getitem__(self, key: tuple) -> np.ndarray: ...


class ArrayView:
    """What the lazy views share: ``shape`` and ``dtype`` (set by the subclass), numpy's
    size attributes, and keys completed to one entry per axis."""

    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def ndim(self) -> int:
        """Dimensions of the view (spatial + 1)."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of values."""
        return int(np.prod(self.shape))

    @property
    def nbytes(self) -> int:
        """Bytes of the whole view in memory."""
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def reshape(self, *shape: int) -> np.ndarray:
        """The whole view in memory, reshaped (used on small images only)."""
        return np.asarray(self).reshape(*shape)

    def max(self, axis: None = None, out: None = None, **_: object) -> np.generic:
        """Maximum over all values, block by block."""
        return max(np.max(np.asarray(self[b])) for b in slab_ranges(self))

    def min(self, axis: None = None, out: None = None, **_: object) -> np.generic:
        """Minimum over all values, block by block."""
        return min(np.min(np.asarray(self[b])) for b in slab_ranges(self))

    def _normalise(self, key: object) -> list[Any]:
        items = list(key) if isinstance(key, tuple) else [key]
        if any(k is Ellipsis for k in items):
            at = items.index(Ellipsis)
            items[at:at + 1] = [slice(None)] * (self.ndim - len(items) + 1)
        if len(items) > self.ndim:
            raise IndexError(f"too many indices for a view of shape {self.shape}")
        return items + [slice(None)] * (self.ndim - len(items))


class ChannelLastView(ArrayView):
    """``(*spatial, c)`` view of ``source`` whose stored axes are ``layout.letters``.

    Supports integer and slice keys (steps included), ``...``, and coordinate selection
    (a tuple of integer arrays, one per spatial axis, as :func:`numpy.unravel_index` gives;
    read block by block along the first axis).
    """

    def __init__(self, source: ArraySource, layout: Layout) -> None:
        self.source, self.layout = source, layout
        self._letters = layout.letters
        stored = dict(zip(self._letters, source.shape, strict=True))
        spatial = [stored[a] for a in "ZYX"[-layout.ndim:]]
        self.shape = (*spatial, stored.get("C", 1))
        self.dtype = np.dtype(source.dtype)


    def _read(self, items: Sequence[Any]) -> np.ndarray:
        """Basic indexing: read the stored block, then move the axes to channel-last."""
        view_axes = "ZYX"[-self.layout.ndim:] + "C"
        by_letter = dict(zip(view_axes, items, strict=True))
        if "C" not in self._letters and not isinstance(by_letter["C"], slice):
            if by_letter["C"] not in (0, -1):
                raise IndexError(f"channel index {by_letter['C']} out of range (1 channel)")
        stored_key = tuple(0 if a == "T" else by_letter[a] for a in self._letters)
        block = np.asarray(self.source[stored_key])
        kept = [a for a in self._letters if a != "T" and not isinstance(by_letter[a], int
                                                                          | np.integer)]
        if "C" not in self._letters and isinstance(by_letter["C"], slice):
            block, kept = block[..., np.newaxis][..., by_letter["C"]], [*kept, "C"]
        wanted = [a for a in view_axes if a in kept]
        return np.transpose(block, [kept.index(a) for a in wanted])

    def __getitem__(self, key: object) -> np.ndarray:
        items = self._normalise(key)
        spatial = items[:self.layout.ndim]
        if spatial and all(isinstance(k, np.ndarray) for k in spatial):
            return self._coordinates(spatial, items[self.layout.ndim])
        if any(isinstance(k, np.ndarray | list) for k in items):
            raise IndexError("only slices, integers or one integer array per spatial axis")
        return self._read(items)

    def _coordinates(self, coords: Sequence[np.ndarray], channel: object) -> np.ndarray:
        """Values at the points ``coords``, reading one block of the first axis at a time."""
        coords = [np.asarray(c, dtype=np.int64) for c in coords]
        out = np.empty((len(coords[0]), self.shape[-1]), dtype=self.dtype)
        first = coords[0]
        for block in slab_ranges(self):
            start, stop = block.start, min(block.stop, self.shape[0])
            inside = np.flatnonzero((first >= start) & (first < stop))
            if not len(inside):
                continue
            low = [int(c[inside].min()) for c in coords[1:]]
            high = [int(c[inside].max()) + 1 for c in coords[1:]]
            data = self._read([slice(start, stop), *(slice(a, b) for a, b in
                                                      zip(low, high, strict=True)),
                               slice(None)])
            local = (first[inside] - start, *(c[inside] - a for c, a in
                                              zip(coords[1:], low, strict=True)))
            out[inside] = data[local]
        return out[:, channel] if not (isinstance(channel, slice) and channel == slice(None)) \
            else out

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        return np.asarray(self._read([slice(None)] * self.ndim), dtype=dtype)

    def __reduce__(self) -> tuple:
        return ChannelLastView, (self.source, self.layout)
