"""``MODEL``: the network and the checkpoint it starts from."""

from __future__ import annotations

from dataclasses import dataclass, field

from i2i_nb.config.hrnet import HRNetConfig

# BiaPy 3.7.1's named ViT backbones of unetr (``MODEL.UNETR_VIT_MODEL``): token size, embedding
# size, blocks, heads and MLP ratio; "custom" takes them from the ``MODEL.VIT_*`` keys.
UNETR_VIT_MODELS: dict[str, tuple[int, int, int, int, float]] = {
    "vit_base_patch16": (16, 768, 12, 12, 4.0),
    "vit_large_patch16": (16, 1024, 24, 16, 4.0),
    "vit_huge_patch14": (14, 1280, 32, 16, 4.0),
}


@dataclass
class BmzExportConfig:
    """``MODEL.BMZ.EXPORT``: write a bioimage.io package at the end of the run (BiaPy's keys;
    empty values get defaults). ``AUTHORS``: ``[{name, github_user}]``; ``CITE``: ``[{text,
    doi}]``; ``DATASET_INFO``: ``[{name, doi, image_modality}]``; ``DOCUMENTATION``: a
    Markdown file added to the README; ``REUSE_BMZ_CONFIG`` takes them from the package
    loaded with ``MODEL.SOURCE: bmz``."""

    enable: bool = False
    model_name: str = ""
    description: str = ""
    authors: list[dict] = field(default_factory=list)
    license: str = "CC-BY-4.0"
    documentation: str = ""
    tags: list[str] = field(default_factory=list)
    cite: list[dict] = field(default_factory=list)
    dataset_info: list[dict] = field(default_factory=list)
    model_version: str = "0.1.0"
    reuse_bmz_config: bool = False


@dataclass
class BmzConfig:
    """``MODEL.BMZ``; ``SOURCE_MODEL_ID`` is a local package (folder, zip or its YAML) that
    ``MODEL.SOURCE: bmz`` predicts with or fine-tunes (nothing is downloaded)."""

    source_model_id: str = ""
    export: BmzExportConfig = field(default_factory=BmzExportConfig)


@dataclass
class StunetConfig:
    """``MODEL.STUNET``: the size of ``MODEL.ARCHITECTURE: stunet``, and of nafnet's
    generator with ``MODEL.NAFNET.GENERATOR_BACKBONE: stunet`` (BiaPy's keys and defaults).
    ``VARIANT`` ``small``, ``base`` or ``large`` are BiaPy's presets (6 stages of 16-256,
    32-512 or 64-1024 channels, 1, 1 or 2 residual blocks per stage, 3-wide kernels, stride 2
    at the first four down-samplings: inputs a multiple of 16 per axis); ``custom`` builds
    ``DEPTH`` (blocks per stage), ``DIMS`` (channels per stage), ``POOL_OP_KERNEL_SIZES``
    (the stride of each down-sampling, ``len(DIMS) - 1`` entries) and ``CONV_KERNEL_SIZES``
    (odd kernel per stage, ``len(DIMS)`` entries), each entry one size per spatial axis (z,
    y, x in 3D; y, x in 2D). The four lists are read only with ``custom``, as in BiaPy.
    ``PRETRAINED`` (OrgMIM's encoder weights, downloaded by BiaPy) is refused: nothing is
    downloaded here."""

    variant: str = "base"
    pretrained: bool = False
    depth: list[int] = field(default_factory=lambda: [1] * 6)
    dims: list[int] = field(default_factory=lambda: [32, 64, 128, 256, 512, 512])
    pool_op_kernel_sizes: list[list[int]] = field(
        default_factory=lambda: [[2, 2, 2]] * 4 + [[1, 1, 1]])
    conv_kernel_sizes: list[list[int]] = field(default_factory=lambda: [[3, 3, 3]] * 6)


@dataclass
class PatchganConfig:
    """``MODEL.NAFNET.PATCHGAN``: the PatchGAN discriminator's width."""

    base_filters: int = 64


