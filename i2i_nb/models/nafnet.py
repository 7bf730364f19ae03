"""NAFNet (BiaPy's ``nafnet``): the generator of BiaPy's image-to-image GAN training.

Chen et al., "Simple Baselines for Image Restoration" (ECCV 2022), in BiaPy 3.7.1's
layout: an intro convolution to ``FEATURE_MAPS[0]`` channels, per level
``MODEL.NAFNET.ENC_BLK_NUMS[i]`` NAF blocks then a strided convolution (kernel = stride =
the level's ``Z_DOWN``/``YX_DOWN``) to the next level's width, ``MIDDLE_BLK_NUM`` blocks at
the bottom, per level up a 1x1 convolution and a pixel shuffle, the skip added, then
``DEC_BLK_NUMS[i]`` blocks; an ending convolution back to the output channels plus the
input (a 1x1 projection of it when the channel counts differ). Only the first ``depth``
(``len(FEATURE_MAPS) - 1``) entries of the block lists are used, as in BiaPy.

A NAF block is layer norm, a 1x1 convolution to ``DW_EXPAND`` times the channels, a
depthwise ``k``-convolution, the simple gate (one half times the other), simplified
channel attention (global average pooling and a 1x1 convolution), a 1x1 convolution back,
scaled by a learned ``beta`` (zero at start) and added; then a feed-forward part (layer
norm, 1x1 to ``FFN_EXPAND`` times, gate, 1x1 back) scaled by ``gamma``. ``ISOTROPY`` False
uses ``(1, k, k)`` kernels at that level in 3D; ``LARGER_IO`` makes the intro and ending
kernels ``k + 2``.

BiaPy's NAFNet always trains with a discriminator, and then, when no output activation is
given, ends with a sigmoid on the output clamped to [-15, 15] with a straight-through
gradient (``output_sigmoid``): predictions lie in (0, 1).

The channel attention pools over the whole input (a global term, left out of the halo as
for squeeze-and-excitation), so tiles change the output slightly.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from i2i_nb.models.base import Net, Path
from i2i_nb.models.blocks import LAYERS, ChannelLayerNorm
from i2i_nb.models.spec import ModelSpec


class PixelShuffle(nn.Module):
    """``(N, C * prod(f), *S)`` to ``(N, C, *(S * f))``, one factor per axis (BiaPy's 2D,
    per-slice 2D and 3D pixel shuffles are its ``(f, f)``, ``(1, f, f)``, ``(f, f, f)``)."""

    def __init__(self, factors: tuple[int, ...]) -> None:
        super().__init__()
        self.factors = tuple(factors)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Move channel groups into space."""
        n, c, *size = x.shape
        nd = len(size)
        out = c // math.prod(self.factors)
        x = x.reshape(n, out, *self.factors, *size)
        order = [0, 1] + [i for a in range(nd) for i in (2 + nd + a, 2 + a)]
        return x.permute(*order).reshape(n, out, *(s * f for s, f in zip(size, self.factors,
                                                                         strict=True)))


class SimpleGate(nn.Module):
    """One half of the channels times the other."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Gate ``(N, 2C, ...)`` to ``(N, C, ...)``."""
        a, b = x.chunk(2, dim=1)
        return a * b


