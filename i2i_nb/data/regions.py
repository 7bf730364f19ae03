"""Validation from a region of every training image, for data sets of very few images.

With one training image, holding whole images out leaves nothing to validate on (and no
quality check). :func:`split_regions` instead keeps the end of every image along its
longest spatial axis for validation and trains on the rest, so that training sees every
image and the validation patches never overlap training patches (``DATA.VAL.SPLIT_BY:
region``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from i2i_nb.config.data import ValDataConfig
from i2i_nb.data.io import DiskImage

Loaded = list[tuple[np.ndarray, np.ndarray]]


class DiskRegion(DiskImage):
    """A box of an image left on disk: a memory-mapped view, reopened by path when pickled."""

    def __init__(self, path: Path, ndim: int, axes: str | None, box: tuple[slice, ...]
                 ) -> None:
        super().__init__(path, ndim, axes)
        self.box = box
        self.array = self.array[box]

    def __reduce__(self) -> tuple:
        return DiskRegion, (self.path, self.workflow_ndim, self.axes, self.box)


def _view(image: np.ndarray, box: tuple[slice, ...]) -> np.ndarray:
    if isinstance(image, DiskImage):
        return DiskRegion(image.path, image.workflow_ndim, image.axes, box)
    return image[box]


def region_split_chosen(val: ValDataConfig) -> bool:
    """Whether validation comes from a region of every training image: ``DATA.VAL.SPLIT_BY:
    region`` with a ``SPLIT_TRAIN`` share, and no ``CROSS_VAL``."""
    return val.split_by.lower() == "region" and val.split_train > 0 and not val.cross_val


def region_split_axis(shape: Sequence[int], patch: Sequence[int], fraction: float
                      ) -> tuple[int, int] | None:
    """The spatial axis (the longest) and the length kept for validation at its end: the
    ``fraction`` of it, at least one patch; None when the image is shorter than two
    patches along that axis."""
    spatial = list(shape[: len(patch)])
    axis = int(np.argmax(spatial))
    keep = max(int(patch[axis]), math.ceil(fraction * spatial[axis]))
    return (axis, keep) if spatial[axis] - keep >= patch[axis] else None


def split_regions(loaded: Loaded, fraction: float, patch: Sequence[int]
                  ) -> tuple[Loaded, Loaded] | None:
    """Training and validation pairs: the end of every image along its longest spatial axis
    (:func:`region_split_axis`) for validation, the rest for training; views, no copies.

    None when some image is too short to split (fewer than two patches along that axis).
    """
    plans = [region_split_axis(x.shape, patch, fraction) for x, _ in loaded]
    if not loaded or any(plan is None for plan in plans):
        return None
    train, val = [], []
    for (x, y), (axis, keep) in zip(loaded, plans, strict=True):
        cut = x.shape[axis] - keep
        head = tuple(slice(0, cut) if a == axis else slice(None) for a in range(axis + 1))
        tail = tuple(slice(cut, None) if a == axis else slice(None) for a in range(axis + 1))
        train.append((_view(x, head), _view(y, head)))
        val.append((_view(x, tail), _view(y, tail)))
    return train, val
