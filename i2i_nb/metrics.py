"""Image quality metrics on channel-last numpy arrays, in float64 and raw target units.

:func:`image_metrics` scores a prediction block by block (arrays larger than memory can
be scored) in one pass: squared and absolute errors and the first and second moments of
prediction and target (:class:`Moments`) give PSNR, MSE, MAE, NRMSE, Pearson's r and
scale-invariant PSNR; each SSIM block is read with the window's neighbours, so every
number is the whole image's.  :func:`fit_channels` and :class:`AffineChannels` build the
identity baseline when input and target channel counts differ.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from skimage.metrics import structural_similarity

from i2i_nb.config.test import DEFAULT_METRICS, METRICS  # the names live in the config


def _pair(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if pred.shape != gt.shape:
        raise ValueError(f"prediction {pred.shape} and ground truth {gt.shape} differ in shape")
    return np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64)


def data_range(gt: np.ndarray) -> float:
    """BiaPy 3.7.1's data range ``max(gt) - min(0, min(gt))``; 1.0 when that is 0.

    No copy of ``gt`` is made (it may be a memory map)."""
    rng = float(np.max(gt)) - min(0.0, float(np.min(gt)))
    return rng if rng > 0 else 1.0


_biapy_range = data_range  # ``data_range`` is shadowed by the parameters below


def _db(peak: float, mse: float) -> float:
    return float("inf") if mse <= 0 else float(10 * np.log10(peak**2 / mse))


def mae(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean absolute error."""
    pred, gt = _pair(pred, gt)
    return float(np.mean(np.abs(pred - gt)))


def psnr(pred: np.ndarray, gt: np.ndarray, data_range: float | None = None) -> float:
    """Peak signal-to-noise ratio in dB (``inf`` when identical); range defaults to BiaPy's."""
    pred, gt = _pair(pred, gt)
    rng = _biapy_range(gt) if data_range is None else float(data_range)
    return _db(rng, float(np.mean((pred - gt) ** 2)))


def ssim(pred: np.ndarray, gt: np.ndarray, ndim: int, data_range: float | None = None) -> float:
    """Mean structural similarity of ``(*spatial, C)`` arrays (skimage, uniform window).

    The window is 7 pixels, shrunk to the largest odd size <= the smallest spatial extent;
    images with an extent < 3 are refused.
    """
    pred, gt = _pair(pred, gt)
    if gt.ndim != ndim + 1:
        raise ValueError(f"expected channel-last {ndim}D arrays, got shape {gt.shape}")
    win = _ssim_window(gt.shape)
    rng = _biapy_range(gt) if data_range is None else float(data_range)
    return float(structural_similarity(pred, gt, win_size=win, data_range=rng, channel_axis=-1))


def _ssim_window(shape: tuple[int, ...]) -> int:
    """The SSIM window of :func:`ssim` for a ``(*spatial, C)`` shape."""
    smallest = min(shape[:-1])
    if smallest < 3:
        raise ValueError(f"SSIM needs every spatial extent >= 3, got {shape[:-1]}")
    return min(7, smallest - (1 - smallest % 2))


