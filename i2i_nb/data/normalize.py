"""Intensity normalisation: per-channel affine maps fitted on one image or a whole dataset.

Inputs and targets often live on different intensity scales. A normalisation is a
:class:`ChannelAffine` (optional clip, then ``(v - offset) / scale`` per channel) whose
parameters come from an image's own values (:func:`input_affine`) or from all training
images pooled (:class:`DatasetScaler`), so that predictions can be mapped back to the
target's units.  Statistics are taken from the values themselves, or from a seeded
subsample of positions for images kept on disk (never loaded whole).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from i2i_nb.data.io import dtype_max

INPUT_METHODS = ("percentile", "zero_mean_unit_variance", "div", "scale_range", "none")
TARGET_METHODS = ("percentile", "zero_mean_unit_variance", "div", "scale_range", "none")
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


def channel_values(image: np.ndarray, take: int | None = None,
                   rng: np.random.Generator | None = None) -> np.ndarray:
    """``(n, c)`` values of a channel-last image, in its own dtype.

    All values, or ``take`` random positions (sorted, drawn with ``rng``) read one by one,
    so that a memory-mapped image is never loaded whole.
    """
    spatial = image.shape[:-1]
    size = int(np.prod(spatial))
    if take is None or take >= size:
        return np.reshape(image, (size, image.shape[-1]))
    rng = rng or np.random.default_rng(0)
    flat = np.sort(rng.integers(0, size, take))
    return np.asarray(image[np.unravel_index(flat, spatial)])


@dataclass(frozen=True)
class ChannelAffine:
    """Per channel: clip to ``[low, high]`` (when given), then ``(v - offset) / scale``.

    Computed in :func:`work_dtype` of the input (float64 for wide types), returned as
    float32; applies to a whole image or to any crop of it.
    """

    offset: np.ndarray
    scale: np.ndarray
    low: np.ndarray | None = None
    high: np.ndarray | None = None

    def __call__(self, image: np.ndarray) -> np.ndarray:
        if image.shape[-1] != len(self.offset):
            raise ValueError(f"expected {len(self.offset)} channel(s) (last axis), "
                             f"got shape {image.shape}")
        work = work_dtype(image.dtype)
        x = np.array(image, dtype=work)
        if self.low is not None:
            np.clip(x, self.low.astype(work), self.high.astype(work), out=x)
        x -= self.offset.astype(work)
        x /= self.scale.astype(work)
        return x.astype(np.float32, copy=False)


def affine_from_values(values: np.ndarray, dtype: np.dtype | type, method: str,
                       p_low: float = 1.0, p_high: float = 99.8,
                       clip: tuple[float, float] | None = None) -> ChannelAffine:
    """The normalisation ``method`` fitted on ``(n, c)`` values of an image of ``dtype``.

    ``clip`` (lower and upper percentiles) clips the values first; the statistics are
    then those of the clipped values.  See :func:`normalize_input` for the methods.
    """
    _check_method(method, INPUT_METHODS)
    x = values.astype(work_dtype(dtype))
    low = high = None
    if clip is not None:
        low, high = np.percentile(x, clip, axis=0)
        x = np.clip(x, low, high)
    channels = x.shape[-1]
    if method in ("none", "div"):
        top = dtype_max(dtype) if method == "div" else None
        offset, spread = np.zeros(channels), np.full(channels, top or 1.0)
    elif method == "percentile":
        offset, high_p = np.percentile(x, [p_low, p_high], axis=0)
        spread = high_p - offset
    elif method == "zero_mean_unit_variance":
        offset, spread = x.mean(axis=0, dtype=np.float64), x.std(axis=0, dtype=np.float64)
    else:  # scale_range
        offset = x.min(axis=0)
        spread = x.max(axis=0) - offset
    if clip is not None:
        low, high = np.asarray(low, np.float64), np.asarray(high, np.float64)
    return ChannelAffine(np.asarray(offset, np.float64), _safe(np.asarray(spread, np.float64)),
                         low, high)


def input_affine(image: np.ndarray, method: str, p_low: float = 1.0, p_high: float = 99.8,
                 clip: tuple[float, float] | None = None, take: int | None = None
                 ) -> ChannelAffine:
    """The per-image normalisation of ``image`` (all its values, or ``take`` positions)."""
    return affine_from_values(channel_values(image, take), image.dtype, method, p_low, p_high,
                              clip)


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
    return input_affine(image, method, p_low, p_high)(image)


@dataclass
class DatasetScaler:
    """Per-channel affine ``(v - offset) / scale`` fitted on a whole dataset (inputs or targets).

    ``mean`` is the per-channel mean of the values it was fitted on (the constant baseline
    of the metrics); None for statistics stored before it was kept.
    """

    method: str
    offset: list[float]
    scale: list[float]
    low: list[float] | None = None
    high: list[float] | None = None
    mean: list[float] | None = None

    @classmethod
    def fit(cls, targets: Sequence[np.ndarray], method: str, p_low: float = 1.0,
            p_high: float = 99.8) -> "DatasetScaler":
        """Fit on channel-last training targets, pooling all images.

        Above ``MAX_SAMPLES`` values per channel, a seeded random subsample is drawn from
        each image in proportion to its size, so the result is deterministic (and an
        image left on disk is read at those positions only).

        Parameters
        ----------
        targets : sequence of numpy.ndarray
            Channel-last targets with the same channel count.
        method : str
            ``"percentile"`` (offset p_low percentile, scale p_high - p_low),
            ``"zero_mean_unit_variance"`` (mean, std), ``"div"`` (0, the dtype's maximum),
            ``"scale_range"`` (minimum, maximum - minimum) or ``"none"`` (0, 1).
        p_low, p_high : float
            Percentiles for ``"percentile"``.
        """
        _check_method(method, TARGET_METHODS)
        channels = {t.shape[-1] for t in targets}
        if len(channels) != 1:
            raise ValueError(f"targets must share one channel count, got {sorted(channels)}")
        (n_channels,) = channels
        values = _pooled(targets)
        mean = [float(v) for v in values.mean(axis=0)]
        if method == "none":
            return cls(method, [0.0] * n_channels, [1.0] * n_channels, mean=mean)
        if method == "div":
            top = max(dtype_max(t.dtype) or 1.0 for t in targets)
            return cls(method, [0.0] * n_channels, [float(top)] * n_channels, mean=mean)
        if method == "percentile":
            low, high = np.percentile(values, [p_low, p_high], axis=0)
            offset, spread = low, high - low
        elif method == "scale_range":
            offset = values.min(axis=0)
            spread = values.max(axis=0) - offset
        else:
            offset, spread = values.mean(axis=0), values.std(axis=0)
        return cls(method, [float(v) for v in offset], [float(v) for v in _safe(spread)],
                   mean=mean)

    @property
    def affine(self) -> ChannelAffine:
        """The forward map as a :class:`ChannelAffine` (clipped first when ``low``/``high``)."""
        bounds = (None, None) if self.low is None or self.high is None else (
            np.asarray(self.low, np.float64), np.asarray(self.high, np.float64))
        return ChannelAffine(np.asarray(self.offset, np.float64),
                             np.asarray(self.scale, np.float64), *bounds)

    def forward(self, y: np.ndarray) -> np.ndarray:
        """Scale a channel-last image: ``(y - offset) / scale`` as float32.

        Wide dtypes (``int32``, ``uint32``, ``float64``...) are scaled in float64, so large
        values keep their detail and never wrap around.
        """
        return self.affine(y)

    def inverse(self, pred: np.ndarray) -> np.ndarray:
        """Map a channel-last prediction back to target units: ``pred * scale + offset``.

        A float32 ``pred`` is changed in place (no copy of a large volume).
        """
        if pred.shape[-1] != len(self.offset):
            raise ValueError(f"expected {len(self.offset)} channel(s) (last axis), "
                             f"got shape {pred.shape}")
        out = pred.astype(np.float32, copy=False)
        out *= np.float32(self.scale)
        out += np.float32(self.offset)
        return out

    def to_dict(self) -> dict:
        """Plain str/float data (safe for ``torch.load(weights_only=True)`` and JSON)."""
        plain = {"method": str(self.method), "offset": [float(v) for v in self.offset],
                 "scale": [float(v) for v in self.scale]}
        if self.low is not None and self.high is not None:
            plain.update(low=[float(v) for v in self.low], high=[float(v) for v in self.high])
        if self.mean is not None:
            plain["mean"] = [float(v) for v in self.mean]
        return plain

    @classmethod
    def from_dict(cls, d: dict) -> "DatasetScaler":
        """Rebuild from :meth:`to_dict` output."""
        _check_method(str(d["method"]), TARGET_METHODS)
        bounds = [[float(v) for v in d[k]] if k in d else None for k in ("low", "high")]
        mean = [float(v) for v in d["mean"]] if "mean" in d else None
        return cls(str(d["method"]), [float(v) for v in d["offset"]],
                   [float(v) for v in d["scale"]], *bounds, mean=mean)


def _pooled(images: Sequence[np.ndarray]) -> np.ndarray:
    """``(n, c)`` float64 values of all images, subsampled to about ``MAX_SAMPLES`` rows."""
    sizes = [int(np.prod(t.shape[:-1])) for t in images]
    total = sum(sizes)
    rng = np.random.default_rng(0)
    parts = [channel_values(image, max(1, round(MAX_SAMPLES * size / total))
                            if total > MAX_SAMPLES else None, rng).astype(np.float64)
             for image, size in zip(images, sizes, strict=True)]
    return np.concatenate(parts)


def input_normalization(kind: str, p_low: float, p_high: float, clip: bool,
                        dataset: DatasetScaler | None,
                        clip_values: tuple[list[float], list[float]] | None = None
                        ) -> dict[str, Any]:
    """The plain description of the input normalisation stored in checkpoints.

    With ``dataset`` (statistics of all training inputs) every image is scaled the
    same way; without it each image is normalised by its own statistics. ``clip``
    clips each image to its ``p_low``/``p_high`` percentiles first, or to the fixed
    per-channel ``clip_values`` (lower, upper) when given.
    """
    spec = {"type": kind, "p_low": p_low, "p_high": p_high, "clip": clip,
            "dataset": dataset.to_dict() if dataset is not None else None}
    if clip and clip_values is not None:
        spec["clip_values"] = [list(clip_values[0]), list(clip_values[1])]
    return spec


def input_transform(image: np.ndarray, spec: dict[str, Any], take: int | None = None
                    ) -> ChannelAffine:
    """The normalisation of one input image described by :func:`input_normalization`.

    Per-image statistics come from all of the image's values, or from ``take`` positions
    (an image left on disk); the result applies to the image or any crop of it.
    """
    clip = (spec["p_low"], spec["p_high"]) if spec["clip"] else None
    fixed = spec.get("clip_values")
    if spec["dataset"] is None:
        if fixed is None:
            return input_affine(image, spec["type"], spec["p_low"], spec["p_high"], clip, take)
        low, high = (np.asarray(v, np.float64) for v in fixed)
        values = np.clip(channel_values(image, take).astype(np.float64), low, high)
        own = affine_from_values(values, image.dtype, spec["type"], spec["p_low"],
                                 spec["p_high"])
        return ChannelAffine(own.offset, own.scale, low, high)
    dataset = DatasetScaler.from_dict(spec["dataset"]).affine
    if clip is None:
        return dataset
    if fixed is not None:
        return ChannelAffine(dataset.offset, dataset.scale,
                             *(np.asarray(v, np.float64) for v in fixed))
    bounds = input_affine(image, "none", clip=clip, take=take)
    return ChannelAffine(dataset.offset, dataset.scale, bounds.low, bounds.high)


def normalize_like(image: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    """Normalise one input image as described by :func:`input_normalization`."""
    return input_transform(image, spec)(image)
