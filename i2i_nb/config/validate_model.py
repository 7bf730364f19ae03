"""Checks of the ``MODEL`` keys (and ``PROBLEM.IMAGE_TO_IMAGE``'s heads): the architecture,
its levels and per-level lists, and each network's own keys; each refusal names the key."""

from __future__ import annotations

import warnings

from i2i_nb.config.checks import check, check_choice
from i2i_nb.config.hrnet import validate_hrnet
from i2i_nb.config.root import Config
from i2i_nb.config.stunet import check_stunet
from i2i_nb.config.unetr_checks import check_unetr
from i2i_nb.errors import ConfigError

# BiaPy 3.7.1's image-to-image architectures built here (i2i_nb.models.ARCHITECTURES).
ARCHITECTURES = ("unet", "resunet", "attention_unet", "seunet", "resunet_se", "resunet++",
                 "multiresunet", "rcan", "edsr", "wdsr", "dfcan", "stunet", "unetr", "nafnet",
                 "hrnet", "unext_v1", "unext_v2")
# The other BiaPy image-to-image architectures, refused with the piece that is missing.
NOT_BUILT: dict[str, str] = {}

# Networks whose decoders can be split per head (PROBLEM.IMAGE_TO_IMAGE.SEPARATED_DECODERS_*).
U_NET_FAMILY = ("unet", "resunet", "resunet++", "seunet", "resunet_se", "attention_unet",
                "unext_v1", "unext_v2")
# MODEL keys BiaPy's multiresunet does not read (its sizes and layers are fixed).
MULTIRESUNET_FIXED = ("FEATURE_MAPS", "DROPOUT_VALUES", "NORMALIZATION", "KERNEL_SIZE",
                      "UPSAMPLE_LAYER", "ACTIVATION", "ISOTROPY", "LARGER_IO", "CONV_LAYERS")
ACTIVATIONS = ("relu", "tanh", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "linear",
               "softplus", "none")
MODEL_NORMALIZATIONS = ("bn", "sync_bn", "in", "gn", "ln", "none")


def default_feature_maps(levels: int) -> list[int]:
    """``FEATURE_MAPS`` when a config leaves it out but its per-level keys (``Z_DOWN``,
    ``DROPOUT_VALUES``) give ``levels`` levels: this project's default ``[32, 64, 128, 256]``
    for up to 4 levels, BiaPy's ``16 * 2**i`` for more (its default has 5)."""
    if levels <= 4:
        return [32, 64, 128, 256][:levels]
    return [16 * 2**i for i in range(levels)]


def fit_levels(cfg: Config, given: set[str]) -> None:
    """Match FEATURE_MAPS to the per-level keys when FEATURE_MAPS is left out (BiaPy's
    default has 5 levels, this project's 4), and spread one-value lists over the levels."""
    model = cfg.model
    if "MODEL.FEATURE_MAPS" not in given:
        for key, values, extra in (("MODEL.Z_DOWN", model.z_down, 1),
                                   ("MODEL.DROPOUT_VALUES", model.dropout_values, 0)):
            if key in given and values and len(set(values)) > 1:
                model.feature_maps = default_feature_maps(len(values) + extra)
                break
            if key == "MODEL.Z_DOWN" and key in given and values:
                model.feature_maps = default_feature_maps(len(values) + extra)
                break
    levels = len(model.feature_maps)
    if model.dropout_values and len(set(model.dropout_values)) == 1:
        model.dropout_values = [model.dropout_values[0]] * levels


def _per_level(values: list, levels: int, key: str) -> list:
    """BiaPy's broadcast of a per-level list: empty stays empty (the default), one value or
    one repeated value of another length spread over the levels; else refused."""
    if not values or len(values) == levels:
        return values
    if len(set(values)) == 1:
        return [values[0]] * levels
    raise ConfigError(f"{key}: needs one value per level of MODEL.FEATURE_MAPS ({levels}), "
                      f"got {values}")


