"""STU-Net (Huang et al. 2023), as BiaPy 3.7.1 builds it for image to image (its code is
OrgMIM's), 2D and 3D.

A U-Net of residual blocks: per stage ``DEPTH[i]`` blocks of (conv, instance norm, leaky
ReLU, conv, instance norm, + shortcut, leaky ReLU) with ``CONV_KERNEL_SIZES[i]`` kernels and
``DIMS[i]`` channels; the first block of a stage has a 1x1 convolution on its shortcut, and
from stage 1 on it down-samples with stride ``POOL_OP_KERNEL_SIZES[i - 1]`` (conv and
shortcut). The decoder up-samples by nearest neighbour then a 1x1 convolution to the skip's
channels, concatenates (up-sampled, skip) and runs a stage of the same layout. The output
is a 1x1 convolution to the first head's channels, then one 1x1 convolution per head
(BiaPy's ``seg_outputs`` then ``heads``; deep supervision is off, as BiaPy builds it).

``VARIANT`` ``small``, ``base`` and ``large`` are BiaPy's presets: 6 stages, 3-wide kernels,
stride 2 at the first four down-samplings and 1 at the last; ``custom`` takes the four
lists. Instance normalisation is per sample over the whole input, a global term that no
finite halo holds: the halo is that of the convolutions, and only a tile holding the whole
image predicts exactly as the whole image. :func:`build_stunet` builds one from these
values alone (for networks that embed a STU-Net, as BiaPy's NAFNet GAN generator).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from i2i_nb.models.base import Net, Path
from i2i_nb.models.blocks import LAYERS
from i2i_nb.models.spec import ModelSpec

# BiaPy's presets: blocks and channels per stage.
VARIANTS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "small": ((1,) * 6, (16, 32, 64, 128, 256, 256)),
    "base": ((1,) * 6, (32, 64, 128, 256, 512, 512)),
    "large": ((2,) * 6, (64, 128, 256, 512, 1024, 1024)),
}


@dataclass(frozen=True)
class StunetLayout:
    """Per stage: residual blocks, channels, convolution kernel; per down-sampling: stride."""

    depth: tuple[int, ...]
    dims: tuple[int, ...]
    pools: tuple[tuple[int, ...], ...]
    kernels: tuple[tuple[int, ...], ...]


def stunet_layout(ndim: int, variant: str = "base", depth: Sequence[int] = (),
                  dims: Sequence[int] = (), pool_op_kernel_sizes: Sequence[Sequence[int]] = (),
                  conv_kernel_sizes: Sequence[Sequence[int]] = ()) -> StunetLayout:
    """The layout of a preset ``variant``, or of ``custom`` from the four lists.

    Raises
    ------
    ValueError
        An unknown variant, lists given to a preset, or lists that do not fit together.
    """
    variant = variant.lower()
    lists = {"depth": depth, "dims": dims, "pool_op_kernel_sizes": pool_op_kernel_sizes,
             "conv_kernel_sizes": conv_kernel_sizes}
    if variant in VARIANTS:
        given = [name for name, value in lists.items() if len(value)]
        if given:
            raise ValueError(f"stunet_{given[0]} is only used with stunet_variant 'custom', "
                             f"not {variant!r}")
        depth, dims = VARIANTS[variant]
        return StunetLayout(depth, dims, ((2,) * ndim,) * 4 + ((1,) * ndim,), ((3,) * ndim,) * 6)
    if variant != "custom":
        raise ValueError(f"stunet_variant must be one of {', '.join(VARIANTS)}, custom; got "
                         f"{variant!r}")
    n = len(dims)
    wanted = {"depth": n, "dims": max(n, 2), "conv_kernel_sizes": n,
              "pool_op_kernel_sizes": n - 1}
    for name, count in wanted.items():
        if len(lists[name]) != count:
            raise ValueError(f"stunet_{name} needs {count} entries (stunet_dims has {n} "
                             f"stages, at least 2), got {list(lists[name])}")
    if any(int(v) < 1 for v in (*depth, *dims)):
        raise ValueError(f"stunet_depth and stunet_dims must be positive, got {list(depth)}, "
                         f"{list(dims)}")
    for name in ("pool_op_kernel_sizes", "conv_kernel_sizes"):
        for entry in lists[name]:
            odd = name == "pool_op_kernel_sizes" or all(int(k) % 2 for k in entry)
            if len(entry) != ndim or any(int(k) < 1 for k in entry) or not odd:
                raise ValueError(f"stunet_{name}: each entry needs {ndim} positive sizes "
                                 f"{'' if name.startswith('pool') else '(odd) '}one per "
                                 f"spatial axis, got {list(entry)}")
    return StunetLayout(tuple(int(d) for d in depth), tuple(int(d) for d in dims),
                        tuple(tuple(int(k) for k in p) for p in pool_op_kernel_sizes),
                        tuple(tuple(int(k) for k in c) for c in conv_kernel_sizes))


def spec_layout(spec: ModelSpec) -> StunetLayout:
    """The layout a :class:`ModelSpec`'s ``stunet_*`` fields describe."""
    return stunet_layout(spec.ndim, spec.stunet_variant, spec.stunet_depth, spec.stunet_dims,
                         spec.stunet_pool_op_kernel_sizes, spec.stunet_conv_kernel_sizes)


