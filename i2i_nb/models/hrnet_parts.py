"""HRNet's layers as BiaPy 3.7.1 lays them out: convolution units, residual blocks
(``BASIC``, ``BOTTLENECK``, ``CONVNEXT_V1``, ``CONVNEXT_V2``) and the context heads
(``ASPP``, ``PSP``, ``OCR``), 2D and 3D (``ndim`` is a value).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F  # noqa: N812 - torch's usual name
from torch import nn

from i2i_nb.models.blocks import LAYERS, GlobalResponseNorm, activation, norm

HEAD_WIDTH = 256  # BiaPy's fixed width of the ASPP, PSP and OCR heads


def conv_unit(ndim: int, cin: int, cout: int, k: int = 3, stride: Sequence[int] | int = 1,
              norm_kind: str = "none", act: str = "none", bias: bool = False,
              dilation: int = 1) -> nn.Sequential:
    """Convolution (``same`` padding, optional stride), normalisation, activation."""
    layer = LAYERS[ndim]["conv"](cin, cout, k, stride=stride, padding=dilation * (k // 2),
                                 dilation=dilation, bias=bias)
    return nn.Sequential(layer, norm(norm_kind, ndim, cout), activation(act))


class BasicBlock(nn.Module):
    """BiaPy's HRBasicBlock: two 3x3 convolution + normalisation units (no activation
    between them, as BiaPy), the shortcut added, ReLU."""

    expansion = 1

    def __init__(self, ndim: int, cin: int, width: int, norm_kind: str) -> None:
        super().__init__()
        cout = width * self.expansion
        self.body = nn.Sequential(conv_unit(ndim, cin, width, 3, norm_kind=norm_kind),
                                  conv_unit(ndim, width, cout, 3, norm_kind=norm_kind))
        self.shortcut = (nn.Identity() if cin == cout
                         else conv_unit(ndim, cin, cout, 1, norm_kind=norm_kind))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``relu(body(x) + shortcut(x))``."""
        return F.relu(self.body(x) + self.shortcut(x))


class Bottleneck(BasicBlock):
    """BiaPy's HRBottleneck: 1x1, 3x3 and 1x1 (to ``4 * width``) convolution +
    normalisation units, the shortcut added, ReLU."""

    expansion = 4

    def __init__(self, ndim: int, cin: int, width: int, norm_kind: str) -> None:
        super().__init__(ndim, cin, width, norm_kind)
        self.body = nn.Sequential(
            conv_unit(ndim, cin, width, 1, norm_kind=norm_kind),
            conv_unit(ndim, width, width, 3, norm_kind=norm_kind),
            conv_unit(ndim, width, width * self.expansion, 1, norm_kind=norm_kind))


