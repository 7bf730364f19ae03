"""BiaPy 3.7.1's U-NeXt: ``unext_v1`` (ConvNeXt blocks, Liu et al. 2022) and ``unext_v2``
(ConvNeXt V2 blocks with global response normalisation, Woo et al. 2023), 2D and 3D.

Layout (BiaPy's ``U_NeXt_V1`` / ``U_NeXt_V2``): a patchify stem (convolution with kernel
and stride ``CONVNEXT_STEM_K_SIZE``, in 3D ``k * max(Z_DOWN[0] // k, 1)`` along z, then
layer norm); per level ``CONV_LAYERS[i]`` ConvNeXt blocks, then layer norm and a strided
convolution by ``(Z_DOWN[i], YX_DOWN[i], YX_DOWN[i])`` to the next width; a bottleneck of
``CONV_LAYERS[-1]`` blocks. Per decoder level: layer norm, up-sampling (``UPSAMPLE_LAYER``:
transposed convolution, or interpolation then a 1x1 convolution), concatenation with the
skip, a 1x1 convolution, ``CONV_LAYERS[i]`` blocks; an inverted stem (transposed
convolution and layer norm) and 1x1 heads.

A block: 7x7(x7) depthwise convolution (``(1, 7, 7)`` at a level whose ``ISOTROPY`` is
False, in 3D), layer norm over the channels, linear to 4x the channels, GELU, (V2: global
response normalisation), linear back, (V1: per-channel layer scale, initial value
``CONVNEXT_LAYER_SCALE``, none when 0), stochastic depth, residual sum. The stochastic
depth rate rises linearly from 0 at the first encoder block to ``CONVNEXT_SD_PROB`` at the
last bottleneck block; decoder blocks mirror their level's rates. Stochastic depth drops
whole samples' branches in training only; in eval mode the network is deterministic.

Two departures from BiaPy's code, both where it contradicts its own key's meaning:
``ISOTROPY`` is per level (BiaPy keeps ``(1, 7, 7)`` for every level after the first
False one and in the whole decoder), and V2's global response normalisation pools over all
spatial axes (BiaPy's pools over the first two of the channels-last tensor, in 3D z and y
only). Weights start as BiaPy's (Xavier-uniform convolutions and linear layers, zero biases).

Layer norm acts on each pixel, so tiles are exact; V2's global response normalisation
pools over the whole input (a global term, outside the halo).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from i2i_nb.models.base import Net, Path
from i2i_nb.models.blocks import LAYERS, ChannelLayerNorm, GlobalResponseNorm, conv, upsample
from i2i_nb.models.spec import ModelSpec

FAMILY = ("unext_v1", "unext_v2")
DEPTHWISE = 7  # ConvNeXt's depthwise kernel
LN_EPS = 1e-5  # nn.LayerNorm's default, BiaPy's outside the blocks; the blocks use 1e-6


class StochasticDepth(nn.Module):
    """Drop the residual branch of whole samples with probability ``p`` in training (scaled
    by ``1 / (1 - p)`` otherwise); identity in eval mode."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x`` with some samples zeroed (training only)."""
        if not self.training or self.p == 0:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask.div_(keep) if keep > 0 else x * mask


