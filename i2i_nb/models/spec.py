"""The typed description of a network: what ``build_model`` builds and checkpoints store."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

SPEC_VERSION = 2  # checkpoints without it were written by the first, pre-BiaPy-layout networks


@dataclass
class HRNetSpec:
    """BiaPy's ``MODEL.HRNET`` keys in lower case (see :mod:`i2i_nb.models.hrnet`).

    ``variant``: ``W18``, ``W32``, ``W48``, ``W64`` (3 stages of 1, 4, 3 modules with 2, 3, 4
    branches of 4 blocks, ``W * 2**b`` channels in branch ``b``) or ``custom`` (the
    ``num_*`` lists, one entry per stage). ``z_down``, ``yx_down``: the down-sampling of
    each stage (the first one also twice in the stem); empty: 1 in z, 2 in y and x.
    """

    variant: str = "W48"
    z_down: list[int] = field(default_factory=list)
    yx_down: list[int] = field(default_factory=list)
    block_type: str = "BASIC"
    head_type: str = "FCN"
    num_stages: int = 3
    num_modules: list[int] = field(default_factory=lambda: [1, 4, 3])
    num_branches: list[int] = field(default_factory=lambda: [2, 3, 4])
    num_blocks: list[list[int]] = field(default_factory=lambda: [[4, 4], [4, 4, 4],
                                                                 [4, 4, 4, 4]])
    num_channels: list[list[int]] = field(default_factory=lambda: [[18, 36], [18, 36, 72],
                                                                   [18, 36, 72, 144]])


@dataclass
class ModelSpec:
    """Everything that decides a network's layers (BiaPy's ``MODEL.*`` names in lower case).

    ``heads`` splits the output channels into heads (``CHANNELS_PER_HEAD_INFO``; empty: one
    head); ``separated_decoders`` gives each head its own decoder and ``divide_feature_maps``
    divides the decoders' feature maps by the number of heads. ``sr_filters`` and
    ``sr_blocks`` set EDSR's, WDSR's and DFCAN's width and number of blocks (per group for
    DFCAN; 0: BiaPy's fixed sizes, which have no MODEL key). ``stunet_*`` are BiaPy's
    ``MODEL.STUNET`` keys (the four lists empty unless the variant is ``custom``; strides and
    kernels one list per stage, one size per spatial axis). ``unetr_*`` and ``vit_*`` set
    UNETR's vision transformer and decoder; ``input_shape`` is its fixed spatial input size
    (the training patch; empty for the other networks). ``nafnet_*`` are
    ``MODEL.NAFNET.*`` (the discriminator's too, built beside the network for training);
    ``nafnet_output_sigmoid``: BiaPy's sigmoid on a GAN generator's output when
    ``OUTPUT_CHANNEL_ACT`` gives none (always True with ``nafnet_generator_backbone``
    stunet, whose generator is the STU-Net of the ``stunet_*`` fields). ``convnext_*``
    configure the U-NeXt (``conv_layers``: its ConvNeXt blocks per level). ``legacy``
    rebuilds the layout of checkpoints written before ``SPEC_VERSION`` 2 (no normalisation
    and activation after the U-Net's up-sampling, ResUNet up-sampling that halves the
    channels, ReLU in RCAN with 3 groups of 4 blocks, reduction 8). ``hrnet``: HRNet's keys
    (a plain dict, as checkpoints store it, is read into :class:`HRNetSpec`).
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
    stunet_variant: str = "base"
    stunet_depth: list[int] = field(default_factory=list)
    stunet_dims: list[int] = field(default_factory=list)
    stunet_pool_op_kernel_sizes: list[list[int]] = field(default_factory=list)
    stunet_conv_kernel_sizes: list[list[int]] = field(default_factory=list)
    unetr_vit_model: str = "custom"
    unetr_vit_hidd_mult: int = -1
    unetr_vit_num_filters: int = 16
    vit_token_size: int = 16
    vit_embed_dim: int = 768
    vit_num_layers: int = 12
    vit_num_heads: int = 12
    vit_mlp_ratio: float = 4.0
    input_shape: list[int] = field(default_factory=list)
    nafnet_middle_blk_num: int = 12
    nafnet_enc_blk_nums: list[int] = field(default_factory=lambda: [2, 2, 4, 8])
    nafnet_dec_blk_nums: list[int] = field(default_factory=lambda: [2, 2, 2, 2])
    nafnet_dw_expand: int = 2
    nafnet_ffn_expand: int = 2
    nafnet_architecture_d: str = "patchgan"
    nafnet_patchgan_base_filters: int = 64
    nafnet_generator_backbone: str = "nafnet"
    nafnet_output_sigmoid: bool = True
    hrnet: HRNetSpec = field(default_factory=HRNetSpec)
    convnext_sd_prob: float = 0.1
    convnext_layer_scale: float = 1e-6
    convnext_stem_k_size: int = 2
    legacy: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.hrnet, dict):
            self.hrnet = HRNetSpec(**self.hrnet)

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
        if self.architecture != "hrnet":
            values.pop("hrnet")  # only HRNet reads it
        values["version"] = SPEC_VERSION
        return values

    @classmethod
    def names(cls) -> set[str]:
        """The keyword names of the spec."""
        return {f.name for f in fields(cls)}
