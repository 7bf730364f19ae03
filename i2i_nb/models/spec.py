"""The typed description of a network: what ``build_model`` builds and checkpoints store."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

SPEC_VERSION = 2  # checkpoints without it were written by the first, pre-BiaPy-layout networks


@dataclass
class ModelSpec:
    """Everything that decides a network's layers (BiaPy's ``MODEL.*`` names in lower case).

    ``heads`` splits the output channels into heads (``CHANNELS_PER_HEAD_INFO``; empty: one
    head); ``separated_decoders`` gives each head its own decoder and ``divide_feature_maps``
    divides the decoders' feature maps by the number of heads. ``sr_filters`` and
    ``sr_blocks`` set EDSR's, WDSR's and DFCAN's width and number of blocks (per group for
    DFCAN; 0: BiaPy's fixed sizes, which have no MODEL key). ``convnext_*`` configure the
    U-NeXt (``conv_layers``: its ConvNeXt blocks per level). ``legacy`` rebuilds the
    layout of checkpoints written before ``SPEC_VERSION`` 2 (no normalisation and activation
    after the U-Net's up-sampling, ResUNet up-sampling that halves the channels, ReLU in RCAN
    with 3 groups of 4 blocks, reduction 8).
    """

    architecture: str
    ndim: int
    in_channels: int
    out_channels: int
    feature_maps: list[int] = field(default_factory=lambda: [32, 64, 128, 256])
    z_down: list[int] | None = None
    yx_down: list[int] = field(default_factory=list)
    normalization: str = "none"
    dropout: list[float] | float = 0.0
    residual: bool = False
    kernel_size: int = 3
    upsample_layer: str = "convtranspose"
    activation: str = "elu"
    isotropy: list[bool] = field(default_factory=list)
    larger_io: bool = False
    conv_layers: list[int] = field(default_factory=list)
    heads: list[int] = field(default_factory=list)
    separated_decoders: bool = False
    divide_feature_maps: bool = False
    rcan_rg_block_num: int = 10
    rcan_rcab_block_num: int = 20
    rcan_conv_filters: int = 16
    rcan_reduction_ratio: int = 16
    sr_filters: int = 0
    sr_blocks: int = 0
    convnext_sd_prob: float = 0.1
    convnext_layer_scale: float = 1e-6
    convnext_stem_k_size: int = 2
    legacy: bool = False

    @classmethod
    def from_meta(cls, architecture: str, ndim: int, in_channels: int, out_channels: int,
                  kwargs: dict[str, Any]) -> ModelSpec:
        """The spec of a checkpoint's ``meta`` (old checkpoints: the legacy layout)."""
        kwargs = dict(kwargs)
        version = kwargs.pop("version", 1)
        spec = cls(architecture, ndim, in_channels, out_channels, **kwargs)
        if version < SPEC_VERSION:
            spec.legacy = True
            if architecture == "rcan":
                spec.rcan_conv_filters = spec.feature_maps[0]
                spec.rcan_rg_block_num, spec.rcan_rcab_block_num = 3, 4
                spec.rcan_reduction_ratio = 8
        return spec

    def kwargs(self) -> dict[str, Any]:
        """The plain values a checkpoint's ``meta["model_kwargs"]`` holds."""
        values = asdict(self)
        for name in ("architecture", "ndim", "in_channels", "out_channels"):
            values.pop(name)
        values["version"] = SPEC_VERSION
        return values

    @classmethod
    def names(cls) -> set[str]:
        """The keyword names of the spec."""
        return {f.name for f in fields(cls)}