class ResBlock(nn.Module):
    """Post-activation residual block with instance norm and leaky ReLU (BiaPy's
    BasicResBlock); ``project`` puts a 1x1 convolution (with the stride) on the shortcut."""

    def __init__(self, ndim: int, cin: int, cout: int, kernel: tuple[int, ...],
                 stride: tuple[int, ...] | None = None, project: bool = False) -> None:
        super().__init__()
        conv, inorm = LAYERS[ndim]["conv"], LAYERS[ndim]["in"]
        stride = stride or (1,) * ndim
        pad = tuple(k // 2 for k in kernel)
        self.conv1 = conv(cin, cout, kernel, stride=stride, padding=pad)
        self.norm1 = inorm(cout, affine=True)
        self.conv2 = conv(cout, cout, kernel, padding=pad)
        self.norm2 = inorm(cout, affine=True)
        self.shortcut = conv(cin, cout, 1, stride=stride) if project else None
        self.act = nn.LeakyReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``act(norm2(conv2(act(norm1(conv1(x))))) + shortcut(x))``."""
        y = self.norm2(self.conv2(self.act(self.norm1(self.conv1(x)))))
        return self.act(y + (x if self.shortcut is None else self.shortcut(x)))


def _stage(ndim: int, cin: int, cout: int, kernel: tuple[int, ...], blocks: int,
           stride: tuple[int, ...] | None = None) -> nn.Sequential:
    return nn.Sequential(ResBlock(ndim, cin, cout, kernel, stride, project=True),
                         *(ResBlock(ndim, cout, cout, kernel) for _ in range(blocks - 1)))


def _path(ndim: int, layout: StunetLayout) -> Path:
    """Encoder down to the bottleneck, then the decoder back up (the deepest path)."""
    scales = [tuple(math.prod(p[a] for p in layout.pools[:i]) for a in range(ndim))
              for i in range(len(layout.dims))]
    path: Path = [(layout.kernels[0], scales[0])] * (2 * layout.depth[0])
    for i in range(1, len(layout.dims)):  # the strided conv reads at the finer spacing
        path += [(layout.kernels[i], scales[i - 1])]
        path += [(layout.kernels[i], scales[i])] * (2 * layout.depth[i] - 1)
    for i in reversed(range(len(layout.dims) - 1)):  # nearest up-sampling: a box of the stride
        path += [(layout.pools[i], scales[i])]
        path += [(layout.kernels[i], scales[i])] * (2 * layout.depth[i])
    return path


class STUNet(Net):
    """STU-Net from a :class:`StunetLayout` (see the module docstring); ``heads`` splits the
    output channels (one entry: one head)."""

    def __init__(self, ndim: int, in_channels: int, heads: Sequence[int],
                 layout: StunetLayout, residual: bool = False) -> None:
        divisor = tuple(math.prod(p[a] for p in layout.pools) for a in range(ndim))
        super().__init__(ndim, residual, divisor, _path(ndim, layout))
        conv = LAYERS[ndim]["conv"]
        dims, kernels, depth, pools = layout.dims, layout.kernels, layout.depth, layout.pools
        self.layout = layout
        self.encoders = nn.ModuleList(
            _stage(ndim, dims[i - 1] if i else in_channels, dims[i], kernels[i], depth[i],
                   pools[i - 1] if i else None) for i in range(len(dims)))
        levels = list(reversed(range(len(dims) - 1)))
        self.ups = nn.ModuleList(nn.Sequential(nn.Upsample(scale_factor=pools[i]),
                                               conv(dims[i + 1], dims[i], 1)) for i in levels)
        self.decoders = nn.ModuleList(_stage(ndim, 2 * dims[i], dims[i], kernels[i], depth[i])
                                      for i in levels)
        self.seg_output = conv(dims[0], heads[0], 1)
        self.heads = nn.ModuleList(conv(heads[0], h, 1) for h in heads)

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> STUNet:
        """The STU-Net of a :class:`ModelSpec` (``stunet_*`` fields, ``heads``)."""
        return cls(spec.ndim, spec.in_channels, list(spec.heads) or [spec.out_channels],
                   spec_layout(spec), spec.residual)

    def last_layer(self) -> nn.Parameter:
        """The weight of the last head's convolution (BiaPy's ``last_layer``, which its GAN
        losses use for VQGAN-style adaptive weighting)."""
        return self.heads[-1].weight

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for encoder in self.encoders[:-1]:
            x = encoder(x)
            skips.append(x)
        x = self.encoders[-1](x)
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(skips), strict=True):
            x = decoder(torch.cat([up(x), skip], dim=1))
        x = self.seg_output(x)
        return torch.cat([head(x) for head in self.heads], dim=1)


def build_stunet(ndim: int, in_channels: int, out_channels: int | Sequence[int],
                 variant: str = "base", depth: Sequence[int] = (), dims: Sequence[int] = (),
                 pool_op_kernel_sizes: Sequence[Sequence[int]] = (),
                 conv_kernel_sizes: Sequence[Sequence[int]] = (),
                 residual: bool = False) -> STUNet:
    """A STU-Net from BiaPy's ``MODEL.STUNET`` values (the lists only with ``custom``).

    Parameters
    ----------
    ndim : int
        2 or 3.
    in_channels : int
        Input channels.
    out_channels : int or sequence of int
        Output channels, or the channels of each head.
    variant : str
        ``small``, ``base``, ``large`` or ``custom``.
    depth, dims, pool_op_kernel_sizes, conv_kernel_sizes : sequences
        ``custom`` only: blocks and channels per stage, stride per down-sampling (one fewer),
        kernel per stage; strides and kernels have one size per spatial axis.
    residual : bool
        Add the input to the output (needs as many output channels as input channels).

    Raises
    ------
    ValueError
        Values that do not make a STU-Net (see :func:`stunet_layout`).
    """
    heads = [out_channels] if isinstance(out_channels, int) else list(out_channels)
    return STUNet(ndim, in_channels, heads, stunet_layout(
        ndim, variant, depth, dims, pool_op_kernel_sizes, conv_kernel_sizes), residual)
