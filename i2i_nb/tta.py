"""Test-time augmentation: predict every flip/rotation of an image (BiaPy's
``TEST.AUGMENTATION_GROUP``) and combine them (``TEST.AUGMENTATION_MODE``)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from torch import nn

from i2i_nb.config.test import TTA_GROUPS
from i2i_nb.predict import predict_image


def _oriented(array: np.ndarray, ndim: int, zflip: bool, turns: int, xflip: bool
              ) -> np.ndarray:
    """A flipped and rotated view of a channel-last array (no copy)."""
    view = np.flip(array, 0) if zflip else array
    view = np.rot90(view, turns, axes=(ndim - 2, ndim - 1))
    return np.flip(view, ndim - 1) if xflip else view


def tta_variants(ndim: int, group: str = "full") -> list[tuple[bool, int, bool]]:
    """The ``(zflip, turns, xflip)`` orientations of ``group``, identity first.

    ``full``/``auto``: every flip and 90-degree rotation in the y-x plane (8 in 2D, 16 in
    3D; z is never swapped with y or x). ``flips``: axis flips only (4 in 2D, 8 in 3D:
    every combination of flipping z, y and x; two turns are the y and x flips together,
    no axes are swapped). ``none``: the identity only.
    """
    group = group.lower()
    if group not in TTA_GROUPS:
        raise ValueError(f"TEST.AUGMENTATION_GROUP: {group!r} is not one of "
                         f"{', '.join(TTA_GROUPS)}")
    if group == "none":
        return [(False, 0, False)]
    turns = (0, 2) if group == "flips" else range(4)
    return list(itertools.product((False, True) if ndim == 3 else (False,), turns,
                                  (False, True)))


def predict_tta(
    model: nn.Module, image: np.ndarray, ndim: int, out: np.ndarray | None = None,
    scratch: np.ndarray | None = None, mode: str = "mean", group: str = "full",
    **kwargs: Any
) -> np.ndarray:
    """Prediction over the orientations of ``group`` (:func:`tta_variants`, BiaPy's
    ``TEST.AUGMENTATION_GROUP``: flips and 90-degree rotations, 8 in 2D and 16 in 3D, by
    default) combined by ``mode``: their ``mean`` (default), ``min`` or ``max`` per voxel
    (BiaPy's ``TEST.AUGMENTATION_MODE``).

    Each variant is predicted from a flipped/rotated view of ``image`` straight into the
    same view of ``scratch``, so it lands in the image's own orientation, and is added to
    ``out``.  Both may be memory maps (default: arrays in memory).  ``kwargs`` are passed
    to :func:`~i2i_nb.predict.predict_image`.
    """
    variants = tta_variants(ndim, group)
    out = predict_image(model, image, out=out, **kwargs)
    if len(variants) > 1:
        scratch = np.empty_like(out) if scratch is None else scratch
    for variant in variants[1:]:
        predict_image(model, _oriented(image, ndim, *variant),
                      out=_oriented(scratch, ndim, *variant), **kwargs)
        if mode == "mean":
            out += scratch
        else:
            (np.minimum if mode == "min" else np.maximum)(out, scratch, out=out)
    if mode == "mean" and len(variants) > 1:
        out /= len(variants)
    return out