class NAFBlock(nn.Module):
    """BiaPy's NAF block (see the module docstring)."""

    def __init__(self, ndim: int, c: int, kernel: tuple[int, ...], dw_expand: int,
                 ffn_expand: int, dropout: float) -> None:
        super().__init__()
        conv, gap = LAYERS[ndim]["conv"], LAYERS[ndim]["gap"]
        dw, ffn = c * dw_expand, c * ffn_expand
        self.norm1, self.norm2 = ChannelLayerNorm(c), ChannelLayerNorm(c)
        self.conv1 = conv(c, dw, 1)
        self.conv2 = conv(dw, dw, kernel, padding=tuple(k // 2 for k in kernel), groups=dw)
        self.sca = nn.Sequential(gap(1), conv(dw // 2, dw // 2, 1))
        self.conv3 = conv(dw // 2, c, 1)
        self.conv4 = conv(c, ffn, 1)
        self.conv5 = conv(ffn // 2, c, 1)
        self.gate = SimpleGate()
        self.drop1 = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.drop2 = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        shape = (1, c) + (1,) * ndim
        self.beta = nn.Parameter(torch.zeros(shape))
        self.gamma = nn.Parameter(torch.zeros(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Attention part, then feed-forward part, each residual."""
        h = self.gate(self.conv2(self.conv1(self.norm1(x))))
        h = self.drop1(self.conv3(h * self.sca(h)))
        y = x + h * self.beta
        h = self.drop2(self.conv5(self.gate(self.conv4(self.norm2(y)))))
        return y + h * self.gamma


def _blocks(ndim: int, n: int, c: int, kernel: tuple[int, ...], spec: ModelSpec,
            dropout: float) -> nn.Sequential:
    return nn.Sequential(*(NAFBlock(ndim, c, kernel, spec.nafnet_dw_expand,
                                    spec.nafnet_ffn_expand, dropout) for _ in range(n)))


def _geometry(spec: ModelSpec) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    """Down-sampling factors per level and kernels per level (the last: the bottom)."""
    ndim, k, depth = spec.ndim, spec.kernel_size, len(spec.feature_maps) - 1
    z_down = list(spec.z_down) if spec.z_down else [2] * depth
    yx_down = list(spec.yx_down) if spec.yx_down else [2] * depth
    downs = [(z, yx, yx) if ndim == 3 else (yx, yx) for z, yx in zip(z_down, yx_down,
                                                                     strict=True)]
    iso = list(spec.isotropy) or [True] * (depth + 1)
    kernels = [(1, k, k) if ndim == 3 and not iso[i] else (k,) * ndim for i in range(depth + 1)]
    return downs, kernels


class NAFNet(Net):
    """BiaPy's NAFNet generator from a :class:`ModelSpec` (see the module docstring)."""

    def __init__(self, spec: ModelSpec) -> None:
        ndim, fm = spec.ndim, list(spec.feature_maps)
        depth = len(fm) - 1
        downs, kernels = _geometry(spec)
        enc = list(spec.nafnet_enc_blk_nums[:depth])
        dec = list(spec.nafnet_dec_blk_nums[:depth])
        drops = spec.dropout if isinstance(spec.dropout, list) else [spec.dropout] * len(fm)
        io = spec.kernel_size + 2 if spec.larger_io else spec.kernel_size
        flat_top = ndim == 3 and not (list(spec.isotropy) or [True])[0]
        io_k = (1, io, io) if flat_top else (io,) * ndim
        scales = [tuple(math.prod(d[a] for d in downs[:i]) for a in range(ndim))
                  for i in range(depth + 1)]
        one = (1,) * ndim
        path: Path = [(io_k, one)] * 2 + [(kernels[-1], scales[-1])] * spec.nafnet_middle_blk_num
        for i in range(depth):
            path += [(kernels[i], scales[i])] * (enc[i] + dec[i]) + [(downs[i], scales[i])] * 2
        super().__init__(ndim, False, tuple(scales[-1]), path)
        conv = LAYERS[ndim]["conv"]
        self.output_sigmoid = spec.nafnet_output_sigmoid
        self.intro = conv(spec.in_channels, fm[0], io_k, padding=tuple(k // 2 for k in io_k))
        self.ending = conv(fm[0], spec.out_channels, io_k, padding=tuple(k // 2 for k in io_k))
        self.skip = conv(spec.in_channels, spec.out_channels, 1, bias=False) \
            if spec.in_channels != spec.out_channels else None
        self.encoders = nn.ModuleList(_blocks(ndim, enc[i], fm[i], kernels[i], spec, drops[i])
                                      for i in range(depth))
        self.downs = nn.ModuleList(conv(fm[i], fm[i + 1], downs[i], stride=downs[i])
                                   for i in range(depth))
        self.middle = _blocks(ndim, spec.nafnet_middle_blk_num, fm[-1], kernels[-1], spec,
                              drops[-1])
        self.ups = nn.ModuleList(
            nn.Sequential(conv(fm[i + 1], fm[i] * math.prod(downs[i]), 1, bias=False),
                          PixelShuffle(downs[i])) for i in reversed(range(depth)))
        self.decoders = nn.ModuleList(_blocks(ndim, dec[i], fm[i], kernels[i], spec, drops[i])
                                      for i in reversed(range(depth)))

    def last_layer(self) -> torch.Tensor:
        """The ending convolution's weight (for the adaptive adversarial weight)."""
        return self.ending.weight

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.intro(x)
        skips = []
        for encoder, down in zip(self.encoders, self.downs, strict=True):
            h = encoder(h)
            skips.append(h)
            h = down(h)
        h = self.middle(h)
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(skips), strict=True):
            h = decoder(up(h) + skip)
        y = self.ending(h) + (x if self.skip is None else self.skip(x))
        if not self.output_sigmoid:
            return y
        return torch.sigmoid(y + (y.clamp(-15.0, 15.0) - y).detach())
