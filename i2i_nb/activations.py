"""BiaPy's ``PROBLEM.IMAGE_TO_IMAGE.OUTPUT_CHANNEL_ACT``: an activation per output channel,
applied to the network's output (in training and in prediction)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "linear": nn.Identity, "none": nn.Identity, "relu": nn.ReLU, "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "gelu": nn.GELU, "silu": nn.SiLU,
    "swish": nn.SiLU, "sigmoid": nn.Sigmoid, "softplus": nn.Softplus,
}


class ChannelActivations(nn.Module):
    """``net`` followed by one activation per output channel (``linear`` leaves it as is).

    The wrapped network's geometry (``ndim``, ``divisor``, ``receptive_field``, ``halo``,
    ``fixed_shape``) is exposed unchanged, so tiling and export see the same network.
    """

    def __init__(self, net: nn.Module, activations: Sequence[str]) -> None:
        super().__init__()
        self.net = net
        self.names = [a.lower() for a in activations]
        self.acts = nn.ModuleList(ACTIVATIONS[name]() for name in self.names)
        for attr in ("ndim", "divisor", "receptive_field", "halo", "fixed_shape"):
            if hasattr(net, attr):
                setattr(self, attr, getattr(net, attr))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the network, then each channel's activation."""
        y = self.net(x)
        return torch.cat([act(y[:, i:i + 1]) for i, act in enumerate(self.acts)], dim=1)


def with_activations(net: nn.Module, activations: Sequence[str], channels: int) -> nn.Module:
    """``net`` as it is when every activation is linear (or none is given), else wrapped.

    One activation applies to every channel; otherwise one per output channel is needed.
    """
    names = [a.lower() for a in activations]
    if len(names) == 1:
        names *= channels
    if len(names) not in (0, channels):
        raise ValueError(f"PROBLEM.IMAGE_TO_IMAGE.OUTPUT_CHANNEL_ACT: needs one activation or one "
                         f"per output channel ({channels}), got {list(activations)}")
    if all(n in ("linear", "none") for n in names):
        return net
    return ChannelActivations(net, names)
