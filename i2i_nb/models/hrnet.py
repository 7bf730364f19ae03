"""The high-resolution network (HRNet, Wang et al. 2020) as BiaPy 3.7.1 lays it out, 2D and 3D.

Stem: two 3x3 convolution units, each strided by the first stage's down-sampling
(``(Z_DOWN[0], YX_DOWN[0], YX_DOWN[0])``), then four bottleneck blocks of width 64 (256
channels). Stage ``i`` (``MODEL.HRNET``'s lists, one entry per stage): a transition (a 3x3
unit where a branch changes width; new branches from the deepest one by 3x3 units strided by
the stage's down-sampling), then ``NUM_MODULES[i]`` modules of ``NUM_BRANCHES[i]`` parallel
branches (``NUM_BLOCKS[i][b]`` blocks of ``BLOCK_TYPE``, ``NUM_CHANNELS[i][b]`` x the
block's expansion channels) whose outputs are fused: every branch receives the sum of all,
deeper ones through a 1x1 unit and interpolation, finer ones through strided 3x3 units, then
``MODEL.ACTIVATION``. The branches are interpolated to the finest, concatenated and given to
the head (``FCN``: a 1x1 convolution per output head; ``ASPP``, ``PSP``, ``OCR``: that
context module, then a 1x1 convolution per head), then interpolated back to the input size.

Differences from BiaPy 3.7.1, each where its code does not run or cannot tile:
interpolation uses ``align_corners=False`` (BiaPy's ``True`` in the fusion depends on the
image size, so tiles could never equal the whole image); ``BOTTLENECK`` branches carry
``4 x NUM_CHANNELS`` channels with blocks of width ``NUM_CHANNELS`` (BiaPy's expands twice
and fails on the first forward pass); ``CONVNEXT_V1``/``V2`` blocks keep the branch's width
(BiaPy's fail to build); ASPP, PSP and OCR are followed by a 1x1 convolution per head
(BiaPy's output their 256 features as the prediction); GRN normalises over every spatial
axis in 3D (BiaPy's over z and y only).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812 - torch's usual name
from torch import nn

from i2i_nb.models.base import Net, Path, halo_of
from i2i_nb.models.blocks import LAYERS, activation, conv
from i2i_nb.models.hrnet_parts import (
    ASPP,
    BLOCKS,
    HEAD_WIDTH,
    Bottleneck,
    context_head,
    conv_unit,
)
from i2i_nb.models.spec import HRNetSpec, ModelSpec

VARIANTS = ("W18", "W32", "W48", "W64", "custom")
HEADS = ("FCN", "ASPP", "PSP", "OCR")
STEM = 64  # BiaPy's fixed stem width (its layer1: four bottlenecks of width 64)
Strides = tuple[int, ...]


@dataclass
class Stage:
    """One stage: module count, per branch its block count and width, its down-sampling."""

    modules: int
    blocks: list[int]
    widths: list[int]
    pool: Strides


def layout(h: HRNetSpec, ndim: int) -> list[Stage]:
    """The stages of a spec (named variants expanded as BiaPy does)."""
    if h.variant.upper() != "CUSTOM":
        base = int(h.variant.upper().removeprefix("W"))
        modules, branches = [1, 4, 3], [2, 3, 4]
        blocks = [[4] * b for b in branches]
        channels = [[base * 2 ** i for i in range(b)] for b in branches]
    else:
        modules, blocks, channels = h.num_modules, h.num_blocks, h.num_channels
    n = len(modules)
    z_down = list(h.z_down) or [1] * n
    yx_down = list(h.yx_down) or [2] * n
    pools = [((z, yx, yx) if ndim == 3 else (yx, yx)) for z, yx in zip(z_down, yx_down,
                                                                         strict=True)]
    return [Stage(m, list(b), list(c), p) for m, b, c, p in zip(modules, blocks, channels, pools,
                                                                strict=True)]


def check(h: HRNetSpec, ndim: int) -> None:
    """Raise ValueError naming the ``hrnet`` field that does not fit."""
    if h.variant.upper() not in {v.upper() for v in VARIANTS}:
        raise ValueError(f"hrnet variant must be one of {', '.join(VARIANTS)}, got {h.variant!r}")
    if h.block_type.upper() not in BLOCKS:
        raise ValueError(f"hrnet block_type must be one of {', '.join(BLOCKS)}, got "
                         f"{h.block_type!r}")
    if h.head_type.upper() not in HEADS:
        raise ValueError(f"hrnet head_type must be one of {', '.join(HEADS)}, got "
                         f"{h.head_type!r}")
    if ndim == 3 and h.head_type.upper() == "OCR":
        raise ValueError("hrnet head_type OCR is 2D only (as in BiaPy)")
    n = 3 if h.variant.upper() != "CUSTOM" else h.num_stages
    if h.variant.upper() == "CUSTOM":
        if n < 1:
            raise ValueError(f"hrnet num_stages must be at least 1, got {n}")
        for name in ("num_modules", "num_branches", "num_blocks", "num_channels"):
            if len(getattr(h, name)) != n:
                raise ValueError(f"hrnet {name} needs {n} entries (num_stages), got "
                                 f"{getattr(h, name)}")
        for i, b in enumerate(h.num_branches):
            if b < 1 or (i and b < h.num_branches[i - 1]):
                raise ValueError(f"hrnet num_branches must be at least 1 and never fall, got "
                                 f"{h.num_branches}")
            for name in ("num_blocks", "num_channels"):
                if len(getattr(h, name)[i]) != b or min(getattr(h, name)[i]) < 1:
                    raise ValueError(f"hrnet {name}[{i}] needs {b} positive values "
                                     f"(num_branches[{i}]), got {getattr(h, name)[i]}")
        if min(h.num_modules) < 1:
            raise ValueError(f"hrnet num_modules must be at least 1, got {h.num_modules}")
    for name in ("z_down", "yx_down"):
        values = getattr(h, name)
        if values and (len(values) != n or any(v not in (1, 2) for v in values)):
            raise ValueError(f"hrnet {name} needs {n} values in {{1, 2}} (one per stage), got "
                             f"{values}")


def _upsample(fine: Strides, coarse: Strides) -> tuple[Strides, Strides]:
    """Linear interpolation from ``coarse`` to ``fine`` spacing as a kernel on the fine grid.

    By ``r``, its sources lie within ``r - 1/2`` fine pixels of their grid positions, and
    that grid (``align_corners=False``) sits ``(r - 1) / 2`` pixels off the strided
    convolutions' (coarse pixel ``m`` at fine ``r * m``): reach under ``(3r - 1) / 2``,
    a box of ``3r - 1``."""
    return tuple(3 * (c // f) - 1 if c > f else 1 for f, c in zip(fine, coarse,
                                                                   strict=True)), fine


def _extent(path: Path, a: int) -> tuple[int, int]:
    """Reach (twice, exact) and unit-weight variance (x 12) of a path along axis ``a``."""
    return (sum((k[a] - 1) * s[a] for k, s in path),
            sum(s[a] ** 2 * (k[a] ** 2 - 1) for k, s in path))


def _deepest_paths(stages: list[Stage], block: str, head: str, stem: Strides,
                   ndim: int) -> list[Path]:
    """Per axis, the layer path of greatest reach along that axis (through the branches and
    the fusions: a dynamic programme over the branches)."""
    ones, k3 = (1,) * ndim, (3,) * ndim
    s1 = tuple(s * s for s in stem)
    per_block = {"BASIC": [k3, k3], "BOTTLENECK": [k3]}.get(block, [(7,) * ndim])
    expansion = BLOCKS[block].expansion
    result = []
    for a in range(ndim):
        def longest(paths: list[Path], a: int = a) -> Path:
            return max(paths, key=functools.partial(_extent, a=a))
        paths: list[Path] = [[(k3, ones), (k3, stem)] + [(k3, s1)] * 4]
        strides, previous = [s1], [STEM * 4]
        for st in stages:
            channels = [w * expansion for w in st.widths]
            base, old = paths[-1], len(previous)
            paths = [p + ([(k3, strides[b])] if channels[b] != previous[b] else [])
                     for b, p in enumerate(paths)]
            for _ in range(old, len(channels)):
                strides.append(tuple(s * q for s, q in zip(strides[-1], st.pool, strict=True)))
            paths += [base + [(k3, strides[t]) for t in range(old - 1, j)]
                      for j in range(old, len(channels))]  # new branches: strided chains
            for _ in range(st.modules):
                inner = [p + [(k, strides[b]) for k in per_block] * st.blocks[b]
                         for b, p in enumerate(paths)]
                paths = [longest([p + ([] if j == i else [_upsample(strides[i], strides[j])]
                                       if j > i else _down_steps(strides[j], strides[i]))
                                  for j, p in enumerate(inner)]) for i in range(len(inner))]
            previous = channels
        end = longest([p + [_upsample(s1, strides[b])] for b, p in enumerate(paths)])
        if head == "ASPP":
            end = end + [(k3, tuple(ASPP.rates[-1] * s for s in s1))]
        elif head == "OCR":
            end = end + [(k3, s1)]
        result.append(end + [_upsample(ones, s1)])
    return result


def _down_steps(fine: Strides, coarse: Strides) -> Path:
    """The strided 3x3 units that carry ``fine`` features to ``coarse`` spacing."""
    rel = [c // f for f, c in zip(fine, coarse, strict=True)]
    steps, spacing = [], tuple(fine)
    while any(r > 1 for r in rel):
        steps.append(((3,) * len(rel), spacing))
        stride = tuple(2 if r > 1 else 1 for r in rel)
        spacing = tuple(s * t for s, t in zip(spacing, stride, strict=True))
        rel = [r // t for r, t in zip(rel, stride, strict=True)]
    return steps or [((3,) * len(rel), tuple(fine))]


def _down_unit(ndim: int, cin: int, cout: int, fine: Strides, coarse: Strides, norm_kind: str,
               act: str) -> nn.Sequential:
    """BiaPy's fusion from a finer branch: strided 3x3 units (one, unstrided, at equal
    spacing), activation after all but the last."""
    rel = [c // f for f, c in zip(fine, coarse, strict=True)]
    n = max(1, math.ceil(math.log2(max(rel))))
    units = []
    for k in range(n):
        stride = tuple(2 if r > 1 else 1 for r in rel)
        rel = [r // t for r, t in zip(rel, stride, strict=True)]
        last = k == n - 1
        units.append(conv_unit(ndim, cin, cout if last else cin, 3, stride, norm_kind,
                               "none" if last else act))
    return nn.Sequential(*units)


class HRModule(nn.Module):
    """Parallel branches of blocks, then each branch receives the sum of all (BiaPy's
    HighResolutionModule, always multi-scale)."""

    def __init__(self, ndim: int, widths: list[int], blocks: list[int], block: str,
                 strides: list[Strides], norm_kind: str, act: str) -> None:
        super().__init__()
        kind = BLOCKS[block]
        channels = [w * kind.expansion for w in widths]
        self.branches = nn.ModuleList(
            nn.Sequential(*(kind(ndim, c, w, norm_kind) for _ in range(n)))
            for c, w, n in zip(channels, widths, blocks, strict=True))
        self.fuse = nn.ModuleList()
        if len(widths) > 1:
            for i, ci in enumerate(channels):
                self.fuse.append(nn.ModuleList(
                    nn.Identity() if j == i else
                    conv_unit(ndim, cj, ci, 1, norm_kind=norm_kind) if j > i else
                    _down_unit(ndim, cj, ci, strides[j], strides[i], norm_kind, act)
                    for j, cj in enumerate(channels)))
        self.act = activation(act)
        self.mode = LAYERS[ndim]["interp"]

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        """Branch features, finest first."""
        xs = [b(x) for b, x in zip(self.branches, xs, strict=True)]
        if len(xs) == 1:
            return xs
        out = []
        for i, row in enumerate(self.fuse):
            y = xs[i]
            for j, unit in enumerate(row):
                if j > i:
                    y = y + F.interpolate(unit(xs[j]), size=xs[i].shape[2:], mode=self.mode,
                                          align_corners=False)
                elif j < i:
                    y = y + unit(xs[j])
            out.append(self.act(y))
        return out


class HRNet(Net):
    """HRNet built from a :class:`ModelSpec` (see the module docstring)."""

    def __init__(self, spec: ModelSpec) -> None:
        ndim, h = spec.ndim, spec.hrnet
        block, head = h.block_type.upper(), h.head_type.upper()
        stages = layout(h, ndim)
        stem = stages[0].pool
        strides = [tuple(s * s for s in stem)]
        for st in stages:
            while len(strides) < len(st.widths):
                strides.append(tuple(s * p for s, p in zip(strides[-1], st.pool, strict=True)))
        paths = _deepest_paths(stages, block, head, stem, ndim)
        super().__init__(ndim, spec.residual, strides[-1], paths[0])
        reach = [halo_of(p, ndim) for p in paths]
        self.receptive_field = tuple(r[0][a] for a, r in enumerate(reach))
        self.halo = tuple(r[1][a] for a, r in enumerate(reach))
        nk, act = spec.normalization, spec.activation
        self.stem = nn.Sequential(
            conv_unit(ndim, spec.in_channels, STEM, 3, stem, nk),
            conv_unit(ndim, STEM, STEM, 3, stem, nk, act),
            Bottleneck(ndim, STEM, STEM, nk),
            *(Bottleneck(ndim, STEM * 4, STEM, nk) for _ in range(3)))
        self.transitions, self.stages = nn.ModuleList(), nn.ModuleList()
        previous, expansion = [STEM * 4], BLOCKS[block].expansion
        for st in stages:
            channels = [w * expansion for w in st.widths]
            units = nn.ModuleList(
                nn.Identity() if c == previous[b]
                else conv_unit(ndim, previous[b], c, 3, 1, nk, act)
                for b, c in enumerate(channels[:len(previous)]))
            for b in range(len(previous), len(channels)):
                chain = [conv_unit(ndim, previous[-1], previous[-1], 3, st.pool, nk, act)
                         for _ in range(b - len(previous))]
                units.append(nn.Sequential(*chain, conv_unit(ndim, previous[-1], channels[b], 3,
                                                             st.pool, nk, act)))
            self.transitions.append(units)
            self.stages.append(nn.Sequential(*(HRModule(ndim, st.widths, st.blocks, block,
                                                        strides, nk, act)
                                               for _ in range(st.modules))))
            previous = channels
        width = sum(previous)
        heads = list(spec.heads) or [spec.out_channels]
        self.context = None
        if head != "FCN":
            self.context = context_head(head, ndim, width, nk, heads[0])
            width = HEAD_WIDTH
        self.heads = nn.ModuleList(conv(ndim, width, c, 1) for c in heads)
        self.mode, self.scale = LAYERS[ndim]["interp"], strides[0]

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        xs = [self.stem(x)]
        for transition, stage in zip(self.transitions, self.stages, strict=True):
            xs = [unit(xs[min(b, len(xs) - 1)]) for b, unit in enumerate(transition)]
            for module in stage:
                xs = module(xs)
        size = xs[0].shape[2:]
        feats = torch.cat([xs[0], *(F.interpolate(y, size=size, mode=self.mode,
                                                  align_corners=False) for y in xs[1:])], dim=1)
        if self.context is not None:
            feats = self.context(feats)
        out = torch.cat([head(feats) for head in self.heads], dim=1)
        return F.interpolate(out, scale_factor=self.scale, mode=self.mode, align_corners=False)
