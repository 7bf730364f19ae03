"""BiaPy 3.7.1's ``multiresunet`` (Ibtehaz & Rahman 2020, arXiv:1902.04049), 2D and 3D.

Per level a MultiRes block: three chained 3x3 convolutions (each with batch norm and ReLU;
together they reach as far as a 3x3, a 5x5 and a 7x7) with ``int(W * 0.167)``,
``int(W * 0.333)`` and ``int(W * 0.5)`` filters, ``W = 1.67 * FILTERS``, concatenated,
normalised, added to a normalised 1x1 shortcut, normalised again and passed through ReLU.
Max pooling by ``(Z_DOWN[i], YX_DOWN[i], YX_DOWN[i])``. Each skip goes through a ResPath:
``levels - 1 - i`` residual 3x3 units (the one normalisation layer of a unit used twice, as
BiaPy). The decoder up-samples with a transposed convolution to ``FILTERS`` channels,
concatenates the ResPath's ``FILTERS`` channels and applies a MultiRes block; 1x1 heads.

BiaPy builds it with fixed sizes: ``FILTERS`` 32, 64, 128, 256, 512 (five levels, not
``MODEL.FEATURE_MAPS``), batch norm, ReLU, 3x3 kernels and transposed convolutions; of the
MODEL keys it reads ``Z_DOWN`` (four values). ``YX_DOWN``, whose length BiaPy checks (four)
but which it does not pass on (it always pools y and x by 2), is honoured here.
``ModelSpec.feature_maps`` holds the filters per level and ``ModelSpec.normalization`` the
normalisation; a config always gives BiaPy's (:func:`biapy_layout`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from i2i_nb.models.base import Net, Path
from i2i_nb.models.blocks import LAYERS, conv, norm
from i2i_nb.models.spec import ModelSpec

ALPHA = 1.67
BIAPY_FEATURE_MAPS = (32, 64, 128, 256, 512)


def biapy_layout(spec: ModelSpec) -> ModelSpec:
    """``spec`` with the sizes and layers BiaPy's builder fixes: only its ``z_down``,
    ``yx_down``, ``heads`` and ``residual`` are kept."""
    return ModelSpec(spec.architecture, spec.ndim, spec.in_channels, spec.out_channels,
                     feature_maps=list(BIAPY_FEATURE_MAPS), z_down=spec.z_down,
                     yx_down=list(spec.yx_down), normalization="bn", residual=spec.residual,
                     activation="relu", heads=list(spec.heads))


def widths(filters: int) -> tuple[int, int, int]:
    """Channels of a MultiRes block's three chained convolutions for ``filters``."""
    w = filters * ALPHA
    return int(w * 0.167), int(w * 0.333), int(w * 0.5)


class ConvNorm(nn.Sequential):
    """Convolution and normalisation, then ReLU when ``relu`` (BiaPy's Conv_batchnorm)."""

    def __init__(self, ndim: int, cin: int, cout: int, k: int, norm_kind: str,
                 relu: bool = True) -> None:
        super().__init__(conv(ndim, cin, cout, k), norm(norm_kind, ndim, cout),
                         *([nn.ReLU()] if relu else []))


