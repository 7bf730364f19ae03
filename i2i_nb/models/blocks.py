"""Shared layers: convolution, normalisation, activation and the blocks BiaPy's networks use.

``ndim`` (2 or 3) is a value: layers come from the small ``LAYERS`` lookup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F  # noqa: N812 - torch's usual name
from torch import nn

LAYERS = {
    2: {"conv": nn.Conv2d, "up": nn.ConvTranspose2d, "pool": nn.MaxPool2d,
        "gap": nn.AdaptiveAvgPool2d, "bn": nn.BatchNorm2d, "in": nn.InstanceNorm2d,
        "interp": "bilinear"},
    3: {"conv": nn.Conv3d, "up": nn.ConvTranspose3d, "pool": nn.MaxPool3d,
        "gap": nn.AdaptiveAvgPool3d, "bn": nn.BatchNorm3d, "in": nn.InstanceNorm3d,
        "interp": "trilinear"},
}
ACTIVATIONS = ("relu", "tanh", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "linear",
               "softplus", "none")
NORMALIZATIONS = ("bn", "sync_bn", "in", "gn", "ln", "none")

Kernel = int | Sequence[int]


def conv(ndim: int, cin: int, cout: int, k: Kernel = 3, bias: bool = True) -> nn.Module:
    """``same``-padded convolution (odd kernels, one per axis or one for all)."""
    ks = (k,) * ndim if isinstance(k, int) else tuple(k)
    return LAYERS[ndim]["conv"](cin, cout, ks, padding=tuple(s // 2 for s in ks), bias=bias)


class ChannelLayerNorm(nn.Module):
    """Layer normalisation over the channels at each pixel (ConvNeXt's channels-first LN)."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``(N, C, ...)`` over ``C``."""
        y = F.layer_norm(x.movedim(1, -1), (x.shape[1],), self.weight, self.bias, self.eps)
        return y.movedim(-1, 1)


def norm(kind: str, ndim: int, channels: int) -> nn.Module:
    """BiaPy's ``MODEL.NORMALIZATION``: ``bn``, ``sync_bn`` (batch norm, synchronised across
    processes when training is distributed), ``in``, ``gn``, ``ln`` or ``none``."""
    if kind in ("bn", "sync_bn"):
        return LAYERS[ndim]["bn"](channels)
    if kind == "in":
        return LAYERS[ndim]["in"](channels, affine=True)
    if kind == "gn":
        return nn.GroupNorm(math.gcd(8, channels), channels)
    if kind == "ln":
        return ChannelLayerNorm(channels)
    return nn.Identity()


def activation(name: str) -> nn.Module:
    """BiaPy's ``MODEL.ACTIVATION`` names as modules."""
    table = {"relu": nn.ReLU, "tanh": nn.Tanh, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU,
             "gelu": nn.GELU, "silu": nn.SiLU, "sigmoid": nn.Sigmoid, "softplus": nn.Softplus}
    return table[name]() if name in table else nn.Identity()


class ConvBlock(nn.Sequential):
    """``nconvs`` x (convolution, normalisation, activation, dropout), BiaPy's ConvBlock;
    ``se`` appends squeeze-and-excitation after each convolution, as BiaPy's SE-U-Net."""

    def __init__(self, ndim: int, cin: int, cout: int, k: Kernel, norm_kind: str, act: str,
                 dropout: float = 0.0, nconvs: int = 1, se: bool = False) -> None:
        layers = []
        for i in range(nconvs):
            one = [conv(ndim, cin if i == 0 else cout, cout, k), norm(norm_kind, ndim, cout),
                   activation(act)]
            if dropout > 0:
                one.append(nn.Dropout(dropout))
            if se:
                one.append(SqueezeExcite(ndim, cout))
            layers.append(nn.Sequential(*one))
        super().__init__(*layers)


class ResConvBlock(nn.Module):
    """Full pre-activation residual block (He et al. 2016), BiaPy's ResConvBlock: (norm, act)
    unless first, then ``nconvs - 1`` x (conv, norm, act, dropout) and a last bare conv;
    a ``skip_k`` shortcut (1x1; normalised too with ``skip_norm``, as BiaPy's ResUNet++);
    optional squeeze-and-excitation on the sum. ``extra_conv`` (BiaPy's ResUNet-SE, after
    Lee et al. 2017) puts a conv block before the residual unit, whose shortcut is then the
    identity."""

    def __init__(self, ndim: int, cin: int, cout: int, k: Kernel, norm_kind: str, act: str,
                 dropout: float = 0.0, nconvs: int = 2, first: bool = False, se: bool = False,
                 extra_conv: bool = False, skip_k: Kernel = 1, skip_norm: bool = False) -> None:
        super().__init__()
        pre = [] if first else [norm(norm_kind, ndim, cin), activation(act)]
        self.pre_conv = None
        if extra_conv:
            self.pre_conv = nn.Sequential(*pre, ConvBlock(ndim, cin, cout, k, norm_kind, act,
                                                          dropout))
            pre, cin = [], cout
        body = [*pre, ConvBlock(ndim, cin, cout, k, norm_kind, act, dropout)]
        body += [ConvBlock(ndim, cout, cout, k, norm_kind, act, dropout)
                 for _ in range(max(0, nconvs - 2))]
        if nconvs >= 2:
            body.append(conv(ndim, cout, cout, k))
        self.body = nn.Sequential(*body)
        self.shortcut = nn.Identity() if extra_conv else conv(ndim, cin, cout, skip_k)
        if skip_norm and not extra_conv:
            self.shortcut = nn.Sequential(self.shortcut, norm(norm_kind, ndim, cout))
        self.se = SqueezeExcite(ndim, cout) if se else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``se(shortcut(x) + body(x))``."""
        if self.pre_conv is not None:
            x = self.pre_conv(x)
        return self.se(self.body(x) + self.shortcut(x))


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2018): global average pool, two bias-free linear
    layers (reduction 16), sigmoid channel weights. Its global pool is a weak whole-input
    term that no finite halo holds."""

    def __init__(self, ndim: int, channels: int, reduction: int = 16) -> None:
        super().__init__()
        mid = max(channels // reduction, 1)
        self.pool = LAYERS[ndim]["gap"](1)
        self.excite = nn.Sequential(nn.Linear(channels, mid, bias=False), nn.ReLU(),
                                    nn.Linear(mid, channels, bias=False), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Rescale the channels of ``x``."""
        w = self.excite(self.pool(x).flatten(1))
        return x * w.view(*w.shape, *(1,) * (x.dim() - 2))


class AttentionGate(nn.Module):
    """Additive attention gate on a skip connection (Oktay et al. 2018), BiaPy's
    AttentionBlock: 1x1 projections of skip and gate, ReLU, 1x1 to one channel, sigmoid.
    As in BiaPy only the gate's projection is normalised (``skip_norm`` adds one to the
    skip's, the layout of this project's first checkpoints)."""

    def __init__(self, ndim: int, channels: int, skip_channels: int, norm_kind: str,
                 skip_norm: bool = False) -> None:
        super().__init__()
        inter = max(channels // 2, 1)
        self.w_skip = nn.Sequential(conv(ndim, skip_channels, inter, 1),
                                    norm(norm_kind if skip_norm else "none", ndim, inter))
        self.w_gate = nn.Sequential(conv(ndim, channels, inter, 1), norm(norm_kind, ndim, inter))
        self.psi = nn.Sequential(nn.ReLU(), conv(ndim, inter, 1, 1), norm(norm_kind, ndim, 1),
                                 nn.Sigmoid())

    def forward(self, skip: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
        """Scale ``skip`` by a [0, 1] map computed from ``skip`` and the decoder ``gate``."""
        return skip * self.psi(self.w_skip(skip) + self.w_gate(gate))


class ChannelAttention(nn.Module):
    """RCAN's channel attention: global average pool, 1x1 conv bottleneck, sigmoid."""

    def __init__(self, ndim: int, channels: int, reduction: int, act: str = "silu") -> None:
        super().__init__()
        mid = max(channels // reduction, 1)
        self.body = nn.Sequential(LAYERS[ndim]["gap"](1), conv(ndim, channels, mid, 1),
                                  activation(act), conv(ndim, mid, channels, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Rescale the channels of ``x``."""
        return x * self.body(x)


class Residual(nn.Sequential):
    """``x + body(x)`` for a sequential body."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x + body(x)``."""
        return x + super().forward(x)


def upsample(ndim: int, cin: int, cout: int, factor: Sequence[int], mode: str) -> nn.Module:
    """BiaPy's ``MODEL.UPSAMPLE_LAYER``: a transposed convolution, or ``upsampling``
    ((bi/tri)linear interpolation then a 1x1 convolution)."""
    factor = tuple(factor)
    if mode == "upsampling":
        return nn.Sequential(nn.Upsample(scale_factor=factor, mode=LAYERS[ndim]["interp"]),
                             conv(ndim, cin, cout, 1))
    return LAYERS[ndim]["up"](cin, cout, factor, stride=factor)


class GlobalResponseNorm(nn.Module):
    """ConvNeXt V2's GRN on channel-last features: each channel's L2 norm over all spatial
    axes, divided by its mean over the channels, scales ``x`` (zero-initialised ``gamma``,
    ``beta``). A whole-input term: tiles see their own norms."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``(N, *spatial, C)``."""
        g = torch.linalg.vector_norm(x, dim=tuple(range(1, x.dim() - 1)), keepdim=True)
        n = g / (g.mean(dim=-1, keepdim=True) + 1e-6)
        return self.gamma * (x * n) + self.beta + x