@dataclass
class NafnetConfig:
    """``MODEL.NAFNET`` (BiaPy's defaults): NAFNet, always trained as a GAN generator.

    ``MIDDLE_BLK_NUM`` NAF blocks at the bottom; ``ENC_BLK_NUMS`` / ``DEC_BLK_NUMS`` blocks
    per encoder / decoder level (the first ``len(FEATURE_MAPS) - 1`` entries are used, as
    in BiaPy); ``DW_EXPAND`` widens the depthwise-convolution part of a block,
    ``FFN_EXPAND`` its feed-forward part. ``ARCHITECTURE_D`` is the discriminator
    (``patchgan``; BiaPy requires one), trained beside the generator with the second
    ``TRAIN.OPTIMIZER``/``TRAIN.LR``. ``GENERATOR_BACKBONE``: ``nafnet``, or ``stunet``:
    BiaPy's STU-Net sized by ``MODEL.STUNET`` as the generator, its output always ending in
    the sigmoid (the block keys above and ``FEATURE_MAPS`` are then not read, as in BiaPy).
    """

    middle_blk_num: int = 12
    enc_blk_nums: list[int] = field(default_factory=lambda: [2, 2, 4, 8])
    dec_blk_nums: list[int] = field(default_factory=lambda: [2, 2, 2, 2])
    dw_expand: int = 2
    ffn_expand: int = 2
    architecture_d: str = "patchgan"
    patchgan: PatchganConfig = field(default_factory=PatchganConfig)
    generator_backbone: str = "nafnet"


