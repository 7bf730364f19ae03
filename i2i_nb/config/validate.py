"""Checks of a whole config: each refusal names the key and what is wrong with it."""

from __future__ import annotations

import warnings

from i2i_nb.config.augmentor import probability_keys
from i2i_nb.config.gan import check_gan
from i2i_nb.config.hrnet import validate_hrnet
from i2i_nb.config.root import Config
from i2i_nb.config.stunet import check_stunet
from i2i_nb.config.test import DEFAULT_METRICS, METRICS, NEED_WEIGHTS, TTA_GROUPS
from i2i_nb.config.train import ADVERSARIAL, OPTIMIZERS, loss_problem
from i2i_nb.config.unetr_checks import check_unetr
from i2i_nb.config.validate_data import (
    validate_filters,
    validate_freeze,
    validate_preprocess,
    validate_resolution,
    validate_test_keys,
    validate_train_previews,
    validate_zoom,
)
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
INPUT_NORMALIZATIONS = ("percentile", "zero_mean_unit_variance", "scale_range", "div", "none")
TARGET_NORMALIZATIONS = ("percentile", "zero_mean_unit_variance", "div", "scale_range", "none")
MEASURES = ("dataset", "image", "patch")
SCHEDULERS = ("warmupcosine", "onecycle", "reduceonplateau", "warmupreduceonplateau", "none",
              "")
MODEL_NORMALIZATIONS = ("bn", "sync_bn", "in", "gn", "ln", "none")
OUTPUT_DTYPES = ("float32", "uint16", "uint8", "target")
ON_DISK = ("auto", "always", "never")
AFFINE_MODES = ("constant", "reflect", "wrap", "symmetric")
ELASTIC_MODES = ("constant", "nearest", "reflect", "wrap")
# Range keys (BiaPy's check_configuration limits; None: only low <= high), checked when the
# augmentation (the first name) is on.
_AUG_RANGES: tuple[tuple[str, str, tuple[float, float] | None], ...] = (
    ("random_rot", "random_rot_range", (-360, 360)), ("shear", "shear_range", (-360, 360)),
    ("zoom", "zoom_range", (0.1, 10)), ("shift", "shift_range", (0, 1)),
    ("elastic", "e_alpha", (0, float("inf"))), ("g_blur", "g_sigma", (0, float("inf"))),
    ("median_blur", "mb_kernel", (1, float("inf"))),
    ("motion_blur", "motb_k_range", (1, float("inf"))),
    ("gamma_contrast", "gc_gamma", (1e-9, float("inf"))),
    ("brightness", "brightness_factor", None), ("contrast", "contrast_factor", None),
    ("dropout", "drop_range", (0, 1)), ("cutout", "cout_size", (1e-9, 1)),
    ("cutout", "cout_nb_iterations", (0, float("inf"))), ("cutblur", "cblur_size", (1e-9, 1)),
    ("cutblur", "cblur_down_range", (1, 8)), ("cutmix", "cmix_size", (1e-9, 1)),
    ("cutnoise", "cnoise_scale", (0, 1)), ("cutnoise", "cnoise_size", (1e-9, 1)),
    ("cutnoise", "cnoise_nb_iterations", (0, float("inf"))),
    ("missing_sections", "missp_iterations", (1, float("inf"))),
    ("gridmask", "grid_d_range", (1e-9, 1)),
)
# Single values in [low, high] when their augmentation is on.
_AUG_VALUES: tuple[tuple[str, str, tuple[float, float]], ...] = (
    ("elastic", "e_sigma", (1e-9, float("inf"))), ("misalignment", "ms_rotate_ratio", (0, 1)),
    ("misalignment", "ms_displacement", (1, float("inf"))),
    ("missing_sections", "missp_channel_pb", (0, 1)), ("gridmask", "grid_ratio", (1e-9, 1 - 1e-9)),
    ("gridmask", "grid_rotate", (0, 1)),
    ("gaussian_noise", "gaussian_noise_var", (0, float("inf"))),
    ("salt", "salt_amount", (0, 1)), ("pepper", "pepper_amount", (0, 1)),
    ("salt_and_pepper", "salt_and_pepper_amount", (0, 1)),
    ("salt_and_pepper", "salt_and_pepper_prop", (0, 1)),
)
OUTPUT_FORMATS = ("auto", "tiff", "zarr")