@dataclass
class Moments:
    """Float64 running sums of a prediction ``p`` against a target ``g``, all values pooled.

    Values are shifted by ``shift_p`` and ``shift_g`` before squaring (the first block's
    means when not given), which keeps the variances of offset data (uint16 with a camera
    offset) exact.  :meth:`to_list` / :meth:`from_list` carry the sums across processes
    (equal shifts needed).
    """

    shift_p: float | None = None
    shift_g: float | None = None
    sums: np.ndarray = field(default_factory=lambda: np.zeros(8))  # n p g pp gg pg sq abs
    low: float = math.inf
    high: float = -math.inf

    def add(self, p: np.ndarray, g: np.ndarray) -> None:
        """Add a block of prediction and target values (any equal shapes)."""
        p, g = _pair(p, g)
        if self.shift_p is None or self.shift_g is None:
            self.shift_p, self.shift_g = float(p.mean()), float(g.mean())
        diff = p - g
        p, g = p - self.shift_p, g - self.shift_g
        self.sums += [p.size, p.sum(), g.sum(), np.sum(p * p), np.sum(g * g), np.sum(p * g),
                      np.sum(diff * diff), np.sum(np.abs(diff))]
        if g.size:
            self.low = min(self.low, float(g.min()) + self.shift_g)
            self.high = max(self.high, float(g.max()) + self.shift_g)

    def to_list(self) -> list[float]:
        """The sums as plain floats (for a reduction across processes)."""
        return [float(v) for v in self.sums]

    def central(self) -> tuple[float, float, float, float, float]:
        """``n``, mean of g, variance of p, variance of g and their covariance."""
        n, sp, sg, spp, sgg, spg = self.sums[:6]
        n = max(float(n), 1.0)
        mp, mg = sp / n, sg / n
        return (n, float(mg + (self.shift_g or 0.0)), max(0.0, spp / n - mp * mp),
                max(0.0, sgg / n - mg * mg), spg / n - mp * mg)

    def values(self, peak: float) -> dict[str, float]:
        """PSNR and SI-PSNR (range ``peak``), Pearson's r, MAE, MSE and NRMSE.

        SI-PSNR is the PSNR of ``a * p + b`` fitted to ``g`` by least squares (its error is
        ``var(g) - cov(p, g)**2 / var(p)``); NRMSE is the RMSE over ``max(g) - min(g)``
        (scikit-image's ``min-max``); Pearson's r is NaN when either image is constant.
        """
        n, _, var_p, var_g, cov = self.central()
        mse = float(self.sums[6] / n)
        fitted = var_g - cov * cov / var_p if var_p > 0 else var_g
        spread = self.high - self.low
        return {"psnr": _db(peak, mse), "si_psnr": _db(peak, max(0.0, fitted)),
                "pcc": float(cov / math.sqrt(var_p * var_g)) if var_p > 0 and var_g > 0
                else math.nan, "mae": float(self.sums[7] / n), "mse": mse,
                "nrmse": math.sqrt(mse) / spread if spread > 0 else math.nan}


