"""Image quality metrics on channel-last numpy arrays, in float64 and raw target units."""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity


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


def mae(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean absolute error."""
    pred, gt = _pair(pred, gt)
    return float(np.mean(np.abs(pred - gt)))


def psnr(pred: np.ndarray, gt: np.ndarray, data_range: float | None = None) -> float:
    """Peak signal-to-noise ratio in dB (``inf`` when identical); range defaults to BiaPy's."""
    pred, gt = _pair(pred, gt)
    rng = _biapy_range(gt) if data_range is None else float(data_range)
    mse = float(np.mean((pred - gt) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(rng**2 / mse))


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


def image_metrics(pred: np.ndarray, gt: np.ndarray, max_bytes: int = 64 << 20
                  ) -> dict[str, float]:
    """PSNR, SSIM and MAE of a channel-last prediction with BiaPy's data range of ``gt``:
    :func:`psnr`, :func:`ssim` and :func:`mae`, computed in float64 blocks along the first
    axis, so arrays larger than memory (memory maps) can be scored.

    Each SSIM block is read with the window's half-width of neighbours on both sides, so
    the SSIM map of its own rows is exact and the mean over the map (borders cropped, as
    scikit-image does) is the whole image's.
    """
    if pred.shape != gt.shape:
        raise ValueError(f"prediction {pred.shape} and ground truth {gt.shape} differ in shape")
    rng = data_range(gt)
    win = _ssim_window(gt.shape)
    pad = (win - 1) // 2
    n = gt.shape[0]
    step = max(win, max_bytes // max(1, 8 * gt[:1].size))
    squared = absolute = ssim_sum = 0.0
    ssim_count = 0
    for start in range(0, n, step):
        stop = min(n, start + step)
        lo, hi = max(0, start - pad), min(n, stop + pad)
        if hi - lo < win:  # a last block thinner than the window: widen it backwards
            lo = max(0, hi - win)
        g = np.asarray(gt[lo:hi], dtype=np.float64)
        p = np.asarray(pred[lo:hi], dtype=np.float64)
        own = slice(start - lo, stop - lo)
        diff = p[own] - g[own]
        squared += float(np.sum(diff * diff))
        absolute += float(np.sum(np.abs(diff)))
        _, ssim_map = structural_similarity(p, g, win_size=win, data_range=rng,
                                            channel_axis=-1, full=True)
        keep = slice(max(start, pad) - lo, min(stop, n - pad) - lo)
        inner = ssim_map[(keep, *(slice(pad, s - pad) for s in ssim_map.shape[1:-1]))]
        ssim_sum += float(np.sum(inner))
        ssim_count += inner.size
    mse = squared / gt.size
    return {"psnr": float("inf") if mse == 0 else float(10 * np.log10(rng**2 / mse)),
            "ssim": ssim_sum / ssim_count, "mae": absolute / gt.size}