class ConvNeXtBlock(nn.Module):
    """One ConvNeXt block (``version`` 1 or 2; see the module docstring)."""

    def __init__(self, ndim: int, channels: int, kernel: tuple[int, ...], version: int,
                 layer_scale: float, drop: float) -> None:
        super().__init__()
        self.dwconv = LAYERS[ndim]["conv"](channels, channels, kernel, groups=channels,
                                           padding=tuple(k // 2 for k in kernel))
        self.norm = nn.LayerNorm(channels, eps=1e-6)
        self.pwconv1 = nn.Linear(channels, 4 * channels)
        self.act = nn.GELU()
        self.grn = GlobalResponseNorm(4 * channels) if version == 2 else nn.Identity()
        self.pwconv2 = nn.Linear(4 * channels, channels)
        self.layer_scale = (nn.Parameter(torch.full((channels,), float(layer_scale)))
                            if version == 1 and layer_scale > 0 else None)
        self.drop = StochasticDepth(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x + drop(branch(x))``."""
        y = self.dwconv(x).movedim(1, -1)
        y = self.pwconv2(self.grn(self.act(self.pwconv1(self.norm(y)))))
        if self.layer_scale is not None:
            y = y * self.layer_scale
        return x + self.drop(y.movedim(-1, 1))


class UpStage(nn.Module):
    """Decoder level: layer norm, up-sampling, concatenation with the skip, 1x1 convolution,
    ConvNeXt blocks."""

    def __init__(self, ndim: int, cin: int, cout: int, skip: int, factor: tuple[int, ...],
                 mode: str, blocks: list[ConvNeXtBlock]) -> None:
        super().__init__()
        self.up = nn.Sequential(ChannelLayerNorm(cin, LN_EPS),
                                upsample(ndim, cin, cout, factor, mode))
        self.fuse = conv(ndim, cout + skip, cout, 1)
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """Up-sample ``x`` and merge ``skip``."""
        return self.blocks(self.fuse(torch.cat([self.up(x), skip], dim=1)))


def _geometry(spec: ModelSpec) -> tuple[tuple[int, ...], list[tuple[int, ...]],
                                        list[tuple[int, ...]], list[int]]:
    """Stem factor, pooling per down-sampling, depthwise kernel and block count per level."""
    ndim, levels, k = spec.ndim, len(spec.feature_maps), spec.convnext_stem_k_size
    z_down = list(spec.z_down) if spec.z_down else [2] * (levels - 1)
    yx_down = list(spec.yx_down) if spec.yx_down else [2] * (levels - 1)
    stem_z = k * max(z_down[0] // k, 1) if z_down else k
    stem = (stem_z, k, k) if ndim == 3 else (k, k)
    pools = [(z, yx, yx) if ndim == 3 else (yx, yx) for z, yx in zip(z_down, yx_down,
                                                                      strict=True)]
    iso = list(spec.isotropy) or [True] * levels
    kernels = [(1, DEPTHWISE, DEPTHWISE) if ndim == 3 and not iso[i] else (DEPTHWISE,) * ndim
               for i in range(levels)]
    return stem, pools, kernels, list(spec.conv_layers) or [2] * levels


def _path(spec: ModelSpec, stem: tuple[int, ...], pools: list[tuple[int, ...]],
          kernels: list[tuple[int, ...]], blocks: list[int]) -> Path:
    ndim, one = spec.ndim, (1,) * spec.ndim
    scales = [tuple(stem[a] * math.prod(p[a] for p in pools[:i]) for a in range(ndim))
              for i in range(len(kernels))]
    path: Path = [(stem, one), (stem, one)] + [(kernels[-1], scales[-1])] * blocks[-1]
    for i, (p, s) in enumerate(zip(pools, scales, strict=False)):
        up = tuple(q + 1 if spec.upsample_layer == "upsampling" and q > 1 else q for q in p)
        path += [(kernels[i], s)] * (2 * blocks[i]) + [(p, s), (up, s)]
    return path


class UNeXt(Net):
    """``unext_v1`` / ``unext_v2`` built from a :class:`ModelSpec` (see the module docstring)."""

    def __init__(self, spec: ModelSpec) -> None:
        ndim, version = spec.ndim, FAMILY.index(spec.architecture) + 1
        stem, pools, kernels, nblocks = _geometry(spec)
        divisor = tuple(stem[a] * math.prod(p[a] for p in pools) for a in range(ndim))
        super().__init__(ndim, spec.residual, divisor, _path(spec, stem, pools, kernels, nblocks))
        fm, depth = list(spec.feature_maps), len(spec.feature_maps) - 1
        heads = list(spec.heads) or [spec.out_channels]
        n_dec = len(heads) if spec.separated_decoders else 1
        dec = [max(1, f // n_dec) for f in fm] if spec.divide_feature_maps and n_dec > 1 else fm
        total = sum(nblocks)
        rates = [spec.convnext_sd_prob * j / max(total - 1, 1) for j in range(total)]
        first = [sum(nblocks[:i]) for i in range(depth + 1)]
        level_rates = [rates[first[i]:first[i] + nblocks[i]] for i in range(depth + 1)]

        def stage(i: int, width: int, mirrored: bool = False) -> list[ConvNeXtBlock]:
            drops = level_rates[i][::-1] if mirrored else level_rates[i]
            return [ConvNeXtBlock(ndim, width, kernels[i], version, spec.convnext_layer_scale, d)
                    for d in drops]

        conv_nd, up_nd = LAYERS[ndim]["conv"], LAYERS[ndim]["up"]
        self.stem = nn.Sequential(conv_nd(spec.in_channels, fm[0], stem, stride=stem),
                                  ChannelLayerNorm(fm[0], LN_EPS))
        self.encoders = nn.ModuleList(nn.Sequential(*stage(i, fm[i])) for i in range(depth))
        self.downs = nn.ModuleList(
            nn.Sequential(ChannelLayerNorm(fm[i], LN_EPS),
                          conv_nd(fm[i], fm[i + 1], pools[i], stride=pools[i]))
            for i in range(depth))
        self.bottleneck = nn.Sequential(*stage(depth, fm[-1]))
        self.decoders = nn.ModuleList(
            nn.ModuleList(UpStage(ndim, fm[-1] if i == depth - 1 else dec[i + 1], dec[i], fm[i],
                                  pools[i], spec.upsample_layer, stage(i, dec[i], True))
                          for i in range(depth))
            for _ in range(n_dec))
        self.unstems = nn.ModuleList(
            nn.Sequential(up_nd(dec[0], dec[0], stem, stride=stem), ChannelLayerNorm(dec[0],
                                                                                   LN_EPS))
            for _ in range(n_dec))
        self.heads = nn.ModuleList(conv(ndim, dec[0], h, 1) for h in heads)
        for m in self.modules():  # BiaPy's init_weights (transposed convolutions keep torch's)
            if isinstance(m, nn.Conv2d | nn.Conv3d | nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        x, skips = self.stem(x), []
        for encoder, down in zip(self.encoders, self.downs, strict=True):
            x = encoder(x)
            skips.append(x)
            x = down(x)
        x = self.bottleneck(x)
        feats = []
        for decoder, unstem in zip(self.decoders, self.unstems, strict=True):
            y = x
            for i in reversed(range(len(skips))):
                y = decoder[i](y, skips[i])
            feats.append(unstem(y))
        return torch.cat([head(feats[min(i, len(feats) - 1)])
                          for i, head in enumerate(self.heads)], dim=1)
