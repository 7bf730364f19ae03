"""The U-Net family as BiaPy 3.7.1 lays it out: ``unet``, ``resunet``, ``attention_unet``,
``seunet``, ``resunet_se`` (2D and 3D).

Per level: an encoder block (``CONV_LAYERS[i]`` convolutions of ``KERNEL_SIZE``, ``(1, k, k)``
in 3D where ``ISOTROPY[i]`` is False), max pooling by ``(Z_DOWN[i], YX_DOWN[i], YX_DOWN[i])``;
a bottleneck; per level a decoder: up-sampling (``UPSAMPLE_LAYER``) followed by normalisation
and activation,
concatenation with the (gated, for ``attention_unet``) skip, a block like the encoder's. The
residual variants use full pre-activation residual blocks and keep the channel count through
the up-sampling, as BiaPy's ResUpBlock; ``seunet`` adds squeeze-and-excitation after every
convolution, ``resunet_se`` after every residual block, which then starts with an extra
convolution block (BiaPy's default). ``LARGER_IO`` adds a ``k + 2`` convolution block after
the input and before each head. Heads are 1x1 convolutions, one per entry of
``CHANNELS_PER_HEAD_INFO``; ``SEPARATED_DECODERS_PER_HEAD`` gives each its own decoder.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from i2i_nb.models.base import Net, Path
from i2i_nb.models.blocks import (
    AttentionGate,
    ConvBlock,
    ResConvBlock,
    activation,
    conv,
    norm,
    upsample,
)
from i2i_nb.models.spec import ModelSpec

FAMILY = ("unet", "resunet", "attention_unet", "seunet", "resunet_se")


def levels_of(spec: ModelSpec) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]], list[int]]:
    """Pooling factor, kernel and convolution count per level (the last level: bottleneck)."""
    ndim, k, levels = spec.ndim, spec.kernel_size, len(spec.feature_maps)
    z_down = list(spec.z_down) if spec.z_down else [2] * (levels - 1)
    yx_down = list(spec.yx_down) if spec.yx_down else [2] * (levels - 1)
    pools = [(z, yx, yx) if ndim == 3 else (yx, yx) for z, yx in zip(z_down, yx_down,
                                                                      strict=True)]
    iso = list(spec.isotropy) or [True] * levels
    kernels = [(1, k, k) if ndim == 3 and not iso[i] else (k,) * ndim for i in range(levels)]
    nconvs = list(spec.conv_layers) or [2] * levels
    return pools, kernels, nconvs


def _path(spec: ModelSpec, pools: list, kernels: list, nconvs: list, per_block: int) -> Path:
    ndim = spec.ndim
    scales = [tuple(math.prod(p[a] for p in pools[:i]) for a in range(ndim))
              for i in range(len(spec.feature_maps))]
    path: Path = [(kernels[-1], scales[-1])] * (nconvs[-1] + per_block)
    for i, (p, s) in enumerate(zip(pools, scales, strict=False)):
        up = tuple(q + 1 if spec.upsample_layer == "upsampling" and q > 1 else q for q in p)
        path += [(kernels[i], s)] * (2 * (nconvs[i] + per_block)) + [(p, s), (up, s)]
    if spec.larger_io:
        big = tuple(k + 2 if k > 1 else 1 for k in kernels[0])
        path += [(big, (1,) * ndim)] * 2
    return path


class UNet(Net):
    """U-Net family network built from a :class:`ModelSpec` (see the module docstring)."""

    def __init__(self, spec: ModelSpec) -> None:
        arch, ndim = spec.architecture, spec.ndim
        res, se = arch in ("resunet", "resunet_se"), arch in ("seunet", "resunet_se")
        extra = arch == "resunet_se"
        pools, kernels, nconvs = levels_of(spec)
        scales = [math.prod(p[a] for p in pools) for a in range(ndim)]
        super().__init__(ndim, spec.residual, tuple(scales),
                         _path(spec, pools, kernels, nconvs, int(extra)))
        fm, nk, act = list(spec.feature_maps), spec.normalization, spec.activation
        levels = len(fm)
        drops = spec.dropout if isinstance(spec.dropout, list) else [spec.dropout] * levels
        heads = list(spec.heads) or [spec.out_channels]
        n_dec = len(heads) if spec.separated_decoders else 1
        dec = [max(1, f // n_dec) for f in fm] if spec.divide_feature_maps and n_dec > 1 else fm

        def block(cin: int, cout: int, i: int, first: bool = False) -> nn.Module:
            if res:
                return ResConvBlock(ndim, cin, cout, kernels[i], nk, act, drops[i], nconvs[i],
                                    first=first, se=se, extra_conv=extra)
            return ConvBlock(ndim, cin, cout, kernels[i], nk, act, drops[i], nconvs[i], se=se)

        def io_block(cin: int, cout: int) -> nn.Module:
            big = tuple(k + 2 if k > 1 else 1 for k in kernels[0])
            return ConvBlock(ndim, cin, cout, big, nk, act)

        cin = spec.in_channels
        self.conv_in = None
        if spec.larger_io:
            self.conv_in = io_block(cin, fm[0])
            cin = fm[0]
        self.encoders = nn.ModuleList(
            block(c, f, i, first=i == 0) for i, (c, f) in enumerate(zip([cin, *fm[:-1]], fm,
                                                                         strict=True)))
        self.pools = nn.ModuleList(nn.MaxPool2d(p) if ndim == 2 else nn.MaxPool3d(p)
                                   for p in pools)

        def up(i: int, cin: int) -> nn.Module:
            if res:  # BiaPy's ResUpBlock keeps the channels through the up-sampling
                cout = dec[i] if spec.legacy else cin
                if spec.upsample_layer == "upsampling" and not spec.legacy:
                    return nn.Upsample(scale_factor=pools[i], mode="bilinear" if ndim == 2
                                       else "trilinear")
                return upsample(ndim, cin, cout, pools[i], spec.upsample_layer)
            layer = upsample(ndim, cin, dec[i], pools[i], spec.upsample_layer)
            if spec.legacy:
                return layer
            return nn.Sequential(layer, norm(nk, ndim, dec[i]), activation(act))

        def up_channels(i: int) -> int:
            deeper = fm[-1] if i == levels - 2 else dec[i + 1]
            return deeper if res and not spec.legacy else dec[i]

        self.ups = nn.ModuleList(
            nn.ModuleList(up(i, fm[-1] if i == levels - 2 else dec[i + 1])
                          for i in range(levels - 1)) for _ in range(n_dec))
        self.gates = None
        if arch == "attention_unet":
            self.gates = nn.ModuleList(
                nn.ModuleList(AttentionGate(ndim, dec[i], fm[i], nk, spec.legacy)
                              for i in range(levels - 1))
                for _ in range(n_dec))
        self.decoders = nn.ModuleList(
            nn.ModuleList(block(up_channels(i) + fm[i], dec[i], i) for i in range(levels - 1))
            for _ in range(n_dec))
        self.conv_out = (nn.ModuleList(io_block(dec[0], dec[0]) for _ in range(n_dec))
                         if spec.larger_io else None)
        self.heads = nn.ModuleList(conv(ndim, dec[0], h, 1) for h in heads)

    def _decode(self, j: int, x: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        for i in reversed(range(len(skips))):
            x = self.ups[j][i](x)
            skip = skips[i] if self.gates is None else self.gates[j][i](skips[i], x)
            x = self.decoders[j][i](torch.cat([skip, x], dim=1))
        return x if self.conv_out is None else self.conv_out[j](x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.conv_in is not None:
            x = self.conv_in(x)
        skips = []
        for encoder, pool in zip(self.encoders, self.pools, strict=False):
            x = encoder(x)
            skips.append(x)
            x = pool(x)
        x = self.encoders[-1](x)
        feats = [self._decode(j, x, skips) for j in range(len(self.decoders))]
        return torch.cat([head(feats[min(i, len(feats) - 1)])
                          for i, head in enumerate(self.heads)], dim=1)
