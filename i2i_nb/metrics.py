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
    smallest = min(gt.shape[:-1])
    if smallest < 3:
        raise ValueError(f"SSIM needs every spatial extent >= 3, got {gt.shape[:-1]}")
    win = min(7, smallest - (1 - smallest % 2))
    rng = _biapy_range(gt) if data_range is None else float(data_range)
    return float(structural_similarity(pred, gt, win_size=win, data_range=rng, channel_axis=-1))


def image_metrics(pred: np.ndarray, gt: np.ndarray, ndim: int) -> dict[str, float]:
    """PSNR, SSIM and MAE of a prediction, with BiaPy's data range of ``gt``."""
    rng = data_range(gt)
    return {"psnr": psnr(pred, gt, rng), "ssim": ssim(pred, gt, ndim, rng), "mae": mae(pred, gt)}



def streamed_metrics(pred: np.ndarray, gt: np.ndarray, max_bytes: int = 64 << 20
                     ) -> dict[str, float]:
    """PSNR and MAE (BiaPy's data range) of arrays too large for memory, read in blocks
    along the first axis; SSIM, which needs whole neighbourhoods, is NaN."""
    if pred.shape != gt.shape:
        raise ValueError(f"prediction {pred.shape} and ground truth {gt.shape} differ in shape")
    step = max(1, max_bytes // max(1, 8 * gt[:1].size))
    low, high, squared, absolute = np.inf, -np.inf, 0.0, 0.0
    for start in range(0, gt.shape[0], step):
        g = np.asarray(gt[start:start + step], dtype=np.float64)
        diff = np.asarray(pred[start:start + step], dtype=np.float64) - g
        low, high = min(low, float(g.min())), max(high, float(g.max()))
        squared += float(np.sum(diff * diff))
        absolute += float(np.sum(np.abs(diff)))
    rng = high - min(0.0, low)
    rng = rng if rng > 0 else 1.0
    mse = squared / gt.size
    return {"psnr": float("inf") if mse == 0 else float(10 * np.log10(rng**2 / mse)),
            "ssim": float("nan"), "mae": absolute / gt.size}