def _check(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{key}: {message}")


def _check_choice(value: str, choices: tuple[str, ...], key: str) -> None:
    _check(value.lower() in choices, key, f"{value!r} is not one of {', '.join(choices)}")


def validate_augmentor(cfg: Config) -> None:
    """BiaPy's "Augmentation" checks (``check_configuration``), each naming its key."""
    aug = cfg.augmentor
    for key in probability_keys():
        value = getattr(aug, key.split(".")[1].lower())
        _check(0 <= value <= 1, key, f"must be in [0, 1], got {value}")
    for switch, name, limits in _AUG_RANGES:
        if not getattr(aug, switch):
            continue
        key, values = f"AUGMENTOR.{name.upper()}", getattr(aug, name)
        _check(len(values) == 2 and values[0] <= values[1], key,
               f"needs [low, high] with low <= high, got {values}")
        if limits is not None:
            _check(all(limits[0] <= v <= limits[1] for v in values), key,
                   f"values must be in [{limits[0]}, {limits[1]}], got {values}")
    for switch, name, (low, high) in _AUG_VALUES:
        value = getattr(aug, name)
        _check(not getattr(aug, switch) or low <= value <= high, f"AUGMENTOR.{name.upper()}",
               f"must be in [{low:g}, {high:g}], got {value}")
    _check(not aug.gridmask or aug.grid_d_range[0] < aug.grid_d_range[1],
           "AUGMENTOR.GRID_D_RANGE", f"needs low < high, got {aug.grid_d_range}")
    plane = min(cfg.patch_shape[-2:]) if len(cfg.patch_shape) >= 2 else 0
    _check(not aug.misalignment or aug.ms_displacement < plane, "AUGMENTOR.MS_DISPLACEMENT",
           f"must be smaller than the patch's y and x sizes {cfg.patch_shape[-2:]}, got "
           f"{aug.ms_displacement}")
    _check_choice(aug.affine_mode, AFFINE_MODES, "AUGMENTOR.AFFINE_MODE")
    if aug.elastic:
        _check_choice(aug.e_mode, ELASTIC_MODES, "AUGMENTOR.E_MODE")
    if cfg.data.normalization.type.lower() == "zero_mean_unit_variance":
        for name in ("gamma_contrast", "poisson_noise"):
            _check(not getattr(aug, name), f"AUGMENTOR.{name.upper()}",
                   "needs non-negative inputs; DATA.NORMALIZATION.TYPE "
                   "zero_mean_unit_variance gives negative values (BiaPy refuses it too)")


def default_feature_maps(levels: int) -> list[int]:
    """``FEATURE_MAPS`` when a config leaves it out but its per-level keys (``Z_DOWN``,
    ``DROPOUT_VALUES``) give ``levels`` levels: this project's default ``[32, 64, 128, 256]``
    for up to 4 levels, BiaPy's ``16 * 2**i`` for more (its default has 5)."""
    if levels <= 4:
        return [32, 64, 128, 256][:levels]
    return [16 * 2**i for i in range(levels)]


def _fit_levels(cfg: Config, given: set[str]) -> None:
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
    _check(0 <= model.convnext_sd_prob <= 1, "MODEL.CONVNEXT_SD_PROB",
           f"must be in [0, 1], got {model.convnext_sd_prob}")
    _check(model.convnext_layer_scale >= 0, "MODEL.CONVNEXT_LAYER_SCALE",
           f"must not be negative (0: no layer scale), got {model.convnext_layer_scale}")
    _check(model.convnext_stem_k_size >= 1, "MODEL.CONVNEXT_STEM_K_SIZE",
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


def _check_model(cfg: Config, set_keys: set[str]) -> None:
    model, i2i = cfg.model, cfg.problem.image_to_image
    arch = model.architecture.lower()
    if arch in NOT_BUILT:
        raise ConfigError(f"MODEL.ARCHITECTURE: {arch!r} is a BiaPy image-to-image network "
                          f"that i2i_nb refuses: {NOT_BUILT[arch]}; choose one of "
                          f"{', '.join(ARCHITECTURES)}")
    _check_choice(model.architecture, ARCHITECTURES, "MODEL.ARCHITECTURE")
    _check(not (arch == "wdsr" and cfg.ndim == 3), "MODEL.ARCHITECTURE",
           "'wdsr' is not available for 3D (as in BiaPy)")
    if arch == "hrnet":
        validate_hrnet(model.hrnet, cfg.ndim)
    _check(len(model.feature_maps) >= 1 and all(f > 0 for f in model.feature_maps),
           "MODEL.FEATURE_MAPS", f"need positive filter counts, got {model.feature_maps}")
    levels = len(model.feature_maps)
    _check(arch != "resunet++" or levels >= 3, "MODEL.FEATURE_MAPS",
           f"resunet++ needs at least 3 levels (its first two share the full resolution; "
           f"BiaPy needs 3 too), got {model.feature_maps}")
    downs, why = levels - 1, f"one per down-sampling of MODEL.FEATURE_MAPS {model.feature_maps}"
    if arch == "multiresunet":  # BiaPy's fixed five levels, whatever FEATURE_MAPS says
        downs, why = 4, "one per down-sampling of BiaPy's five-level multiresunet"
    if cfg.ndim == 3:
        _check(not model.z_down or len(model.z_down) == downs,
               "MODEL.Z_DOWN", f"needs {downs} values ({why}), got {model.z_down}")
        _check(all(z in (1, 2) for z in model.z_down), "MODEL.Z_DOWN",
               "values must be 1 or 2 (or all 0: automatic)")
    if model.yx_down and all(v == 0 for v in model.yx_down):
        model.yx_down = []
    _check(not model.yx_down or len(model.yx_down) == downs, "MODEL.YX_DOWN",
           f"needs {downs} values ({why}), got {model.yx_down}")
    _check(all(v in (1, 2) for v in model.yx_down), "MODEL.YX_DOWN",
           "values must be 1 or 2 (or all 0: 2)")
    if arch == "unetr":
        check_unetr(cfg)
    else:
        _check(len(model.dropout_values) == levels, "MODEL.DROPOUT_VALUES",
               f"needs one value per level of MODEL.FEATURE_MAPS ({levels}), "
               f"got {model.dropout_values}")
    _check(all(0 <= d < 1 for d in model.dropout_values), "MODEL.DROPOUT_VALUES",
           "values must be in [0, 1)")
    _check_choice(model.normalization, MODEL_NORMALIZATIONS, "MODEL.NORMALIZATION")
    _check(model.kernel_size >= 1 and model.kernel_size % 2 == 1, "MODEL.KERNEL_SIZE",
           f"must be an odd positive size, got {model.kernel_size}")
    _check_choice(model.upsample_layer, ("convtranspose", "upsampling"), "MODEL.UPSAMPLE_LAYER")
    _check_choice(model.activation, ACTIVATIONS, "MODEL.ACTIVATION")
    model.isotropy = ([] if all(model.isotropy) else
                      _per_level(list(model.isotropy), levels, "MODEL.ISOTROPY"))
    model.conv_layers = _per_level(list(model.conv_layers), levels, "MODEL.CONV_LAYERS")
    _check(all(n >= 1 for n in model.conv_layers), "MODEL.CONV_LAYERS",
           f"values must be at least 1, got {model.conv_layers}")
    if arch in ("unext_v1", "unext_v2"):
        _check_unext(cfg, arch)
    for key in ("RCAN_RG_BLOCK_NUM", "RCAN_RCAB_BLOCK_NUM", "RCAN_CONV_FILTERS",
                "RCAN_REDUCTION_RATIO"):
        _check(getattr(model, key.lower()) >= 1, f"MODEL.{key}", "must be at least 1")
    if arch == "stunet":
        check_stunet(cfg)
    heads = i2i.channels_per_head_info
    _check(all(h >= 1 for h in heads), "PROBLEM.IMAGE_TO_IMAGE.CHANNELS_PER_HEAD_INFO",
           f"channel counts must be at least 1, got {heads}")
    given = i2i.output_channels
    _check(not heads or not given or sum(heads) == given,
           "PROBLEM.IMAGE_TO_IMAGE.CHANNELS_PER_HEAD_INFO",
           f"must add up to PROBLEM.IMAGE_TO_IMAGE.OUTPUT_CHANNELS ({given}), got {heads}")
    if i2i.separated_decoders_per_head:
        _check(arch in U_NET_FAMILY, "PROBLEM.IMAGE_TO_IMAGE.SEPARATED_DECODERS_PER_HEAD",
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


def validate(cfg: Config, given: set[str] | None = None) -> None:
    """Raise ConfigError naming the first key whose value is out of range.

    ``given`` holds the keys the user set (the rest took defaults); some checks depend on
    it, as BiaPy's do.
    """
    given = given or set()
    _check(cfg.problem.type.upper() == "IMAGE_TO_IMAGE", "PROBLEM.TYPE",
           f"i2i_nb runs IMAGE_TO_IMAGE only, not {cfg.problem.type!r}")
    _check(cfg.problem.ndim.upper() in ("2D", "3D"), "PROBLEM.NDIM",
           f"must be 2D or 3D, not {cfg.problem.ndim!r}")
    _check(not cfg.problem.image_to_image.membrane_repair.enable,
           "PROBLEM.IMAGE_TO_IMAGE.MEMBRANE_REPAIR.ENABLE",
           "BiaPy's membrane repair is a segmentation post-process (membrane probabilities "
           "to instances), not an image-to-image regression; i2i_nb does not build it")
    acts = ("linear", "none", "relu", "tanh", "leaky_relu", "elu", "gelu", "silu", "swish",
            "sigmoid", "softplus")
    for name in cfg.problem.image_to_image.output_channel_act:
        _check_choice(name, acts, "PROBLEM.IMAGE_TO_IMAGE.OUTPUT_CHANNEL_ACT")
    patch = cfg.data.patch_size
    _check(len(patch) in (cfg.ndim, cfg.ndim + 1), "DATA.PATCH_SIZE",
           f"{cfg.problem.ndim} needs {cfg.ndim} sizes (+ channels), got {tuple(patch)}")
    _check(all(p > 0 for p in patch), "DATA.PATCH_SIZE", f"sizes must be positive: {patch}")
    validate_preprocess(cfg)
    validate_filters(cfg)
    validate_test_keys(cfg)
    validate_zoom(cfg)
    validate_freeze(cfg)
    validate_resolution(cfg)
    validate_train_previews(cfg)
    norm = cfg.data.normalization
    _check_choice(norm.type, INPUT_NORMALIZATIONS, "DATA.NORMALIZATION.TYPE")
    _check_choice(norm.measure_by, MEASURES, "DATA.NORMALIZATION.MEASURE_BY")
    _check_choice(norm.target.type, TARGET_NORMALIZATIONS, "DATA.NORMALIZATION.TARGET.TYPE")
    if norm.target.enable:
        _check(norm.target.type.lower() in ("zero_mean_unit_variance", "scale_range", "div"),
               "DATA.NORMALIZATION.TARGET.TYPE", "with TARGET.ENABLE BiaPy normalises targets "
               "with fixed values: zero_mean_unit_variance, scale_range or div, not "
               f"{norm.target.type!r}")
    _check(0 <= norm.perc_clip.lower_perc < norm.perc_clip.upper_perc <= 100,
           "DATA.NORMALIZATION.PERC_CLIP", "need 0 <= LOWER_PERC < UPPER_PERC <= 100")
    _check(0 <= cfg.data.val.split_train < 1, "DATA.VAL.SPLIT_TRAIN", "must be in [0, 1)")
    _check_choice(cfg.data.val.split_by, ("image", "region"), "DATA.VAL.SPLIT_BY")
    _check(0 <= cfg.data.train.foreground_sampling <= 1, "DATA.TRAIN.FOREGROUND_SAMPLING",
           "must be in [0, 1]")
    _check(cfg.data.train.replicate >= 0, "DATA.TRAIN.REPLICATE", "must not be negative")
    val = cfg.data.val
    if val.cross_val:
        _check(val.cross_val_nfold >= 2, "DATA.VAL.CROSS_VAL_NFOLD", "needs at least 2 folds")
        _check(1 <= val.cross_val_fold <= val.cross_val_nfold, "DATA.VAL.CROSS_VAL_FOLD",
               f"must be in 1..{val.cross_val_nfold}")
    _check(not cfg.data.test.use_val_as_test or val.cross_val, "DATA.TEST.USE_VAL_AS_TEST",
           "can only be used with DATA.VAL.CROSS_VAL (as BiaPy requires)")
    for key, values in (("DATA.TRAIN.OVERLAP", cfg.data.train.overlap),
                        ("DATA.VAL.OVERLAP", val.overlap)):
        _check(len(values) in (0, cfg.ndim), key, f"needs {cfg.ndim} values, got {values}")
        _check(all(0 <= v < 1 for v in values), key, f"values must be in [0, 1): {values}")
    tests = (("DATA.TEST.PADDING", cfg.data.test.padding),
             ("DATA.TEST.OVERLAP", cfg.data.test.overlap),
             ("DATA.TEST.TILE_SHAPE", cfg.data.test.tile_shape))
    for key, values in tests:
        _check(len(values) in (0, cfg.ndim), key, f"needs {cfg.ndim} values, got {values}")
        _check(all(v >= 0 for v in values), key, f"values must not be negative: {values}")
    if cfg.augmentor.enable:
        validate_augmentor(cfg)
    _fit_levels(cfg, given)
    model = cfg.model
    _check(model.source.lower() != "torchvision", "MODEL.SOURCE",
           "torchvision models need torchvision and downloaded weights; use 'biapy' (the "
           "networks built here) or 'bmz' (a local BioImage Model Zoo package)")
    _check_choice(model.source, ("biapy", "bmz", "torchvision"), "MODEL.SOURCE")
    _check(model.source.lower() != "bmz" or bool(model.bmz.source_model_id),
           "MODEL.BMZ.SOURCE_MODEL_ID", "needs a local package when MODEL.SOURCE is bmz")
    export = model.bmz.export
    _check(not export.reuse_bmz_config or model.source.lower() == "bmz",
           "MODEL.BMZ.EXPORT.REUSE_BMZ_CONFIG", "needs a package loaded with MODEL.SOURCE: bmz")
    _check(all("name" in a for a in export.authors), "MODEL.BMZ.EXPORT.AUTHORS",
           "each author needs a 'name', e.g. [{name: Ada, github_user: ada}]")
    _check(all("text" in c for c in export.cite), "MODEL.BMZ.EXPORT.CITE",
           "each entry needs a 'text' (and a 'doi' or 'url')")
    _check(len(export.dataset_info) <= 1, "MODEL.BMZ.EXPORT.DATASET_INFO",
           "must be a list with one entry: [{name, doi, image_modality}]")
    _check(not model.vit_pretrained_weights, "MODEL.VIT_PRETRAINED_WEIGHTS",
           "BiaPy loads pretrained weights (SAM 3's, from Hugging Face or a file) only into "
           "its 'sam3_vit' backbone, which i2i_nb does not build, and nothing is downloaded "
           "here; leave it empty to train from scratch")
    _check_model(cfg, given)
    _check_choice(model.load_checkpoint_epoch, ("best_on_val", "last_on_train"),
                  "MODEL.LOAD_CHECKPOINT_EPOCH")
    _check_choice(model.out_checkpoint_format, ("pth", "safetensors"),
                  "MODEL.OUT_CHECKPOINT_FORMAT")
    items = ("weights", "norm", "model_arch", "optimizer", "epoch")
    _check(all(i in items for i in model.items_to_load_from_checkpoint),
           "MODEL.ITEMS_TO_LOAD_FROM_CHECKPOINT", f"items must be in {list(items)} (as BiaPy "
           f"requires), got {model.items_to_load_from_checkpoint}")
    _check(len(cfg.loss.type) >= 1, "LOSS.TYPE", "needs at least one loss")
    gan = model.architecture.lower() == "nafnet"
    for name in cfg.loss.type:
        problem = None if gan and name.lower() in ADVERSARIAL else loss_problem(name)
        _check(problem is None, "LOSS.TYPE", str(problem))
    _check(not cfg.loss.weights or len(cfg.loss.weights) == len(cfg.loss.type), "LOSS.WEIGHTS",
           f"needs one weight per LOSS.TYPE ({len(cfg.loss.type)}), got {cfg.loss.weights}")
    _check(not cfg.loss.weights or any(w != 0 for w in cfg.loss.weights), "LOSS.WEIGHTS",
           "needs at least one non-zero weight")
    train = cfg.train
    _check(train.epochs >= 0, "TRAIN.EPOCHS", "must not be negative")
    _check(train.patience >= -1, "TRAIN.PATIENCE", "must be -1 (never stop early) or more")
    _check(train.batch_size >= 1, "TRAIN.BATCH_SIZE", "must be at least 1")
    _check(train.lr > 0, "TRAIN.LR", f"must be positive, got {train.lr}")
    _check(len(train.opt_betas) == 2 and all(0 <= b < 1 for b in train.opt_betas),
           "TRAIN.OPT_BETAS", f"needs two values in [0, 1), got {train.opt_betas}")
    _check(train.lr_scheduler.min_lr >= 0, "TRAIN.LR_SCHEDULER.MIN_LR",
           f"must not be negative, got {train.lr_scheduler.min_lr}")
    _check(train.accum_iter >= 1, "TRAIN.ACCUM_ITER", "must be at least 1")
    _check(train.gradient_clip_norm >= 0, "TRAIN.GRADIENT_CLIP_NORM",
           "must be non-negative (0 to disable), as BiaPy requires")
    fraction = train.lr_scheduler.cosine_decay_fraction
    _check(fraction <= 1, "TRAIN.LR_SCHEDULER.COSINE_DECAY_FRACTION", "must be in (0, 1]")
    _check(train.patches_per_epoch >= 0, "TRAIN.PATCHES_PER_EPOCH", "must not be negative")
    _check_choice(train.optimizer, OPTIMIZERS, "TRAIN.OPTIMIZER")
    check_gan(cfg)
    _check_choice(train.lr_scheduler.name, SCHEDULERS, "TRAIN.LR_SCHEDULER.NAME")
    _check(cfg.test.tiles_per_batch >= 1, "TEST.TILES_PER_BATCH", "must be at least 1")
    _check_choice(cfg.test.output_dtype, OUTPUT_DTYPES, "TEST.OUTPUT_DTYPE")
    _check_choice(cfg.test.on_disk, ON_DISK, "TEST.ON_DISK")
    _check_choice(cfg.test.augmentation_mode, ("mean", "min", "max"), "TEST.AUGMENTATION_MODE")
    _check_choice(cfg.test.augmentation_group, TTA_GROUPS, "TEST.AUGMENTATION_GROUP")
    _check_metrics(cfg)
    _check_by_chunks(cfg)


def _metric_names(names: list[str], key: str) -> list[str]:
    """Lower-cased metric names; each refused with the key named (weights: said so)."""
    for name in names:
        lower = str(name).lower()
        _check(lower not in NEED_WEIGHTS, key,
               f"{name!r} needs the pretrained {NEED_WEIGHTS.get(lower)} network's weights, "
               f"downloaded at run time, which i2i_nb never does; choose from "
               f"{', '.join(METRICS)}")
        _check(lower in METRICS, key, f"{name!r} is not one of {', '.join(METRICS)}")
    return [str(n).lower() for n in names]


def _check_metrics(cfg: Config) -> None:
    """``TRAIN.METRICS``, ``TEST.METRICS`` (empty: the defaults, as BiaPy) and
    ``TEST.EVAL_BORDER_CROP``."""
    cfg.train.metrics = _metric_names(cfg.train.metrics, "TRAIN.METRICS") or ["psnr"]
    cfg.test.metrics = _metric_names(cfg.test.metrics, "TEST.METRICS") or list(DEFAULT_METRICS)
    border = cfg.test.eval_border_crop
    _check(len(border) in (0, cfg.ndim), "TEST.EVAL_BORDER_CROP",
           f"needs {cfg.ndim} values ({'z, ' if cfg.ndim == 3 else ''}y, x), got {border}")
    _check(all(b >= 0 for b in border), "TEST.EVAL_BORDER_CROP",
           f"values must not be negative: {border}")


def _check_by_chunks(cfg: Config) -> None:
    """``TEST.OUTPUT_FORMAT`` and ``TEST.BY_CHUNKS``."""
    _check_choice(cfg.test.output_format, OUTPUT_FORMATS, "TEST.OUTPUT_FORMAT")
    chunks = cfg.test.by_chunks
    _check(len(chunks.block_shape) in (0, cfg.ndim) and all(b > 0 for b in chunks.block_shape),
           "TEST.BY_CHUNKS.BLOCK_SHAPE", f"needs {cfg.ndim} positive sizes, got "
           f"{chunks.block_shape}")
    _check(chunks.z_start >= -1, "TEST.BY_CHUNKS.Z_START", "must be -1 or a slice index")
    _check(chunks.z_end == -1 or chunks.z_end > max(0, chunks.z_start), "TEST.BY_CHUNKS.Z_END",
           f"must be -1 or above Z_START ({chunks.z_start}), got {chunks.z_end}")
    if chunks.enable:
        _check(not cfg.test.augmentation, "TEST.BY_CHUNKS.ENABLE",
               "block-wise prediction does not average over flips and rotations; set "
               "TEST.AUGMENTATION to False")
        _check(not cfg.test.full_img, "TEST.BY_CHUNKS.ENABLE",
               "block-wise prediction uses tiles; set TEST.FULL_IMG to False")