@dataclass
class ModelConfig:
    """``MODEL``; an empty (or all-zero, as BiaPy) ``Z_DOWN`` pools z only while the patch is
    deep enough.

    ``NORMALIZATION`` defaults to ``none`` (as CARE): batch normalisation's running
    statistics made 3D predictions worse than the input on the demo data (17.1 dB
    against 24.7 dB without it, identity 18.1 dB). It takes BiaPy's ``bn``, ``sync_bn``
    (batch norm synchronised across torchrun processes), ``in``, ``gn``, ``ln`` (layer norm
    over the channels at each pixel) and ``none``.

    The U-Net family reads ``KERNEL_SIZE``, ``UPSAMPLE_LAYER`` (``convtranspose`` or
    ``upsampling``), ``ACTIVATION``, ``ISOTROPY`` (one per level, or all True: False uses
    ``(1, k, k)`` kernels at that level in 3D), ``LARGER_IO`` (extra ``k + 2`` convolution
    blocks at input and output), ``CONV_LAYERS`` (convolutions per level; empty or one
    value: the same at every level) and ``YX_DOWN`` (1 or 2 per down-sampling; empty or
    all 0: 2). ``resunet++`` reads the same keys (at least 3 levels; its first two share
    the full resolution, so the first ``Z_DOWN`` and ``YX_DOWN`` have no effect, as in
    BiaPy). ``multiresunet`` has BiaPy's fixed sizes and layers (filters 32 to 512 over five
    levels, batch norm, ReLU) and reads ``Z_DOWN`` and ``YX_DOWN`` (four values each). RCAN
    reads the ``RCAN_*`` keys (BiaPy's defaults); EDSR, WDSR and DFCAN have BiaPy's fixed
    sizes; STU-Net reads ``MODEL.STUNET`` (its instance normalisation and leaky ReLU are
    fixed, as in BiaPy).

    UNETR reads ``UNETR_VIT_MODEL`` (``custom``: the ViT from ``VIT_TOKEN_SIZE``,
    ``VIT_EMBED_DIM``, ``VIT_NUM_LAYERS``, ``VIT_NUM_HEADS``, ``VIT_MLP_RATIO``; or a named
    backbone of :data:`UNETR_VIT_MODELS` built by its sizes; ``sam3_vit`` is refused),
    ``UNETR_VIT_HIDD_MULT`` (skip connections from the blocks ``m, 2m, ...``; -1 or 0: one
    every ``VIT_NUM_LAYERS // log2(token size)`` blocks), ``UNETR_VIT_NUM_FILTERS`` (the
    decoder's first-level filters, doubled per level), ``KERNEL_SIZE``, ``ACTIVATION``,
    ``NORMALIZATION`` (the decoder's) and ``DROPOUT_VALUES`` (one value). Its input size is
    fixed, the spatial ``DATA.PATCH_SIZE`` (a multiple of the token size per axis); images
    are predicted tile by tile at that size. ``VIT_PRETRAINED_WEIGHTS`` must stay empty:
    nothing is downloaded here.

    NAFNet reads ``NAFNET`` and the shape keys above (not
    ``NORMALIZATION``, ``ACTIVATION``, ``UPSAMPLE_LAYER``, ``CONV_LAYERS``: its blocks have
    layer norm, gates and pixel shuffles) and always adds its input, as BiaPy's.

    HRNet reads ``HRNET`` (:class:`HRNetConfig`), ``NORMALIZATION`` and
    ``ACTIVATION`` (in its transitions and fusions; its blocks use ReLU, as BiaPy's).

    ``unext_v1`` / ``unext_v2`` (ConvNeXt U-Nets) read ``FEATURE_MAPS``, ``Z_DOWN``,
    ``YX_DOWN``, ``UPSAMPLE_LAYER``, ``ISOTROPY`` (False: ``(1, 7, 7)`` depthwise kernels at
    that level in 3D), ``CONV_LAYERS`` (ConvNeXt blocks per level; BiaPy's old name
    ``CONVNEXT_LAYERS``), ``CONVNEXT_SD_PROB`` (stochastic depth rate of the deepest block,
    in [0, 1]; the rate rises linearly to it, training only), ``CONVNEXT_LAYER_SCALE``
    (``unext_v1``'s initial layer scale; 0: none) and ``CONVNEXT_STEM_K_SIZE`` (kernel and
    stride of the patchify stem). As in BiaPy they have ConvNeXt's own layer norm, GELU
    and 7x7 kernels, so ``NORMALIZATION`` and ``ACTIVATION`` do not apply to them;
    ``DROPOUT_VALUES`` other than 0, ``LARGER_IO`` and a ``KERNEL_SIZE`` other than 3 have no
    effect on them either (a warning says so; BiaPy accepts and ignores them too).

    ``LOAD_CHECKPOINT`` starts from ``PATHS.CHECKPOINT_FILE`` (or, without it, this job's
    checkpoint chosen by ``LOAD_CHECKPOINT_EPOCH``: ``best_on_val`` or ``last_on_train``);
    ``ITEMS_TO_LOAD_FROM_CHECKPOINT`` says what is taken from it when training goes on
    (``weights``, ``norm``: its normalisation statistics, ``model_arch``: its network,
    ``optimizer``, ``epoch``); with ``SKIP_UNMATCHED_LAYERS`` (BiaPy's) the checkpoint's
    tensors whose name or shape this network lacks are skipped (and named in the log)
    instead of refused, e.g. to fine-tune with another number of output channels: the
    layers left start afresh (a GAN checkpoint's discriminator likewise).
    ``OUT_CHECKPOINT_FORMAT`` (BiaPy's): ``pth`` (default) or ``safetensors``, the format
    (and suffix) of the checkpoints a run writes; every reader takes both
    (:mod:`i2i_nb.safetensors_ckpt`). ``SAVE_CKPT_FREQ`` keeps every N-th epoch's checkpoint
    too (-1: only best and last). ``FREEZE_LAYERS_MATCHING``
    (BiaPy): regular expressions; every parameter whose name one of them finds
    (``re.search``) is frozen for training
    (after the checkpoint's weights are loaded). The names are this project's module paths,
    not BiaPy's: e.g. ``encoders.0.`` (the U-Net family's first level), ``decoders.``,
    ``ups.``, ``heads.`` (the output convolutions); a pattern that matches nothing warns,
    listing the names' prefixes.
    """

    source: str = "biapy"
    architecture: str = "unet"
    feature_maps: list[int] = field(default_factory=lambda: [32, 64, 128, 256])
    z_down: list[int] = field(default_factory=list)
    yx_down: list[int] = field(default_factory=list)
    dropout_values: list[float] = field(default_factory=lambda: [0.0] * 4)
    normalization: str = "none"
    kernel_size: int = 3
    upsample_layer: str = "convtranspose"
    activation: str = "elu"
    isotropy: list[bool] = field(default_factory=list)
    larger_io: bool = False
    conv_layers: list[int] = field(default_factory=list)
    rcan_rg_block_num: int = 10
    rcan_rcab_block_num: int = 20
    rcan_conv_filters: int = 16
    rcan_reduction_ratio: int = 16
    unetr_vit_model: str = "custom"
    unetr_vit_hidd_mult: int = -1
    unetr_vit_num_filters: int = 16
    vit_pretrained_weights: str = ""
    vit_token_size: int = 16
    vit_embed_dim: int = 768
    vit_num_layers: int = 12
    vit_num_heads: int = 12
    vit_mlp_ratio: float = 4.0
    hrnet: HRNetConfig = field(default_factory=HRNetConfig)
    convnext_sd_prob: float = 0.1
    convnext_layer_scale: float = 1e-6
    convnext_stem_k_size: int = 2
    residual: bool = False
    nafnet: NafnetConfig = field(default_factory=NafnetConfig)
    load_checkpoint: bool = False
    load_checkpoint_epoch: str = "best_on_val"
    items_to_load_from_checkpoint: list[str] = field(
        default_factory=lambda: ["weights", "norm", "model_arch"])
    skip_unmatched_layers: bool = False
    out_checkpoint_format: str = "pth"
    save_ckpt_freq: int = -1
    stunet: StunetConfig = field(default_factory=StunetConfig)
    freeze_layers_matching: list[str] = field(default_factory=list)
    bmz: BmzConfig = field(default_factory=BmzConfig)