def image_metrics(pred: np.ndarray, gt: np.ndarray, metrics: Sequence[str] = DEFAULT_METRICS,
                  max_bytes: int = 64 << 20) -> dict[str, float]:
    """``metrics`` (of :data:`METRICS`) of a channel-last prediction, in float64 blocks along
    the first axis, with BiaPy's data range of ``gt`` for PSNR, SI-PSNR and SSIM.

    ``pred`` and ``gt`` may be memory maps or any array-like with ``shape`` whose slices
    along the first axis are arrays.  Each SSIM block is read with the window's half-width
    of neighbours on both sides, so the SSIM map of its own rows is exact and the mean over
    the map (borders cropped, as scikit-image does) is the whole image's; SSIM is computed
    only when asked for.
    """
    if tuple(pred.shape) != tuple(gt.shape):
        raise ValueError(f"prediction {pred.shape} and ground truth {gt.shape} differ in shape")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; valid: {', '.join(METRICS)}")
    rng = data_range(gt)
    with_ssim = "ssim" in metrics
    win = _ssim_window(gt.shape) if with_ssim else 1
    pad = (win - 1) // 2
    n = gt.shape[0]
    moments = Moments()
    ssim_sum, ssim_count = 0.0, 0
    step = max(win, max_bytes // max(1, 8 * math.prod(gt.shape[1:])))
    for start in range(0, n, step):
        stop = min(n, start + step)
        lo, hi = max(0, start - pad), min(n, stop + pad)
        if hi - lo < win:  # a last block thinner than the window: widen it backwards
            lo = max(0, hi - win)
        g = np.asarray(gt[lo:hi], dtype=np.float64)
        p = np.asarray(pred[lo:hi], dtype=np.float64)
        own = slice(start - lo, stop - lo)
        moments.add(p[own], g[own])
        if with_ssim:
            _, ssim_map = structural_similarity(p, g, win_size=win, data_range=rng,
                                                channel_axis=-1, full=True)
            keep = slice(max(start, pad) - lo, min(stop, n - pad) - lo)
            inner = ssim_map[(keep, *(slice(pad, s - pad) for s in ssim_map.shape[1:-1]))]
            ssim_sum += float(np.sum(inner))
            ssim_count += inner.size
    values = moments.values(rng)
    if with_ssim:
        values["ssim"] = ssim_sum / ssim_count
    return {m: values[m] for m in metrics}


def crop_border(image: np.ndarray, border: Sequence[int]) -> np.ndarray:
    """A view of ``image`` without ``border[i]`` pixels at both ends of spatial axis ``i``
    (BiaPy's ``TEST.EVAL_BORDER_CROP``); no copy of a memory map is made."""
    if not border:
        return image
    if len(border) != image.ndim - 1:
        raise ValueError(f"border {tuple(border)} needs one value per spatial axis of "
                         f"{image.shape}")
    if any(2 * b >= s for b, s in zip(border, image.shape, strict=False)):
        raise ValueError(f"cropping {tuple(border)} from each border of {image.shape[:-1]} "
                         "leaves nothing")
    return image[tuple(slice(b, s - b) for b, s in zip(border, image.shape, strict=False))]


@dataclass(frozen=True)
class ChannelFit:
    """``gain * input[..., source] + offset``: the input channel that best predicts one
    target channel after an affine least-squares fit, and the share of variance it explains."""

    source: int
    gain: float
    offset: float
    r2: float


def fit_channels(x: np.ndarray, y: np.ndarray, max_bytes: int = 64 << 20) -> list[ChannelFit]:
    """For each target channel of ``y``, the input channel of ``x`` (same spatial shape) that
    predicts it best after ``a * x_i + b`` is fitted by least squares (block by block)."""
    if tuple(x.shape[:-1]) != tuple(y.shape[:-1]):
        raise ValueError(f"input {x.shape} and target {y.shape} differ in spatial shape")
    cin, cout = x.shape[-1], y.shape[-1]
    moments = [[Moments() for _ in range(cin)] for _ in range(cout)]
    n = x.shape[0]
    step = max(1, max_bytes // max(1, 8 * math.prod(x.shape[1:-1]) * (cin + cout)))
    for start in range(0, n, step):
        xb, yb = np.asarray(x[start:start + step]), np.asarray(y[start:start + step])
        for t in range(cout):
            for i in range(cin):
                moments[t][i].add(xb[..., i], yb[..., t])
    fits = []
    for t in range(cout):
        candidates = []
        for i in range(cin):
            m = moments[t][i]
            _, mean_g, var_p, var_g, cov = m.central()
            gain = cov / var_p if var_p > 0 else 0.0
            mean_p = m.sums[1] / max(m.sums[0], 1) + (m.shift_p or 0.0)
            r2 = cov * cov / (var_p * var_g) if var_p > 0 and var_g > 0 else 0.0
            candidates.append(ChannelFit(i, float(gain), float(mean_g - gain * mean_p),
                                         float(r2)))
        fits.append(max(candidates, key=lambda f: f.r2))
    return fits


def describe_fits(fits: Sequence[ChannelFit]) -> str:
    """``input ch 2 (affine fit)``; several target channels: ``input ch 2, 1 (affine fits)``."""
    sources = ", ".join(str(f.source + 1) for f in fits)
    return f"input ch {sources} (affine fit{'s' if len(fits) > 1 else ''})"


class AffineChannels:
    """The lazily computed array ``gain_t * x[..., source_t] + offset_t`` (float64): slices
    along the leading axes read only that part of ``x`` (which may be a memory map)."""

    def __init__(self, x: np.ndarray, fits: Sequence[ChannelFit]) -> None:
        self.x, self.fits = x, list(fits)
        self.shape = (*x.shape[:-1], len(self.fits))

    def __getitem__(self, key: slice | tuple) -> np.ndarray:
        block = np.asarray(self.x[key], dtype=np.float64)
        return np.stack([f.gain * block[..., f.source] + f.offset for f in self.fits], axis=-1)
