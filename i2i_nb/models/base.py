"""The network base: geometry every model exposes for training and tiled prediction.

Every model has ``ndim`` (2 or 3), ``divisor`` (per spatial axis, input sizes must be
multiples of it), ``receptive_field`` (per axis, one-sided theoretical reach in pixels),
``halo`` (per axis, the context that actually matters, used for tiled prediction) and
``fixed_shape`` (``None``, or the one spatial size a network with a fixed input size takes:
it is then tiled at that size).

Halo choice: along the deepest path the network is a cascade of k-tap kernels at pixel
spacing s (convolutions, pooling, up-sampling).  Replacing every kernel by a unit box --
the "unit-weight" linearisation -- gives an impulse response whose variance is the sum of
the box variances ``s**2 * (k**2 - 1) / 12`` and which is close to Gaussian (central limit
theorem).  Influence beyond 3 standard deviations is < 0.3 %, so
``halo = min(receptive_field, ceil(3 * sigma))``; CSBDeep likewise sizes tile overlaps by
where the receptive field has measurable influence.  Global terms (squeeze-and-excitation,
RCAN's channel attention, Fourier attention) pool over the whole input; that weak term is
excluded from the halo, so tiling changes those networks' output slightly.
"""

from __future__ import annotations

import math

import torch
from torch import nn

Path = list[tuple[tuple[int, ...], tuple[int, ...]]]  # (kernel, spacing) per layer and axis


def halo_of(path: Path, ndim: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Theoretical one-sided receptive field and practical halo of a layer path."""
    reach, halo = [], []
    for a in range(ndim):
        r = sum((k[a] - 1) * s[a] for k, s in path) / 2
        var = sum(s[a] ** 2 * (k[a] ** 2 - 1) / 12 for k, s in path)
        reach.append(math.ceil(r))
        halo.append(min(math.ceil(r), math.ceil(3 * math.sqrt(var))))
    return tuple(reach), tuple(halo)


def same_scale_path(ndim: int, kernels: list[int]) -> Path:
    """The path of a network of full-resolution convolutions with these kernel sizes."""
    return [((k,) * ndim, (1,) * ndim) for k in kernels]


class Net(nn.Module):
    """Base: records geometry, checks input sizes, optionally adds the input to the output."""

    fixed_shape: tuple[int, ...] | None = None

    def __init__(self, ndim: int, residual: bool, divisor: tuple[int, ...], path: Path) -> None:
        super().__init__()
        self.ndim = ndim
        self.residual = residual
        self.divisor = tuple(int(d) for d in divisor)
        self.receptive_field, self.halo = halo_of(path, ndim)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(N, C_in, *spatial)`` to ``(N, C_out, *spatial)``."""
        spatial = tuple(x.shape[2:])
        if self.fixed_shape is not None and spatial != self.fixed_shape:
            raise ValueError(f"spatial size {spatial} is not the fixed input size "
                             f"{self.fixed_shape} of this network")
        if any(n % d for n, d in zip(spatial, self.divisor, strict=True)):
            raise ValueError(f"spatial size {spatial} is not a multiple of {self.divisor}")
        y = self._forward(x)
        return y + x if self.residual else y
