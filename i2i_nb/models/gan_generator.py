"""The generator of BiaPy's NAFNet GAN training, by ``MODEL.NAFNET.GENERATOR_BACKBONE``.

``nafnet``: BiaPy's NAFNet (:mod:`i2i_nb.models.nafnet`). ``stunet``: BiaPy 3.7.1's
``GANGeneratorWrapper`` around its STU-Net (:mod:`i2i_nb.models.stunet`, sized by
``MODEL.STUNET``; ``MODEL.FEATURE_MAPS`` and the NAF-block keys are not read): the STU-Net's
raw output (no head activations, no deep supervision, no residual input, as BiaPy builds
it), always followed by the sigmoid of the output clamped to [-15, 15] with a
straight-through gradient, so predictions lie in (0, 1) whatever ``OUTPUT_CHANNEL_ACT``
gives (BiaPy's workflow applies that activation after the wrapper; here its wrapper
:func:`i2i_nb.activations.with_activations` does). The PatchGAN discriminator is built
beside either generator (:func:`i2i_nb.models.patchgan.build_discriminator`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from i2i_nb.models.base import Net
from i2i_nb.models.nafnet import NAFNet
from i2i_nb.models.spec import ModelSpec
from i2i_nb.models.stunet import STUNet, spec_layout


def bounded_sigmoid(y: torch.Tensor) -> torch.Tensor:
    """Sigmoid of ``y`` clamped to [-15, 15], with the gradient of the unclamped path
    (BiaPy's straight-through clamp: bounded output, gradient nonzero when saturated)."""
    return torch.sigmoid(y + (y.clamp(-15.0, 15.0) - y).detach())


class StunetGenerator(Net):
    """BiaPy's GAN generator with the ``stunet`` backbone: a STU-Net (``generator``, as
    BiaPy names it) and the bounded sigmoid; the STU-Net's geometry."""

    def __init__(self, spec: ModelSpec) -> None:
        generator = STUNet(spec.ndim, spec.in_channels, list(spec.heads) or [spec.out_channels],
                           spec_layout(spec))
        super().__init__(spec.ndim, False, generator.divisor, [])
        self.receptive_field, self.halo = generator.receptive_field, generator.halo
        self.generator = generator

    def last_layer(self) -> nn.Parameter:
        """The STU-Net's last head weight (the adaptive adversarial weight's layer)."""
        return self.generator.last_layer()

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return bounded_sigmoid(self.generator(x))


# MODEL.NAFNET.GENERATOR_BACKBONE: its builder.
BACKBONES: dict[str, Callable[[ModelSpec], Net]] = {"nafnet": NAFNet, "stunet": StunetGenerator}


def build_generator(spec: ModelSpec) -> Net:
    """The GAN generator of ``spec.nafnet_generator_backbone`` (see the module docstring)."""
    return BACKBONES[spec.nafnet_generator_backbone](spec)