class ConvNeXtBlock(nn.Module):
    """ConvNeXt block (Liu et al. 2022; V2: Woo et al. 2023), BiaPy's ConvNeXtBlock_V1/V2:
    depthwise 7x7 convolution, layer norm over the channels, linear to ``4 * dim``, GELU,
    (V2: GRN), linear back, (V1: layer scale from 1e-6), added to the input. Its width
    is the branch's (``expansion`` 1)."""

    expansion = 1

    def __init__(self, ndim: int, cin: int, width: int, norm_kind: str, v2: bool = False,
                 k: int = 7) -> None:
        super().__init__()
        del norm_kind  # ConvNeXt has its own layer norm, as in BiaPy
        if cin != width:
            raise ValueError(f"a ConvNeXt block keeps its width, got {cin} -> {width}")
        self.dwconv = LAYERS[ndim]["conv"](width, width, k, padding=k // 2, groups=width)
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(),
                                 GlobalResponseNorm(4 * width) if v2 else nn.Identity(),
                                 nn.Linear(4 * width, width))
        self.scale = None if v2 else nn.Parameter(torch.full((width,), 1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x + block(x)``."""
        y = self.mlp(self.norm(self.dwconv(x).movedim(1, -1)))
        if self.scale is not None:
            y = y * self.scale
        return x + y.movedim(-1, 1)


class ConvNeXtV2Block(ConvNeXtBlock):
    """:class:`ConvNeXtBlock` with global response normalisation and no layer scale."""

    def __init__(self, ndim: int, cin: int, width: int, norm_kind: str) -> None:
        super().__init__(ndim, cin, width, norm_kind, v2=True)


BLOCKS: dict[str, type[BasicBlock] | type[ConvNeXtBlock]] = {
    "BASIC": BasicBlock, "BOTTLENECK": Bottleneck, "CONVNEXT_V1": ConvNeXtBlock,
    "CONVNEXT_V2": ConvNeXtV2Block,
}


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling as BiaPy's: 3x3 convolutions dilated 6, 12 and 18, each
    followed by ReLU and normalisation, concatenated and fused by a 1x1 convolution."""

    rates = (6, 12, 18)

    def __init__(self, ndim: int, cin: int, cout: int, norm_kind: str) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(LAYERS[ndim]["conv"](cin, cout, 3, padding=r, dilation=r),
                          nn.ReLU(), norm(norm_kind, ndim, cout)) for r in self.rates)
        self.fuse = LAYERS[ndim]["conv"](len(self.rates) * cout, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Context features, ``cout`` channels."""
        return self.fuse(torch.cat([b(x) for b in self.branches], dim=1))


class PSP(nn.Module):
    """Pyramid pooling as BiaPy's: average pools to 1, 2, 3 and 6 bins per axis, each 1x1
    convolution, ReLU, normalisation, interpolated back; concatenated with the input, 1x1
    convolution, normalisation, ReLU. The pools are whole-input terms."""

    bins = (1, 2, 3, 6)

    def __init__(self, ndim: int, cin: int, cout: int, norm_kind: str) -> None:
        super().__init__()
        self.mode = LAYERS[ndim]["interp"]
        self.stages = nn.ModuleList(
            nn.Sequential(LAYERS[ndim]["gap"](b), LAYERS[ndim]["conv"](cin, cout, 1, bias=False),
                          nn.ReLU(), norm(norm_kind, ndim, cout)) for b in self.bins)
        self.fuse = nn.Sequential(
            LAYERS[ndim]["conv"](cin + len(self.bins) * cout, cout, 1, bias=False),
            norm(norm_kind, ndim, cout), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Context features, ``cout`` channels."""
        size = x.shape[2:]
        pooled = [F.interpolate(s(x), size=size, mode=self.mode, align_corners=False)
                  for s in self.stages]
        return self.fuse(torch.cat([x, *pooled], dim=1))


class OCR(nn.Module):
    """Object-contextual representations as BiaPy's OCRHead: 3x3 unit to ``cout``, a 1x1
    coarse map of ``regions`` soft object regions, each region's feature (softmax over all
    pixels), pixel-region attention, its 1x1 projection back and a 1x1 unit. The regions
    pool the whole input."""

    def __init__(self, ndim: int, cin: int, cout: int, norm_kind: str, regions: int) -> None:
        super().__init__()

        def unit(a: int, b: int) -> nn.Sequential:
            return conv_unit(ndim, a, b, 1, norm_kind=norm_kind, act="relu")

        self.reduce = conv_unit(ndim, cin, cout, 3, norm_kind=norm_kind, act="relu")
        self.regions = LAYERS[ndim]["conv"](cout, regions, 1)
        self.query, self.key, self.value = unit(cout, cout), unit(cout, cout), unit(cout, cout)
        self.up, self.out = unit(cout, cout), unit(cout, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Context features, ``cout`` channels."""
        feats = self.reduce(x)
        n, c, *spatial = feats.shape
        probs = F.softmax(self.regions(feats).flatten(2), dim=2)  # (N, K, P)
        context = torch.bmm(feats.flatten(2), probs.transpose(1, 2))  # (N, C, K)
        context = context.view(n, c, -1, *[1] * (len(spatial) - 1))
        query = self.query(feats).flatten(2).transpose(1, 2)  # (N, P, C)
        key, value = self.key(context).flatten(2), self.value(context).flatten(2)
        attention = F.softmax(torch.bmm(query, key) * c ** -0.5, dim=-1)  # (N, P, K)
        mixed = torch.bmm(attention, value.transpose(1, 2)).transpose(1, 2)
        return self.out(self.up(mixed.reshape(n, c, *spatial)))


def context_head(kind: str, ndim: int, cin: int, norm_kind: str, regions: int) -> nn.Module:
    """``HEAD_TYPE`` ``ASPP``, ``PSP`` or ``OCR`` (``HEAD_WIDTH`` channels out)."""
    if kind == "ASPP":
        return ASPP(ndim, cin, HEAD_WIDTH, norm_kind)
    if kind == "PSP":
        return PSP(ndim, cin, HEAD_WIDTH, norm_kind)
    return OCR(ndim, cin, HEAD_WIDTH, norm_kind, regions)