class MultiResBlock(nn.Module):
    """The MultiRes block (see the module docstring); ``out_channels`` = ``sum(widths)``."""

    def __init__(self, ndim: int, cin: int, filters: int, norm_kind: str) -> None:
        super().__init__()
        a, b, c = widths(filters)
        self.out_channels = a + b + c
        self.shortcut = ConvNorm(ndim, cin, self.out_channels, 1, norm_kind, relu=False)
        self.convs = nn.ModuleList([ConvNorm(ndim, cin, a, 3, norm_kind),
                                    ConvNorm(ndim, a, b, 3, norm_kind),
                                    ConvNorm(ndim, b, c, 3, norm_kind)])
        self.norm1 = norm(norm_kind, ndim, self.out_channels)
        self.norm2 = norm(norm_kind, ndim, self.out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``relu(norm2(norm1(cat(a, b, c)) + shortcut(x)))``."""
        outs, y = [], x
        for layer in self.convs:
            y = layer(y)
            outs.append(y)
        return torch.relu(self.norm2(self.norm1(torch.cat(outs, dim=1)) + self.shortcut(x)))


class ResPath(nn.Module):
    """``length`` residual units on a skip connection: ``relu(n(relu(n(conv3(x))) + s(x)))``
    with one normalisation layer ``n`` per unit and a normalised 1x1 shortcut ``s``."""

    def __init__(self, ndim: int, cin: int, cout: int, length: int, norm_kind: str) -> None:
        super().__init__()
        ins = [cin] + [cout] * (length - 1)
        self.shortcuts = nn.ModuleList(ConvNorm(ndim, c, cout, 1, norm_kind, relu=False)
                                       for c in ins)
        self.convs = nn.ModuleList(ConvNorm(ndim, c, cout, 3, norm_kind) for c in ins)
        self.norms = nn.ModuleList(norm(norm_kind, ndim, cout) for _ in ins)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the units in turn."""
        for short, layer, n in zip(self.shortcuts, self.convs, self.norms, strict=True):
            x = torch.relu(n(torch.relu(n(layer(x))) + short(x)))
        return x


def _pools(spec: ModelSpec) -> list[tuple[int, ...]]:
    levels = len(spec.feature_maps)
    z_down = list(spec.z_down) if spec.z_down else [2] * (levels - 1)
    yx_down = list(spec.yx_down) if spec.yx_down else [2] * (levels - 1)
    return [(z, yx, yx) if spec.ndim == 3 else (yx, yx)
            for z, yx in zip(z_down, yx_down, strict=True)]


def _path(ndim: int, pools: list[tuple[int, ...]]) -> Path:
    """The deepest path: 3 convolutions per MultiRes block, pooling and up-sampling."""
    three = (3,) * ndim
    path: Path = []
    for i, p in enumerate(pools):
        s = tuple(math.prod(q[a] for q in pools[:i]) for a in range(ndim))
        path += [(three, s)] * 6 + [(p, s)] * 2
    bottom = tuple(math.prod(q[a] for q in pools) for a in range(ndim))
    return path + [(three, bottom)] * 3


class MultiResUNet(Net):
    """MultiResUNet built from a :class:`ModelSpec` (see the module docstring)."""

    def __init__(self, spec: ModelSpec) -> None:
        ndim, fm, nk = spec.ndim, list(spec.feature_maps), spec.normalization
        pools = _pools(spec)
        super().__init__(ndim, spec.residual,
                         tuple(math.prod(p[a] for p in pools) for a in range(ndim)),
                         _path(ndim, pools))
        levels = len(fm)
        self.encoders = nn.ModuleList()
        cin = spec.in_channels
        for f in fm:
            self.encoders.append(MultiResBlock(ndim, cin, f, nk))
            cin = self.encoders[-1].out_channels
        self.pools = nn.ModuleList(LAYERS[ndim]["pool"](p) for p in pools)
        self.respaths = nn.ModuleList(
            ResPath(ndim, self.encoders[i].out_channels, fm[i], levels - 1 - i, nk)
            for i in range(levels - 1))
        self.ups = nn.ModuleList(
            LAYERS[ndim]["up"](sum(widths(fm[i + 1])), fm[i], pools[i], stride=pools[i])
            for i in range(levels - 1))
        self.decoders = nn.ModuleList(MultiResBlock(ndim, 2 * fm[i], fm[i], nk)
                                      for i in range(levels - 1))
        width = sum(widths(fm[0]))
        self.heads = nn.ModuleList(conv(ndim, width, h, 1)
                                   for h in (list(spec.heads) or [spec.out_channels]))

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for encoder, pool, respath in zip(self.encoders, self.pools, self.respaths,
                                          strict=False):
            x = encoder(x)
            skips.append(respath(x))
            x = pool(x)
        x = self.encoders[-1](x)
        for i in reversed(range(len(skips))):
            x = self.decoders[i](torch.cat([self.ups[i](x), skips[i]], dim=1))
        return torch.cat([head(x) for head in self.heads], dim=1)
