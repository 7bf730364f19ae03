"""``MODEL``: the network and the checkpoint it starts from."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ModelConfig:
    """``MODEL``; an empty (or all-zero, as BiaPy) ``Z_DOWN`` pools z only while the patch is
    deep enough.

    ``NORMALIZATION`` defaults to ``none`` (as CARE): batch normalisation's running
    statistics made 3D predictions worse than the input on the demo data (17.1 dB
    against 24.7 dB without it, identity 18.1 dB).
    """

    source: str = "biapy"
    architecture: str = "unet"
    feature_maps: list[int] = field(default_factory=lambda: [32, 64, 128, 256])
    z_down: list[int] = field(default_factory=list)
    dropout_values: list[float] = field(default_factory=lambda: [0.0] * 4)
    normalization: str = "none"
    residual: bool = False
    load_checkpoint: bool = False
