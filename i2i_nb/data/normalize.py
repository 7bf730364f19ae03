"""Intensity normalisation: per image for inputs, dataset-level for targets.

Inputs and targets often live on different intensity scales. Inputs are normalised image by
image; targets with statistics of the whole training set (:class:`DatasetScaler`), so that
predictions can be mapped back to the target's units.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from i2i_nb.data.io import dtype_max

INPUT_METHODS = ("percentile", "zero_mean_unit_variance", "div", "scale_range", "none")
TARGET_METHODS = ("percentile", "zero_mean_unit_variance", "none")
EPS = 1e-6  # a spread below this is treated as a constant image (denominator 1)
MAX_SAMPLES = 2_000_000  # values per channel pooled over images by DatasetScaler.fit


def _check_method(method: str, valid: tuple[str, ...]) -> None:
    if method not in valid:
        raise ValueError(f"unknown normalisation {method!r}; valid: {', '.join(valid)}")


def work_dtype(dtype: np.dtype | type) -> type:
    """float64 for values float32 cannot hold exactly (integers wider than 16 bits, float64),
    else float32: ``uint32`` 3e9 + 1 stays distinct from 3e9 until scaled."""
    dtype = np.dtype(dtype)
    wide = dtype.itemsize > 2 if np.issubdtype(dtype, np.integer) else dtype.itemsize > 4
    return np.float64 if wide else np.float32


def _safe(spread: np.ndarray) -> np.ndarray:
    """Replace spreads that are zero (constant image) or tiny by 1."""
    return np.where(spread > EPS, spread, 1.0)


def normalize_input(image: np.ndarray, method: str, p_low: float = 1.0,
                    p_high: float = 99.8) -> np.ndarray:
    """Normalise one channel-last image, each channel on its own.

    Parameters
    ----------
    image : numpy.ndarray
        ``(y, x, c)`` or ``(z, y, x, c)``, any real dtype; wide ones (``int32``, ``uint32``,
        ``float64``) are normalised in float64 (see :func:`work_dtype`), then cast.
    method : str
        ``"percentile"``: ``(x - p_low) / (p_high - p_low)`` with those percentiles, not
        clipped (as CARE); ``"zero_mean_unit_variance"``: ``(x - mean) / std``; ``"div"``:
        divide integer images by their dtype's maximum (floats unchanged); ``"scale_range"``:
        min-max to ``[0, 1]``; ``"none"``.
    p_low, p_high : float
        Percentiles for ``"percentile"``.

    Returns
    -------
    numpy.ndarray
        float32, same shape; constant channels give finite values.
    """
    _check_method(method, INPUT_METHODS)
    x = image.astype(work_dtype(image.dtype))
    if method in ("none", "div"):
        top = dtype_max(image.dtype) if method == "div" else None
        if top:
            x /= x.dtype.type(top)
        return x.astype(np.float32, copy=False)
    spatial = tuple(range(image.ndim - 1))
    if method == "percentile":
        offset, high = np.percentile(x, [p_low, p_high], axis=spatial, keepdims=True)
        spread = high - offset
    elif method == "zero_mean_unit_variance":
        offset = x.mean(axis=spatial, keepdims=True, dtype=np.float64)
        spread = x.std(axis=spatial, keepdims=True, dtype=np.float64)
    else:  # scale_range
        offset = x.min(axis=spatial, keepdims=True)
        spread = x.max(axis=spatial, keepdims=True) - offset
    x -= offset
    x /= _safe(spread)
    return x.astype(np.float32, copy=False)


@dataclass
class DatasetScaler:
    """Per-channel affine ``(v - offset) / scale`` fitted on a whole dataset (inputs or targets)."""

    method: str
    offset: list[float]
    scale: list[float]

    @classmethod
    def fit(cls, targets: Sequence[np.ndarray], method: str, p_low: float = 1.0,
            p_high: float = 99.8) -> "DatasetScaler":
        """Fit on channel-last training targets, pooling all images.

        Above ``MAX_SAMPLES`` values per channel, a seeded random subsample is drawn from
        each image in proportion to its size, so the result is deterministic.

        Parameters
        ----------
        targets : sequence of numpy.ndarray
            Channel-last targets with the same channel count.
        method : str
            ``"percentile"`` (offset p_low percentile, scale p_high - p_low),
            ``"zero_mean_unit_variance"`` (mean, std) or ``"none"`` (0, 1).
        p_low, p_high : float
            Percentiles for ``"percentile"``.
        """
        _check_method(method, TARGET_METHODS)
        channels = {t.shape[-1] for t in targets}
        if len(channels) != 1:
            raise ValueError(f"targets must share one channel count, got {sorted(channels)}")
        (n_channels,) = channels
        if method == "none":
            return cls(method, [0.0] * n_channels, [1.0] * n_channels)
        values = _pooled(targets, n_channels)
        if method == "percentile":
            low, high = np.percentile(values, [p_low, p_high], axis=0)
            offset, spread = low, high - low
        else:
            offset, spread = values.mean(axis=0), values.std(axis=0)
        return cls(method, [float(v) for v in offset], [float(v) for v in _safe(spread)])

    def _params(self, array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if array.shape[-1] != len(self.offset):
            raise ValueError(f"expected {len(self.offset)} channel(s) (last axis), "
                             f"got shape {array.shape}")
        return np.float32(self.offset), np.float32(self.scale)

    def forward(self, y: np.ndarray) -> np.ndarray:
        """Scale a channel-last image: ``(y - offset) / scale`` as float32.

        Wide dtypes (``int32``, ``uint32``, ``float64``...) are scaled in float64, so large
        values keep their detail and never wrap around.
        """
        self._params(y)  # checks the channel count
        work = work_dtype(y.dtype)
        offset, scale = np.asarray(self.offset, work), np.asarray(self.scale, work)
        return ((y.astype(work) - offset) / scale).astype(np.float32, copy=False)

    def inverse(self, pred: np.ndarray) -> np.ndarray:
        """Map a channel-last prediction back to target units: ``pred * scale + offset``.

        A float32 ``pred`` is changed in place (no copy of a large volume).
        """
        offset, scale = self._params(pred)
        out = pred.astype(np.float32, copy=False)
        out *= scale
        out += offset
        return out

    def to_dict(self) -> dict:
        """Plain str/float data (safe for ``torch.load(weights_only=True)`` and JSON)."""
        return {"method": str(self.method), "offset": [float(v) for v in self.offset],
                "scale": [float(v) for v in self.scale]}

    @classmethod
    def from_dict(cls, d: dict) -> "DatasetScaler":
        """Rebuild from :meth:`to_dict` output."""
        _check_method(str(d["method"]), TARGET_METHODS)
        return cls(str(d["method"]), [float(v) for v in d["offset"]],
                   [float(v) for v in d["scale"]])


def _pooled(targets: Sequence[np.ndarray], n_channels: int) -> np.ndarray:
    """``(n, c)`` float64 values of all targets, subsampled to about ``MAX_SAMPLES`` rows."""
    sizes = [t.size // n_channels for t in targets]
    total = sum(sizes)
    rng = np.random.default_rng(0)
    parts = []
    for target, size in zip(targets, sizes, strict=True):
        flat = target.reshape(-1, n_channels)
        if total > MAX_SAMPLES:
            take = max(1, round(MAX_SAMPLES * size / total))
            flat = flat[np.sort(rng.integers(0, size, take))]
        parts.append(flat.astype(np.float64))
    return np.concatenate(parts)