def _check_unext(cfg: Config, arch: str) -> None:
    """The ConvNeXt U-Nets' keys, and the U-Net keys that ask for what they do not have."""
    model = cfg.model
    check(0 <= model.convnext_sd_prob <= 1, "MODEL.CONVNEXT_SD_PROB",
          f"must be in [0, 1], got {model.convnext_sd_prob}")
    check(model.convnext_layer_scale >= 0, "MODEL.CONVNEXT_LAYER_SCALE",
          f"must not be negative (0: no layer scale), got {model.convnext_layer_scale}")
    check(model.convnext_stem_k_size >= 1, "MODEL.CONVNEXT_STEM_K_SIZE",
          f"must be at least 1, got {model.convnext_stem_k_size}")
    # BiaPy accepts these with unext and builds the network without them: a warning, as
    # every key that has no effect here gets
    unused = {"MODEL.DROPOUT_VALUES": (any(model.dropout_values), "no dropout (ConvNeXt "
                                       "regularises with stochastic depth, "
                                       "MODEL.CONVNEXT_SD_PROB)"),
              "MODEL.LARGER_IO": (model.larger_io, "no larger input/output convolutions"),
              "MODEL.KERNEL_SIZE": (model.kernel_size != 3, "ConvNeXt's fixed 7x7 depthwise "
                                    "kernels")}
    for key, (set_here, what) in unused.items():
        if set_here:
            warnings.warn(f"{key} has no effect with MODEL.ARCHITECTURE {arch}: it has {what}, "
                          "as in BiaPy", stacklevel=3)


