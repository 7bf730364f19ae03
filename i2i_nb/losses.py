"""Training losses: every image-to-image loss of BiaPy 3.7 that needs no downloaded weights.

``LOSS.TYPE`` names one loss or several, mixed with ``LOSS.WEIGHTS`` (BiaPy's default: 1
each; a weight of 0 drops its term). Each term means what it means in BiaPy:

- ``MAE`` (alias ``L1``), ``MSE``;
- ``CHARBONNIER``: ``mean(sqrt(d**2 + 1e-3**2))``, a smooth L1;
- ``PCC``: ``1 -`` Pearson's r per sample, averaged over the batch;
- ``SSIM``: ``1 - SSIM`` of prediction and target, each min-max scaled to ``[-1, 1]``
  over the batch (data range 2, Gaussian window 11, sigma 1.5; 3D patches as
  their z-slices);
- ``LAPLACIAN``: L1 between the Laplacians (4/6-neighbour kernel divided by 8/12);
- ``FFT``: radially weighted (high frequencies count more) Charbonnier magnitude of the
  difference of the centred FFTs of the first channel;
- ``RFFT``: the same on the orthonormal real FFT of both scaled to ``[-1, 1]``.

SSIM, FFT and RFFT bound the gradient they send back to the prediction (norm 0.1), as
BiaPy does, since they divide by quantities that can vanish. ``VGG`` and ``LPIPS`` need
pretrained networks that would be downloaded: they are refused with that reason.

``BCE`` and ``HINGE`` are the adversarial terms of BiaPy's GAN training (``nafnet``; see
:mod:`i2i_nb.gan`), on the discriminator's patch logits: the generator's is
``BCE(D(fake), 1)`` or ``mean(softplus(-D(fake)))``, scaled by the term's weight; the
discriminator's is ``(BCE(D(real), 0.9) + BCE(D(fake), 0)) / 2`` (one-sided label
smoothing) or ``(mean(relu(1 - D(real))) + mean(relu(1 + D(fake)))) / 2``.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from pytorch_msssim import ssim
from torch import nn

from i2i_nb.config.train import ADVERSARIAL, ALIASES, LossConfig, loss_problem


class _ClipGradient(torch.autograd.Function):
    """Identity forward; the gradient's norm is bounded (non-finite gradients become 0)."""

    @staticmethod
    def forward(ctx: object, x: torch.Tensor, max_norm: float) -> torch.Tensor:  # noqa: D102
        ctx.max_norm = max_norm
        return x.view_as(x)

    @staticmethod
    def backward(ctx: object, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # noqa: D102
        norm = grad.norm()
        if not torch.isfinite(norm):
            return torch.zeros_like(grad), None
        if norm > ctx.max_norm:
            grad = grad * (ctx.max_norm / (norm + 1e-12))
        return grad, None


def _bounded(x: torch.Tensor) -> torch.Tensor:
    return _ClipGradient.apply(x, 0.1)


def _to_unit_range(x: torch.Tensor) -> torch.Tensor:
    """Min-max scale to ``[-1, 1]`` with detached bounds."""
    low, high = x.min().detach(), x.max().detach()
    return (x - low) / (high - low + 1e-9) * 2 - 1


def _slices(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, Z, Y, X)`` as ``(N * Z, C, Y, X)``; 2D batches unchanged."""
    if x.ndim == 5:
        n, c, z, y, w = x.shape
        return x.permute(0, 2, 1, 3, 4).reshape(n * z, c, y, w)
    return x


def charbonnier(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Charbonnier loss ``mean(sqrt((pred - target)**2 + eps**2))``."""
    diff = (pred - target).float()
    return torch.sqrt(diff * diff + eps**2).mean()


def pcc(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """``1 -`` Pearson's correlation per sample, averaged over the batch."""
    p = pred.reshape(pred.shape[0], -1).float()
    t = target.reshape(target.shape[0], -1).float()
    p, t = p - p.mean(1, keepdim=True), t - t.mean(1, keepdim=True)
    r = (p * t).sum(1) / torch.sqrt((p * p).sum(1) * (t * t).sum(1) + eps)
    return (1 - r).mean()


def ssim_term(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``1 - SSIM`` on both scaled to ``[-1, 1]`` (data range 2), 3D as z-slices."""
    p, t = _slices(_to_unit_range(_bounded(pred.float()))), _slices(_to_unit_range(target.float()))
    win = max(3, min(11, min(p.shape[2:]) - (1 - min(p.shape[2:]) % 2)))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipping Gaussian Smoothing")
        return 1 - ssim(p, t, data_range=2.0, win_size=win)


def laplacian(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 distance of the Laplacians (normalised 4- or 6-neighbour kernel)."""
    ndim, channels = pred.ndim - 2, pred.shape[1]
    kernel = torch.zeros((3,) * ndim, dtype=pred.dtype, device=pred.device)
    centre = (1,) * ndim
    for axis in range(ndim):
        for side in (0, 2):
            kernel[centre[:axis] + (side,) + centre[axis + 1:]] = 1
    kernel[centre] = -2 * ndim
    kernel = (kernel / (4 * ndim)).expand(channels, 1, *kernel.shape).contiguous()
    conv = F.conv3d if ndim == 3 else F.conv2d
    return F.l1_loss(conv(pred, kernel, padding=1, groups=channels),
                     conv(target, kernel, padding=1, groups=channels))


def _radial_mask(freqs: list[torch.Tensor], eps: float) -> torch.Tensor:
    grids = torch.meshgrid(*freqs, indexing="ij")
    radius = torch.sqrt(sum(g**2 for g in grids))
    return radius / (radius.max() + eps)


def fft_highfreq(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Radially weighted Charbonnier magnitude of the centred FFT difference (channel 0)."""
    p, t = _bounded(pred[:, 0].float()), target[:, 0].float()
    dims = tuple(range(1, p.ndim))
    diff = torch.fft.fftshift(torch.fft.fftn(p, dim=dims), dim=dims) - torch.fft.fftshift(
        torch.fft.fftn(t, dim=dims), dim=dims)
    mask = _radial_mask([torch.arange(n, device=p.device) - n / 2 for n in p.shape[1:]], 1e-9)
    return (mask * torch.sqrt(diff.real**2 + diff.imag**2 + eps**2)).mean()


def rfft_highfreq(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-9) -> torch.Tensor:
    """The same on the orthonormal real FFT, both scaled to ``[-1, 1]`` (channel 0)."""
    p = _to_unit_range(_bounded(pred[:, 0].float()))
    t = _to_unit_range(target[:, 0].float())
    dims = tuple(range(1, p.ndim))
    diff = torch.fft.rfftn(p, dim=dims, norm="ortho") - torch.fft.rfftn(t, dim=dims, norm="ortho")
    sizes = p.shape[1:]
    freqs = [torch.fft.fftfreq(n, device=p.device) for n in sizes[:-1]]
    freqs.append(torch.fft.rfftfreq(sizes[-1], device=p.device))
    mask = _radial_mask(freqs, eps)
    return (mask * torch.sqrt(diff.real**2 + diff.imag**2 + eps**2)).mean()


_FUNCTIONS = {"charbonnier": charbonnier, "pcc": pcc, "ssim": ssim_term,
              "laplacian": laplacian, "fft": fft_highfreq, "rfft": rfft_highfreq}


class FunctionLoss(nn.Module):
    """A loss function as a module (its name kept for logs)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.fn = _FUNCTIONS[name]

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The loss of ``pred`` against ``target``, ``(N, C, *spatial)``."""
        if pred.shape != target.shape:
            raise ValueError(f"prediction {tuple(pred.shape)} and target "
                             f"{tuple(target.shape)} differ")
        return self.fn(pred, target)


class WeightedLoss(nn.Module):
    """``sum(w_i * loss_i(pred, target))``: BiaPy's ``LOSS.TYPE`` list with ``LOSS.WEIGHTS``."""

    def __init__(self, losses: list[nn.Module], weights: list[float]) -> None:
        super().__init__()
        self.losses = nn.ModuleList(losses)
        self.weights = list(weights)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The weighted sum of every loss."""
        return sum(w * f(pred, target) for w, f in zip(self.weights, self.losses, strict=True))


def build_single_loss(name: str, ndim: int) -> nn.Module:
    """One loss by name (case-insensitive); ``ndim`` (2 or 3) is checked."""
    problem = loss_problem(name)
    if problem is not None:
        raise ValueError(problem)
    if ndim not in (2, 3):
        raise ValueError(f"ndim must be 2 or 3, got {ndim}")
    key = ALIASES.get(name.lower(), name.lower())
    if key == "mae":
        return nn.L1Loss()
    if key == "mse":
        return nn.MSELoss()
    return FunctionLoss(key)


def build_loss(spec: str | LossConfig, ndim: int) -> nn.Module:
    """A loss by name, or the weighted mix a ``LOSS`` section asks for.

    ``LOSS.WEIGHTS`` empty gives every loss the weight 1, as BiaPy; terms of weight 0 are
    left out.
    """
    if not isinstance(spec, LossConfig):
        return build_single_loss(spec, ndim)
    weights = spec.weights or [1.0] * len(spec.type)
    if len(weights) != len(spec.type):
        raise ValueError(f"LOSS.WEIGHTS needs one weight per LOSS.TYPE ({len(spec.type)}), "
                         f"got {weights}")
    terms = [(w, n) for w, n in zip(weights, spec.type, strict=True) if w != 0]
    if not terms:
        raise ValueError(f"LOSS.WEIGHTS needs a non-zero weight, got {weights}")
    if len(terms) == 1 and math.isclose(terms[0][0], 1.0):
        return build_single_loss(terms[0][1], ndim)
    return WeightedLoss([build_single_loss(n, ndim) for _, n in terms], [w for w, _ in terms])


def split_adversarial(spec: LossConfig) -> tuple[LossConfig | None, str, float]:
    """A GAN's ``LOSS``: the reconstruction part (None when no term has a weight), the
    adversarial term's name (``bce`` or ``hinge``) and its weight."""
    weights = spec.weights or [1.0] * len(spec.type)
    kind, weight, names, kept = "", 0.0, [], []
    for name, w in zip(spec.type, weights, strict=True):
        if name.lower() in ADVERSARIAL:
            kind, weight = name.lower(), float(w)
        elif w != 0:
            names.append(name)
            kept.append(float(w))
    if kind not in ADVERSARIAL:
        raise ValueError(f"LOSS.TYPE {spec.type} has no adversarial term (BCE or HINGE)")
    return (LossConfig(names, kept) if names else None), kind, weight


def adversarial_generator_loss(kind: str, d_fake: torch.Tensor) -> torch.Tensor:
    """The generator's adversarial loss on the discriminator's logits for its output."""
    if kind == "hinge":
        return F.softplus(-d_fake).mean()
    return F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))


def adversarial_discriminator_loss(kind: str, d_real: torch.Tensor, d_fake: torch.Tensor
                                   ) -> torch.Tensor:
    """The discriminator's loss on its logits for targets (real) and predictions (fake)."""
    if kind == "hinge":
        return 0.5 * (F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean())
    real = F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, 0.9))
    fake = F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
    return (real + fake) / 2.0


def r1_penalty(d_real: torch.Tensor, real: torch.Tensor, gamma: float) -> torch.Tensor:
    """BiaPy's R1 penalty ``gamma / 2 * mean_n |d sum(D(real)) / d real_n|^2`` (``real``
    must require gradients)."""
    grads = torch.autograd.grad(d_real.sum(), real, create_graph=True)[0]
    return 0.5 * gamma * grads.reshape(grads.shape[0], -1).pow(2).sum(1).mean()


def adaptive_weight(reconstruction: torch.Tensor, adversarial: torch.Tensor,
                    last_layer: torch.Tensor) -> torch.Tensor:
    """VQGAN's adaptive adversarial weight: the norm of the reconstruction loss's gradient
    at ``last_layer`` over the adversarial loss's, clamped to [0, 1e4] (detached)."""
    rec = torch.autograd.grad(reconstruction, last_layer, retain_graph=True)[0]
    adv = torch.autograd.grad(adversarial, last_layer, retain_graph=True)[0]
    return torch.clamp(rec.norm() / (adv.norm() + 1e-4), 0.0, 1e4).detach()
