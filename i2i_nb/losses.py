"""Training losses for image-to-image regression (BiaPy's MAE / MSE / SSIM)."""

from __future__ import annotations

import warnings

import torch
from pytorch_msssim import ssim
from torch import nn

from i2i_nb.config.train import LossConfig

LOSSES = ("mae", "mse", "ssim")
_ALIASES = {"mae": "mae", "l1": "mae", "mse": "mse", "ssim": "ssim"}


class MixedSSIMLoss(nn.Module):
    """``0.84 * (1 - SSIM) + 0.16 * L1`` (Zhao et al. 2017) on per-sample rescaled patches.

    Inputs are normalised, not bounded, so each sample of prediction and target is mapped
    with the *target's* min and dynamic range to ~[0, 1] (range detached, at least 1e-6) and
    SSIM uses ``data_range=1``; this equals SSIM with ``data_range`` = the target patch's
    dynamic range and matches the [0, 1] domain of the paper for both terms.  Gaussian window
    (sigma 1.5) of 11 pixels, shrunk to the largest odd size <= the smallest spatial extent
    (at least 3; an axis shorter than the window is not smoothed).
    """

    def __init__(self, ndim: int, alpha: float = 0.84) -> None:
        super().__init__()
        self.ndim = ndim
        self.alpha = alpha

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Loss of ``(N, C, *spatial)`` prediction against target, computed in float32."""
        if pred.shape != target.shape or pred.ndim != self.ndim + 2:
            raise ValueError(f"expected two equal (N, C, *{self.ndim}D) tensors, got "
                             f"{tuple(pred.shape)} and {tuple(target.shape)}")
        pred, target = pred.float(), target.float()
        dims = tuple(range(1, target.ndim))
        low = target.detach().amin(dims, keepdim=True)
        scale = (target.detach().amax(dims, keepdim=True) - low).clamp_min(1e-6)
        pred, target = (pred - low) / scale, (target - low) / scale
        smallest = min(target.shape[2:])
        win = max(3, min(11, smallest - (1 - smallest % 2)))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Skipping Gaussian Smoothing")
            similarity = ssim(pred, target, data_range=1.0, win_size=win)
        return self.alpha * (1 - similarity) + (1 - self.alpha) * (pred - target).abs().mean()


class WeightedLoss(nn.Module):
    """``sum(w_i * loss_i(pred, target))``: BiaPy's ``LOSS.TYPE`` list with ``LOSS.WEIGHTS``."""

    def __init__(self, losses: list[nn.Module], weights: list[float]) -> None:
        super().__init__()
        self.losses = nn.ModuleList(losses)
        self.weights = list(weights)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The weighted sum of every loss."""
        return sum(w * f(pred, target) for w, f in zip(self.weights, self.losses, strict=True))


def build_loss(spec: str | LossConfig, ndim: int) -> nn.Module:
    """Build a loss by name, or the weighted mix a ``LOSS`` section asks for.

    ``LOSS.WEIGHTS`` empty gives every loss of ``LOSS.TYPE`` the weight 1 / count.
    """
    if isinstance(spec, LossConfig):
        names, weights = spec.type, spec.weights or [1 / len(spec.type)] * len(spec.type)
        if len(weights) != len(names):
            raise ValueError(f"LOSS.WEIGHTS needs one weight per LOSS.TYPE ({len(names)}), "
                             f"got {weights}")
        if len(names) == 1 and weights[0] == 1:
            return build_single_loss(names[0], ndim)
        return WeightedLoss([build_single_loss(n, ndim) for n in names], weights)
    return build_single_loss(spec, ndim)


def build_single_loss(name: str, ndim: int) -> nn.Module:
    """Build a loss by name.

    Parameters
    ----------
    name : str
        ``"mae"`` (alias ``"l1"``), ``"mse"`` or ``"ssim"``, case-insensitive.
    ndim : int
        Spatial dimensions, 2 or 3.

    Returns
    -------
    nn.Module
        Callable ``loss(pred, target)`` returning a scalar.
    """
    key = _ALIASES.get(name.lower())
    if key is None:
        raise ValueError(f"unknown loss {name!r}; valid: {', '.join(LOSSES)} (or l1)")
    if ndim not in (2, 3):
        raise ValueError(f"ndim must be 2 or 3, got {ndim}")
    if key == "mae":
        return nn.L1Loss()
    if key == "mse":
        return nn.MSELoss()
    return MixedSSIMLoss(ndim)
