"""BiaPy 3.7.1's ``resunet++`` (Jha et al. 2019, arXiv:1911.07067), 2D and 3D.

Levels ``0..L-1`` of ``FEATURE_MAPS`` (``L >= 3``). An optional ``LARGER_IO`` block, then
residual blocks as BiaPy's ResConvBlock whose shortcut is a normalised ``KERNEL_SIZE``
convolution: block 0 (``FEATURE_MAPS[0]``, no pre-activation) and block 1 both work at full
resolution, block ``j >= 1`` is followed by max pooling by ``(Z_DOWN[j], YX_DOWN[j],
YX_DOWN[j])`` (so ``Z_DOWN[0]`` and ``YX_DOWN[0]`` have no effect, as in BiaPy), and blocks
``0..L-3`` by squeeze-and-excitation. Block ``j >= 1`` takes ``DROPOUT_VALUES[j - 1]`` and
``ISOTROPY[j - 1]``. The bridge is atrous spatial pyramid pooling (ASPP: 3x3 convolutions
dilated 6, 12 and 18, each followed by ReLU and normalisation, a 1x1 fusion) to
``FEATURE_MAPS[-1]``. Each decoder step gates the deeper features ``g`` with the skip ``e``:
``g * att(pool(conv3(relu(n(e)))) + conv3(relu(n(g))))`` (``att``: norm, ReLU, 1x1 to one
channel, no sigmoid, as BiaPy), up-samples (``UPSAMPLE_LAYER``, keeping the channels),
concatenates the skip and applies a residual block (``DROPOUT_VALUES[i + 2]``); an ASPP to
``FEATURE_MAPS[0]``, the ``LARGER_IO`` block and 1x1 heads end it. Separated decoders
per head as the U-Net family.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from i2i_nb.models.base import Net, Path
from i2i_nb.models.blocks import (
    LAYERS,
    ConvBlock,
    ResConvBlock,
    SqueezeExcite,
    conv,
    norm,
)
from i2i_nb.models.spec import ModelSpec
from i2i_nb.models.unet import levels_of

RATES = (6, 12, 18)


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling (BiaPy's): dilated 3x3 branches, concatenated, 1x1."""

    def __init__(self, ndim: int, cin: int, cout: int, norm_kind: str) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(LAYERS[ndim]["conv"](cin, cout, 3, padding=r, dilation=r), nn.ReLU(),
                          norm(norm_kind, ndim, cout)) for r in RATES)
        self.output = conv(ndim, len(RATES) * cout, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Fuse the dilated branches."""
        return self.output(torch.cat([b(x) for b in self.branches], dim=1))


class Gate(nn.Module):
    """ResUNet++'s attention: the deeper features scaled by a map from them and the skip."""

    def __init__(self, ndim: int, skip: int, channels: int, pool: tuple[int, ...],
                 norm_kind: str) -> None:
        super().__init__()
        self.w_skip = nn.Sequential(norm(norm_kind, ndim, skip), nn.ReLU(),
                                    conv(ndim, skip, channels, 3), LAYERS[ndim]["pool"](pool))
        self.w_gate = nn.Sequential(norm(norm_kind, ndim, channels), nn.ReLU(),
                                    conv(ndim, channels, channels, 3))
        self.psi = nn.Sequential(norm(norm_kind, ndim, channels), nn.ReLU(),
                                 conv(ndim, channels, 1, 1))

    def forward(self, skip: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
        """Return ``gate * psi(w_skip(skip) + w_gate(gate))``."""
        return gate * self.psi(self.w_skip(skip) + self.w_gate(gate))


def _levels(spec: ModelSpec) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]], list[int]]:
    """The U-Net's levels, but no pooling after the first block (its first two levels share
    the full resolution, as in BiaPy)."""
    pools, kernels, nconvs = levels_of(spec)
    return [(1,) * spec.ndim, *pools[1:]], kernels, nconvs


def _path(spec: ModelSpec, pools: list, kernels: list, nconvs: list) -> Path:
    """Deepest path: blocks, pools, bridge, gate's deep branch, up-sampling, blocks, ASPP."""
    ndim, depth = spec.ndim, len(spec.feature_maps) - 2
    scale = [tuple(math.prod(p[a] for p in pools[:j + 1]) for a in range(ndim))
             for j in range(depth + 1)]  # resolution of blocks[j]
    one = (1,) * ndim
    big = [(tuple(k + 2 if k > 1 else 1 for k in kernels[0]), one)] if spec.larger_io else []
    path: Path = [*big, *[(kernels[0], one)] * nconvs[0]]
    for j in range(1, depth + 1):
        path += [(kernels[j - 1], scale[j - 1])] * nconvs[j] + [(pools[j], scale[j - 1])]
    path.append(((3,) * ndim, tuple(RATES[-1] * s for s in scale[depth])))
    for i in range(depth):
        up = tuple(q + 1 if spec.upsample_layer == "upsampling" and q > 1 else q
                   for q in pools[i + 1])
        path += [((3,) * ndim, scale[i + 1]), (up, scale[i])]
        path += [(kernels[i], scale[i])] * nconvs[i + 1]
    return [*path, ((3,) * ndim, (RATES[-1],) * ndim), *big]


