"""The network a config asks for: :func:`model_spec` turns ``MODEL`` (and
``PROBLEM.IMAGE_TO_IMAGE``'s heads) into a :class:`~i2i_nb.models.ModelSpec`, plus the
config keys behind each checkpoint field (for mismatch messages)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from i2i_nb.config import Config
from i2i_nb.config.model import UNETR_VIT_MODELS
from i2i_nb.config.stunet import stunet_kwargs
from i2i_nb.errors import ConfigError
from i2i_nb.models import ModelSpec
from i2i_nb.models.multiresunet import BIAPY_FEATURE_MAPS, biapy_layout
from i2i_nb.models.spec import HRNetSpec

# checkpoint metadata -> the config key that sets it
MODEL_KEYS = {"feature_maps": "MODEL.FEATURE_MAPS", "z_down": "MODEL.Z_DOWN",
              "normalization": "MODEL.NORMALIZATION", "dropout": "MODEL.DROPOUT_VALUES",
              "residual": "MODEL.RESIDUAL", "kernel_size": "MODEL.KERNEL_SIZE",
              "upsample_layer": "MODEL.UPSAMPLE_LAYER", "activation": "MODEL.ACTIVATION",
              "conv_layers": "MODEL.CONV_LAYERS", "heads":
              "PROBLEM.IMAGE_TO_IMAGE.CHANNELS_PER_HEAD_INFO",
              **{f"stunet_{name}": f"MODEL.STUNET.{name.upper()}" for name in (
                  "variant", "depth", "dims", "pool_op_kernel_sizes", "conv_kernel_sizes")},
              **{name: f"MODEL.{name.upper()}" for name in (
                  "unetr_vit_model", "unetr_vit_hidd_mult", "unetr_vit_num_filters",
                  "vit_token_size", "vit_embed_dim", "vit_num_layers", "vit_num_heads",
                  "vit_mlp_ratio")},
              "input_shape": "DATA.PATCH_SIZE",
              "convnext_sd_prob": "MODEL.CONVNEXT_SD_PROB",
              "convnext_layer_scale": "MODEL.CONVNEXT_LAYER_SCALE",
              "convnext_stem_k_size": "MODEL.CONVNEXT_STEM_K_SIZE"}


def auto_z_down(patch_z: int, levels: int) -> list[int]:
    """Pool z by 2 at a level only while the patch keeps at least 4 slices."""
    z_down, depth = [], patch_z
    for _ in range(levels):
        step = 2 if depth % 2 == 0 and depth // 2 >= 4 else 1
        z_down.append(step)
        depth //= step
    return z_down


def _auto_z_down(cfg: Config, levels: int) -> list[int]:
    """``auto_z_down`` after the U-NeXt's stem, which pools z by ``CONVNEXT_STEM_K_SIZE``
    (by ``Z_DOWN[0]`` when that is 1: then the first level pools z twice)."""
    patch_z, k = cfg.patch_shape[0], cfg.model.convnext_stem_k_size
    if cfg.model.architecture.lower() not in ("unext_v1", "unext_v2"):
        return auto_z_down(patch_z, levels)
    return auto_z_down(patch_z, levels + 1)[1:] if k == 1 else auto_z_down(patch_z // k, levels)


def model_spec(cfg: Config, in_channels: int, out_channels: int) -> ModelSpec:
    """The network ``cfg.model`` (and ``PROBLEM.IMAGE_TO_IMAGE``'s heads) asks for."""
    m, i2i = cfg.model, cfg.problem.image_to_image
    arch = m.architecture.lower()
    levels = len(BIAPY_FEATURE_MAPS if arch == "multiresunet" else m.feature_maps) - 1
    z_down = list(m.z_down)
    if not z_down and cfg.ndim == 3:  # resunet++ does not pool after its first level
        z_down = ([1, *_auto_z_down(cfg, levels - 1)] if arch == "resunet++"
                  else _auto_z_down(cfg, levels))
    heads = list(i2i.channels_per_head_info)
    if heads and sum(heads) != out_channels:
        raise ConfigError(f"PROBLEM.IMAGE_TO_IMAGE.CHANNELS_PER_HEAD_INFO: {heads} adds up to "
                          f"{sum(heads)} channel(s); the targets have {out_channels}")
    vit_model = m.unetr_vit_model.lower()
    token, embed, depth, n_heads, ratio = UNETR_VIT_MODELS.get(vit_model) or (
        m.vit_token_size, m.vit_embed_dim, m.vit_num_layers, m.vit_num_heads, m.vit_mlp_ratio)
    spec = ModelSpec(
        arch, cfg.ndim, int(in_channels), int(out_channels),
        feature_maps=list(m.feature_maps), z_down=z_down or None, yx_down=list(m.yx_down),
        normalization=m.normalization.lower(),
        dropout=[float(d) for d in m.dropout_values] if len(m.dropout_values) > 1
        else float(m.dropout_values[0]), residual=m.residual, kernel_size=m.kernel_size,
        upsample_layer=m.upsample_layer.lower(), activation=m.activation.lower(),
        isotropy=list(m.isotropy), larger_io=m.larger_io, conv_layers=list(m.conv_layers),
        heads=heads, separated_decoders=i2i.separated_decoders_per_head,
        divide_feature_maps=i2i.separated_decoders_divide_feature_maps,
        rcan_rg_block_num=m.rcan_rg_block_num, rcan_rcab_block_num=m.rcan_rcab_block_num,
        rcan_conv_filters=m.rcan_conv_filters, rcan_reduction_ratio=m.rcan_reduction_ratio,
        unetr_vit_model=vit_model, unetr_vit_hidd_mult=m.unetr_vit_hidd_mult,
        unetr_vit_num_filters=m.unetr_vit_num_filters, vit_token_size=token,
        vit_embed_dim=embed, vit_num_layers=depth, vit_num_heads=n_heads, vit_mlp_ratio=ratio,
        input_shape=list(cfg.patch_shape) if arch == "unetr" else [],
        hrnet=HRNetSpec(**asdict(m.hrnet)) if arch == "hrnet" else HRNetSpec(),
        convnext_sd_prob=m.convnext_sd_prob, convnext_layer_scale=m.convnext_layer_scale,
        convnext_stem_k_size=m.convnext_stem_k_size,
        **stunet_kwargs(m.stunet), **nafnet_fields(cfg))
    return biapy_layout(spec) if arch == "multiresunet" else spec


def down_keys(architecture: str, backbone: str = "nafnet") -> str:
    """The keys that set the down-sampling of ``architecture`` (nafnet: of its generator
    ``backbone``), for messages."""
    if architecture.lower() == "stunet" or (architecture.lower() == "nafnet"
                                            and backbone.lower() == "stunet"):
        return "MODEL.STUNET.VARIANT / MODEL.STUNET.POOL_OP_KERNEL_SIZES"
    return "MODEL.FEATURE_MAPS / MODEL.Z_DOWN"


def nafnet_fields(cfg: Config) -> dict[str, Any]:
    """The ``nafnet_*`` fields of :class:`ModelSpec` from ``MODEL.NAFNET`` (the output
    sigmoid: BiaPy's on the nafnet generator when ``OUTPUT_CHANNEL_ACT`` gives no activation,
    always on the stunet one)."""
    naf = cfg.model.nafnet
    acts = [a.lower() for a in cfg.problem.image_to_image.output_channel_act]
    backbone = naf.generator_backbone.lower()
    return {"nafnet_middle_blk_num": naf.middle_blk_num,
            "nafnet_enc_blk_nums": list(naf.enc_blk_nums),
            "nafnet_dec_blk_nums": list(naf.dec_blk_nums),
            "nafnet_dw_expand": naf.dw_expand, "nafnet_ffn_expand": naf.ffn_expand,
            "nafnet_architecture_d": naf.architecture_d.lower(),
            "nafnet_patchgan_base_filters": naf.patchgan.base_filters,
            "nafnet_generator_backbone": backbone,
            "nafnet_output_sigmoid": backbone == "stunet"
            or all(a in ("linear", "none") for a in acts)}
