"""Full-resolution restoration networks at scale x1, as BiaPy 3.7.1 builds them for
image-to-image: ``rcan``, ``edsr``, ``dfcan`` (2D and 3D) and ``wdsr`` (2D only).

- RCAN (Zhang et al. 2018): a 3x3 head, ``RCAN_RG_BLOCK_NUM`` residual groups of
  ``RCAN_RCAB_BLOCK_NUM`` channel-attention blocks (conv, SiLU, conv, channel attention with
  ``RCAN_REDUCTION_RATIO``) and a conv, a conv, the long skip, a 3x3 tail;
  ``RCAN_CONV_FILTERS`` channels throughout.
- EDSR (Lim et al. 2017): 64 channels, 16 residual blocks, BiaPy's fixed sizes. BiaPy's
  blocks have no activation between their two convolutions (so its whole EDSR is linear);
  here they have the paper's ReLU (the parameter count is the same).
- WDSR (Yu et al. 2018, "A"): weight-normalised wide-activation blocks (32 channels, 8 blocks,
  expansion 6, residual scale 1/sqrt(8)), a 5x5 skip from the input; 2D only, as in BiaPy.
- DFCAN (Qiao et al. 2021): 64 channels, 4 groups of 4 Fourier channel-attention blocks
  (attention computed from the amplitude spectrum, gamma 0.8). Its Fourier attention is
  global (the FFT is taken over all spatial axes here; BiaPy's 3D version takes it over the
  first two only).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from i2i_nb.models.base import Net, same_scale_path
from i2i_nb.models.blocks import ChannelAttention, Residual, conv
from i2i_nb.models.spec import ModelSpec

FAMILY = ("rcan", "edsr", "wdsr", "dfcan")


class RCAN(Net):
    """Residual channel attention network at scale x1 (see the module docstring)."""

    def __init__(self, spec: ModelSpec) -> None:
        ndim, f = spec.ndim, spec.rcan_conv_filters
        groups, blocks = spec.rcan_rg_block_num, spec.rcan_rcab_block_num
        super().__init__(ndim, spec.residual, (1,) * ndim,
                         same_scale_path(ndim, [3] * (3 + groups * (2 * blocks + 1))))
        act = nn.ReLU if spec.legacy else nn.SiLU

        def rcab() -> nn.Module:
            return Residual(conv(ndim, f, f), act(), conv(ndim, f, f),
                            ChannelAttention(ndim, f, spec.rcan_reduction_ratio,
                                             "relu" if spec.legacy else "silu"))

        self.head = conv(ndim, spec.in_channels, f)
        self.body = Residual(*(Residual(*(rcab() for _ in range(blocks)), conv(ndim, f, f))
                               for _ in range(groups)), conv(ndim, f, f))
        self.tail = conv(ndim, f, spec.out_channels)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tail(self.body(self.head(x)))


class _EDSRBlock(nn.Module):
    def __init__(self, ndim: int, f: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv(ndim, f, f), nn.ReLU(), conv(ndim, f, f))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class EDSR(Net):
    """Enhanced deep residual network at scale x1 (BiaPy's sizes: 64 channels, 16 blocks)."""

    FILTERS, BLOCKS = 64, 16

    def __init__(self, spec: ModelSpec) -> None:
        ndim, f = spec.ndim, spec.sr_filters or self.FILTERS
        blocks = spec.sr_blocks or self.BLOCKS
        super().__init__(ndim, spec.residual, (1,) * ndim,
                         same_scale_path(ndim, [3] * (3 + 2 * blocks)))
        self.first = conv(ndim, spec.in_channels, f)
        self.blocks = nn.Sequential(*(_EDSRBlock(ndim, f) for _ in range(blocks)))
        self.last = conv(ndim, f, f)
        self.up = conv(ndim, f, f)  # BiaPy's x1 "upsampling" (pixel shuffle by 1): one conv
        self.tail = conv(ndim, f, spec.out_channels)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.first(x)
        return self.tail(self.up(self.blocks(h) + self.last(h)))


def _wn_conv(cin: int, cout: int, k: int, gain: float) -> nn.Module:
    layer = weight_norm(nn.Conv2d(cin, cout, k, padding=k // 2))
    with torch.no_grad():
        layer.parametrizations.weight.original0.fill_(gain)
        layer.bias.zero_()
    return layer


class WDSR(Net):
    """Wide-activation super-resolution network (WDSR-A) at scale x1, 2D only."""

    FILTERS, BLOCKS, EXPANSION = 32, 8, 6

    def __init__(self, spec: ModelSpec) -> None:
        if spec.ndim != 2:
            raise ValueError("wdsr is 2D only (as in BiaPy)")
        f = spec.sr_filters or self.FILTERS
        wide, blocks = f * self.EXPANSION, spec.sr_blocks or self.BLOCKS
        super().__init__(2, spec.residual, (1, 1), same_scale_path(2, [3] * (2 + 2 * blocks)))
        scale = 1 / math.sqrt(blocks)
        self.body = nn.Sequential(
            _wn_conv(spec.in_channels, f, 3, 1.0),
            *(Residual(_wn_conv(f, wide, 3, 2.0), nn.ReLU(), _wn_conv(wide, f, 3, scale))
              for _ in range(blocks)),
            _wn_conv(f, spec.out_channels, 3, 1.0))
        self.skip = (_wn_conv(spec.in_channels, spec.out_channels, 5, 1.0)
                     if spec.in_channels != spec.out_channels else nn.Identity())

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.skip(x)


class _FourierAttentionBlock(nn.Module):
    """DFCAN's FCAB: conv-GELU x2, channel attention computed from the shifted amplitude
    spectrum (conv-ReLU, global pool, 1x1 to 4 channels, ReLU, 1x1, sigmoid), residual."""

    def __init__(self, ndim: int, f: int, gamma: float = 0.8) -> None:
        super().__init__()
        self.features = nn.Sequential(conv(ndim, f, f), nn.GELU(), conv(ndim, f, f), nn.GELU())
        self.spectrum = nn.Sequential(conv(ndim, f, f), nn.ReLU())
        self.attention = nn.Sequential(
            nn.AdaptiveAvgPool2d(1) if ndim == 2 else nn.AdaptiveAvgPool3d(1),
            conv(ndim, f, 4, 1), nn.ReLU(), conv(ndim, 4, f, 1), nn.Sigmoid())
        self.gamma = gamma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        axes = tuple(range(2, x.dim()))
        amplitude = (torch.fft.fftn(h.float(), dim=axes).abs() + 1e-8) ** self.gamma
        weights = self.attention(self.spectrum(torch.fft.fftshift(amplitude, dim=axes)))
        return x + h * weights.to(h.dtype)


class DFCAN(Net):
    """Deep Fourier channel attention network at scale x1 (BiaPy's sizes: 64 channels,
    4 groups of 4 blocks)."""

    FILTERS, GROUPS, BLOCKS = 64, 4, 4

    def __init__(self, spec: ModelSpec) -> None:
        ndim, f = spec.ndim, spec.sr_filters or self.FILTERS
        blocks = spec.sr_blocks or self.BLOCKS
        super().__init__(ndim, spec.residual, (1,) * ndim,
                         same_scale_path(ndim, [3] * (3 + 2 * self.GROUPS * blocks)))
        self.head = nn.Sequential(conv(ndim, spec.in_channels, f), nn.GELU())
        self.groups = nn.Sequential(*(
            Residual(*(_FourierAttentionBlock(ndim, f) for _ in range(blocks)))
            for _ in range(self.GROUPS)))
        self.up = nn.Sequential(conv(ndim, f, f), nn.GELU())  # x1 pixel shuffle: one conv
        self.tail = conv(ndim, f, spec.out_channels)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tail(self.up(self.groups(self.head(x))))
