"""BiaPy's ``DATA.*.FILTER_SAMPLES``: drop images or patches that meet a set of conditions."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from i2i_nb.config.data import NormalizationConfig
from i2i_nb.config.preprocess import FilterSamplesConfig
from i2i_nb.data.normalize import input_affine
from i2i_nb.data.patches import _prepare
from i2i_nb.errors import DataError

_SIGNS = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}
Place = tuple[int, list[int]]


def _stat(image: np.ndarray, stat: str) -> float:
    """``mean`` (in float64), ``min`` or ``max`` of an image."""
    return float(image.mean(dtype=np.float64) if stat == "mean" else getattr(image, stat)())


def _value(prop: str, x: np.ndarray, y: np.ndarray | None, x_range: float,
           y_range: float) -> float:
    """One property of a sample (``x_range`` / ``y_range``: max - min of the whole image)."""
    if prop in ("mean", "min", "max"):
        return _stat(x, prop)
    if y is None:
        raise DataError(f"DATA.*.FILTER_SAMPLES: the property {prop!r} needs the targets")
    if prop.startswith("target_"):
        return _stat(y, prop.removeprefix("target_"))
    diff = float(np.abs(x.astype(np.float64) - y.astype(np.float64)).sum())
    if prop == "diff_by_min_max_ratio":
        return diff * x_range
    if prop == "diff_by_target_min_max_ratio":
        return diff * y_range
    return diff


def meets(x: np.ndarray, y: np.ndarray | None, f: FilterSamplesConfig,
          x_range: float | None = None, y_range: float | None = None) -> bool:
    """Whether the sample meets every condition of any one list of ``f`` (it is dropped)."""
    x_range = float(x.max()) - float(x.min()) if x_range is None else x_range
    if y_range is None:
        y_range = float(y.max()) - float(y.min()) if y is not None else 0.0
    return any(all(_SIGNS[sign](_value(prop, x, y, x_range, y_range), value)
                   for prop, value, sign in zip(props, values, signs, strict=True))
               for props, values, signs in zip(f.props, f.values, f.signs, strict=True))


def _normalised(x: np.ndarray, y: np.ndarray | None, norm: NormalizationConfig
                ) -> tuple[np.ndarray, np.ndarray | None]:
    """``NORM_BEFORE``: each image normalised by its own statistics."""
    p = norm.perc_clip
    x = input_affine(x, norm.type, p.lower_perc, p.upper_perc)(x)
    if y is not None:
        y = input_affine(y, norm.target.type or "percentile", p.lower_perc, p.upper_perc)(y)
    return x, y


def measured(x: Any, y: Any, f: FilterSamplesConfig, norm: NormalizationConfig
              ) -> tuple[np.ndarray, np.ndarray | None]:
    """The arrays the conditions read: whole, normalised first with ``NORM_BEFORE``."""
    x, y = np.asarray(x), (np.asarray(y) if y is not None else None)
    return _normalised(x, y, norm) if f.norm_before else (x, y)


def kept_images(loaded: Sequence[tuple[Any, Any]], f: FilterSamplesConfig,
                norm: NormalizationConfig) -> list[int]:
    """Indices of the ``(input, target)`` pairs that meet no condition."""
    return [k for k, (x, y) in enumerate(loaded) if not meets(*measured(x, y, f, norm), f)]


def kept_places(loaded: Sequence[tuple[Any, Any]], places: Sequence[Place],
                patch: Sequence[int], f: FilterSamplesConfig, norm: NormalizationConfig
                ) -> list[Place]:
    """The grid patches (``(pair index, corner)``) that meet no condition; each patch's
    ``*_min_max_ratio`` uses its whole image's range (as BiaPy)."""
    prepared = _prepare([(x, y) for x, y in loaded], patch)
    current: dict[int, tuple[np.ndarray, np.ndarray | None, float, float]] = {}
    kept = []
    for k, starts in places:
        if k not in current:  # places come image by image: one image measured at a time
            x, y = measured(*prepared[k], f, norm)
            current = {k: (x, y, float(x.max()) - float(x.min()),
                           float(y.max()) - float(y.min()) if y is not None else 0.0)}
        x, y, x_range, y_range = current[k]
        window = tuple(slice(a, a + p) for a, p in zip(starts, patch, strict=True))
        if not meets(x[window], y[window] if y is not None else None, f, x_range, y_range):
            kept.append((k, starts))
    return kept


def report(key: str, before: int, after: int, what: str, allow_none: bool = False) -> None:
    """Print the counts; none left is a DataError unless ``allow_none``."""
    print(f"{key}: {after} of {before} {what} kept")
    if after == 0 and not allow_none:
        raise DataError(f"{key}: the conditions drop every one of the {before} {what}")
