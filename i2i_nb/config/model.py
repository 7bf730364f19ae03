"""``MODEL``: the network and the checkpoint it starts from."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    sizes.

    ``LOAD_CHECKPOINT`` starts from ``PATHS.CHECKPOINT_FILE`` (or, without it, this job's
    checkpoint chosen by ``LOAD_CHECKPOINT_EPOCH``: ``best_on_val`` or ``last_on_train``);
    ``ITEMS_TO_LOAD_FROM_CHECKPOINT`` says what is taken from it when training goes on
    (``weights``, ``norm``: its normalisation statistics, ``model_arch``: its network,
    ``optimizer``, ``epoch``). ``SAVE_CKPT_FREQ`` keeps every N-th epoch's checkpoint too
    (-1: only best and last).
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
    residual: bool = False
    load_checkpoint: bool = False
    load_checkpoint_epoch: str = "best_on_val"
    items_to_load_from_checkpoint: list[str] = field(
        default_factory=lambda: ["weights", "norm", "model_arch"])
    save_ckpt_freq: int = -1
    bmz: BmzConfig = field(default_factory=BmzConfig)