class ResUNetPP(Net):
    """ResUNet++ built from a :class:`ModelSpec` (see the module docstring)."""

    def __init__(self, spec: ModelSpec) -> None:
        ndim, fm, nk, act = (spec.ndim, list(spec.feature_maps), spec.normalization,
                             spec.activation)
        pools, kernels, nconvs = _levels(spec)
        super().__init__(ndim, spec.residual,
                         tuple(math.prod(p[a] for p in pools) for a in range(ndim)),
                         _path(spec, pools, kernels, nconvs))
        depth, levels = len(fm) - 2, len(fm)
        drops = spec.dropout if isinstance(spec.dropout, list) else [spec.dropout] * levels
        heads = list(spec.heads) or [spec.out_channels]
        n_dec = len(heads) if spec.separated_decoders else 1
        dec = [max(1, f // n_dec) for f in fm] if spec.divide_feature_maps and n_dec > 1 else fm
        big = tuple(k + 2 if k > 1 else 1 for k in kernels[0])

        def block(cin: int, cout: int, j: int, drop: float, first: bool = False) -> nn.Module:
            k = kernels[max(j - 1, 0)]
            return ResConvBlock(ndim, cin, cout, k, nk, act, drop, nconvs[j], first=first,
                                skip_k=k, skip_norm=True)

        cin = spec.in_channels
        self.conv_in = None
        if spec.larger_io:
            self.conv_in = ConvBlock(ndim, cin, fm[0], big, nk, act)
            cin = fm[0]
        self.encoders = nn.ModuleList(
            [block(cin, fm[0], 0, drops[0], first=True)]
            + [block(fm[j - 1], fm[j], j, drops[j - 1]) for j in range(1, depth + 1)])
        self.se = nn.ModuleList(SqueezeExcite(ndim, f) for f in fm[:depth])
        self.pools = nn.ModuleList(LAYERS[ndim]["pool"](p) for p in pools[1:])
        self.bridge = ASPP(ndim, fm[depth], fm[-1], nk)

        def deeper(i: int) -> int:
            return fm[-1] if i == depth - 1 else dec[i + 2]

        def up(i: int) -> nn.Module:
            p = pools[i + 1]
            if spec.upsample_layer == "upsampling":
                return nn.Upsample(scale_factor=p, mode=LAYERS[ndim]["interp"])
            return LAYERS[ndim]["up"](deeper(i), deeper(i), p, stride=p)

        self.gates = nn.ModuleList(
            nn.ModuleList(Gate(ndim, fm[i], deeper(i), pools[i + 1], nk) for i in range(depth))
            for _ in range(n_dec))
        self.ups = nn.ModuleList(nn.ModuleList(up(i) for i in range(depth))
                                 for _ in range(n_dec))
        self.decoders = nn.ModuleList(
            nn.ModuleList(ResConvBlock(ndim, deeper(i) + fm[i], dec[i + 1], kernels[i], nk, act,
                                       drops[i + 2], nconvs[i + 1], skip_k=kernels[i],
                                       skip_norm=True) for i in range(depth))
            for _ in range(n_dec))
        self.aspp_out = nn.ModuleList(ASPP(ndim, dec[1], dec[0], nk) for _ in range(n_dec))
        self.conv_out = (nn.ModuleList(ConvBlock(ndim, dec[0], dec[0], big, nk, act)
                                       for _ in range(n_dec)) if spec.larger_io else None)
        self.heads = nn.ModuleList(conv(ndim, dec[0], h, 1) for h in heads)

    def _decode(self, j: int, x: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        for i in reversed(range(len(skips) - 1)):
            x = self.gates[j][i](skips[i], x)
            x = self.decoders[j][i](torch.cat([self.ups[j][i](x), skips[i]], dim=1))
        x = self.aspp_out[j](x)
        return x if self.conv_out is None else self.conv_out[j](x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.conv_in is not None:
            x = self.conv_in(x)
        skips = []
        for j, encoder in enumerate(self.encoders):
            x = encoder(x)
            if j < len(self.se):
                x = self.se[j](x)
            if j > 0:
                x = self.pools[j - 1](x)
            skips.append(x)
        x = self.bridge(x)
        feats = [self._decode(j, x, skips) for j in range(len(self.decoders))]
        return torch.cat([head(feats[min(i, len(feats) - 1)])
                          for i, head in enumerate(self.heads)], dim=1)
