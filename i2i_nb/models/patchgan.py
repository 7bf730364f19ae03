"""BiaPy's PatchGAN discriminator (``MODEL.NAFNET.ARCHITECTURE_D: patchgan``).

Four convolutions of kernel 4, stride 2, padding 1 from ``MODEL.NAFNET.PATCHGAN.BASE_FILTERS``
channels doubling to 8 times that, batch normalisation after all but the first and a
leaky ReLU (slope 0.2) after each, then a kernel-4 stride-1 convolution to one channel:
a map of realism logits, one per patch of the image (2D and 3D alike). It needs at least
:data:`MIN_SIZE` pixels along every axis.
"""

from __future__ import annotations

import torch
from torch import nn

from i2i_nb.models.blocks import LAYERS
from i2i_nb.models.spec import ModelSpec

DISCRIMINATORS = ("patchgan",)
MIN_SIZE = 32  # four halvings leave 2 pixels, which the last kernel-4 convolution needs


class PatchGAN(nn.Module):
    """PatchGAN discriminator on ``(N, channels, *spatial)`` images."""

    def __init__(self, ndim: int, channels: int, base_filters: int = 64) -> None:
        super().__init__()
        conv, bn = LAYERS[ndim]["conv"], LAYERS[ndim]["bn"]
        layers: list[nn.Module] = []
        widths = [channels] + [base_filters * 2**i for i in range(4)]
        for i in range(4):
            layers.append(conv(widths[i], widths[i + 1], 4, stride=2, padding=1))
            if i > 0:
                layers.append(bn(widths[i + 1]))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
        layers.append(conv(widths[-1], 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Realism logits per patch."""
        return self.model(x)


def build_discriminator(spec: ModelSpec) -> nn.Module | None:
    """The discriminator of a GAN generator's spec (``nafnet_architecture_d``), or None."""
    name = spec.nafnet_architecture_d.lower()
    if spec.architecture != "nafnet" or not name:
        return None
    if name not in DISCRIMINATORS:
        raise ValueError(f"unknown discriminator {name!r}; valid: {', '.join(DISCRIMINATORS)}")
    return PatchGAN(spec.ndim, spec.out_channels, spec.nafnet_patchgan_base_filters)