def check_model(cfg: Config, set_keys: set[str]) -> None:
    """The ``MODEL`` keys of ``cfg`` and its output heads; ``set_keys`` (the keys the user
    set) decides which keys the chosen network does not read are warned about."""
    model, i2i = cfg.model, cfg.problem.image_to_image
    arch = model.architecture.lower()
    if arch in NOT_BUILT:
        raise ConfigError(f"MODEL.ARCHITECTURE: {arch!r} is a BiaPy image-to-image network "
                          f"that i2i_nb refuses: {NOT_BUILT[arch]}; choose one of "
                          f"{', '.join(ARCHITECTURES)}")
    check_choice(model.architecture, ARCHITECTURES, "MODEL.ARCHITECTURE")
    check(not (arch == "wdsr" and cfg.ndim == 3), "MODEL.ARCHITECTURE",
          "'wdsr' is not available for 3D (as in BiaPy)")
    if arch == "hrnet":
        validate_hrnet(model.hrnet, cfg.ndim)
    check(len(model.feature_maps) >= 1 and all(f > 0 for f in model.feature_maps),
          "MODEL.FEATURE_MAPS", f"need positive filter counts, got {model.feature_maps}")
    levels = len(model.feature_maps)
    check(arch != "resunet++" or levels >= 3, "MODEL.FEATURE_MAPS",
          f"resunet++ needs at least 3 levels (its first two share the full resolution; "
          f"BiaPy needs 3 too), got {model.feature_maps}")
    downs, why = levels - 1, f"one per down-sampling of MODEL.FEATURE_MAPS {model.feature_maps}"
    if arch == "multiresunet":  # BiaPy's fixed five levels, whatever FEATURE_MAPS says
        downs, why = 4, "one per down-sampling of BiaPy's five-level multiresunet"
    if cfg.ndim == 3:
        check(not model.z_down or len(model.z_down) == downs,
              "MODEL.Z_DOWN", f"needs {downs} values ({why}), got {model.z_down}")
        check(all(z in (1, 2) for z in model.z_down), "MODEL.Z_DOWN",
              "values must be 1 or 2 (or all 0: automatic)")
    if model.yx_down and all(v == 0 for v in model.yx_down):
        model.yx_down = []
    check(not model.yx_down or len(model.yx_down) == downs, "MODEL.YX_DOWN",
          f"needs {downs} values ({why}), got {model.yx_down}")
    check(all(v in (1, 2) for v in model.yx_down), "MODEL.YX_DOWN",
          "values must be 1 or 2 (or all 0: 2)")
    if arch == "unetr":
        check_unetr(cfg)
    else:
        check(len(model.dropout_values) == levels, "MODEL.DROPOUT_VALUES",
              f"needs one value per level of MODEL.FEATURE_MAPS ({levels}), "
              f"got {model.dropout_values}")
    check(all(0 <= d < 1 for d in model.dropout_values), "MODEL.DROPOUT_VALUES",
          "values must be in [0, 1)")
    check_choice(model.normalization, MODEL_NORMALIZATIONS, "MODEL.NORMALIZATION")
    check(model.kernel_size >= 1 and model.kernel_size % 2 == 1, "MODEL.KERNEL_SIZE",
          f"must be an odd positive size, got {model.kernel_size}")
    check_choice(model.upsample_layer, ("convtranspose", "upsampling"), "MODEL.UPSAMPLE_LAYER")
    check_choice(model.activation, ACTIVATIONS, "MODEL.ACTIVATION")
    model.isotropy = ([] if all(model.isotropy) else
                      _per_level(list(model.isotropy), levels, "MODEL.ISOTROPY"))
    model.conv_layers = _per_level(list(model.conv_layers), levels, "MODEL.CONV_LAYERS")
    check(all(n >= 1 for n in model.conv_layers), "MODEL.CONV_LAYERS",
          f"values must be at least 1, got {model.conv_layers}")
    if arch in ("unext_v1", "unext_v2"):
        _check_unext(cfg, arch)
    for key in ("RCAN_RG_BLOCK_NUM", "RCAN_RCAB_BLOCK_NUM", "RCAN_CONV_FILTERS",
                "RCAN_REDUCTION_RATIO"):
        check(getattr(model, key.lower()) >= 1, f"MODEL.{key}", "must be at least 1")
    if arch == "stunet":
        check_stunet(cfg)
    heads = i2i.channels_per_head_info
    check(all(h >= 1 for h in heads), "PROBLEM.IMAGE_TO_IMAGE.CHANNELS_PER_HEAD_INFO",
          f"channel counts must be at least 1, got {heads}")
    given = i2i.output_channels
    check(not heads or not given or sum(heads) == given,
          "PROBLEM.IMAGE_TO_IMAGE.CHANNELS_PER_HEAD_INFO",
          f"must add up to PROBLEM.IMAGE_TO_IMAGE.OUTPUT_CHANNELS ({given}), got {heads}")
    if i2i.separated_decoders_per_head:
        check(arch in U_NET_FAMILY, "PROBLEM.IMAGE_TO_IMAGE.SEPARATED_DECODERS_PER_HEAD",
              f"is only supported by {', '.join(U_NET_FAMILY)} (as in BiaPy), not {arch!r}")
    else:
        i2i.separated_decoders_divide_feature_maps = False  # one decoder: nothing to divide
    _warn_unread(cfg, arch, set_keys)


def _warn_unread(cfg: Config, arch: str, given: set[str]) -> None:
    """Warn about MODEL keys the user set that the chosen network does not read (as BiaPy)."""
    model = cfg.model
    if arch == "multiresunet":
        unread = [f"MODEL.{k}" for k in MULTIRESUNET_FIXED if f"MODEL.{k}" in given]
        if unread:
            warnings.warn(f"{', '.join(unread)}: BiaPy's multiresunet has fixed sizes and "
                          "layers (filters 32 to 512 over five levels, batch norm, ReLU, 3x3 "
                          "kernels, transposed convolutions) and reads only MODEL.Z_DOWN and "
                          "MODEL.YX_DOWN; these keys have no effect", stacklevel=3)
    if arch == "resunet++":
        for key, values in (("MODEL.Z_DOWN", model.z_down if cfg.ndim == 3 else []),
                            ("MODEL.YX_DOWN", model.yx_down)):
            if key in given and values:
                warnings.warn(f"{key}: resunet++ keeps its first two levels at full resolution "
                              f"(as BiaPy), so the first value of {values} has no effect",
                              stacklevel=3)
