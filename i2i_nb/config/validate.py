"""Checks of a whole config: each refusal names the key and what is wrong with it."""

from __future__ import annotations

from i2i_nb.config.augmentor import probability_keys
from i2i_nb.config.checks import check, check_choice
from i2i_nb.config.gan import check_gan
from i2i_nb.config.root import Config
from i2i_nb.config.test import DEFAULT_METRICS, METRICS, NEED_WEIGHTS, TTA_GROUPS
from i2i_nb.config.train import ADVERSARIAL, OPTIMIZERS, loss_problem
from i2i_nb.config.validate_data import (
    validate_filters,
    validate_freeze,
    validate_preprocess,
    validate_resolution,
    validate_test_keys,
    validate_train_previews,
    validate_zoom,
)
from i2i_nb.config.validate_model import check_model, fit_levels

INPUT_NORMALIZATIONS = ("percentile", "zero_mean_unit_variance", "scale_range", "div", "none")
TARGET_NORMALIZATIONS = ("percentile", "zero_mean_unit_variance", "div", "scale_range", "none")
MEASURES = ("dataset", "image", "patch")
SCHEDULERS = ("warmupcosine", "onecycle", "reduceonplateau", "warmupreduceonplateau", "none",
              "")
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


def validate_augmentor(cfg: Config) -> None:
    """BiaPy's "Augmentation" checks (``check_configuration``), each naming its key."""
    aug = cfg.augmentor
    for key in probability_keys():
        value = getattr(aug, key.split(".")[1].lower())
        check(0 <= value <= 1, key, f"must be in [0, 1], got {value}")
    for switch, name, limits in _AUG_RANGES:
        if not getattr(aug, switch):
            continue
        key, values = f"AUGMENTOR.{name.upper()}", getattr(aug, name)
        check(len(values) == 2 and values[0] <= values[1], key,
              f"needs [low, high] with low <= high, got {values}")
        if limits is not None:
            check(all(limits[0] <= v <= limits[1] for v in values), key,
                  f"values must be in [{limits[0]}, {limits[1]}], got {values}")
    for switch, name, (low, high) in _AUG_VALUES:
        value = getattr(aug, name)
        check(not getattr(aug, switch) or low <= value <= high, f"AUGMENTOR.{name.upper()}",
              f"must be in [{low:g}, {high:g}], got {value}")
    check(not aug.gridmask or aug.grid_d_range[0] < aug.grid_d_range[1],
          "AUGMENTOR.GRID_D_RANGE", f"needs low < high, got {aug.grid_d_range}")
    plane = min(cfg.patch_shape[-2:]) if len(cfg.patch_shape) >= 2 else 0
    check(not aug.misalignment or aug.ms_displacement < plane, "AUGMENTOR.MS_DISPLACEMENT",
          f"must be smaller than the patch's y and x sizes {cfg.patch_shape[-2:]}, got "
          f"{aug.ms_displacement}")
    check_choice(aug.affine_mode, AFFINE_MODES, "AUGMENTOR.AFFINE_MODE")
    if aug.elastic:
        check_choice(aug.e_mode, ELASTIC_MODES, "AUGMENTOR.E_MODE")
    if cfg.data.normalization.type.lower() == "zero_mean_unit_variance":
        for name in ("gamma_contrast", "poisson_noise"):
            check(not getattr(aug, name), f"AUGMENTOR.{name.upper()}",
                  "needs non-negative inputs; DATA.NORMALIZATION.TYPE "
                  "zero_mean_unit_variance gives negative values (BiaPy refuses it too)")


def validate(cfg: Config, given: set[str] | None = None) -> None:
    """Raise ConfigError naming the first key whose value is out of range.

    ``given`` holds the keys the user set (the rest took defaults); some checks depend on
    it, as BiaPy's do.
    """
    given = given or set()
    check(cfg.problem.type.upper() == "IMAGE_TO_IMAGE", "PROBLEM.TYPE",
          f"i2i_nb runs IMAGE_TO_IMAGE only, not {cfg.problem.type!r}")
    check(cfg.problem.ndim.upper() in ("2D", "3D"), "PROBLEM.NDIM",
          f"must be 2D or 3D, not {cfg.problem.ndim!r}")
    check(not cfg.problem.image_to_image.membrane_repair.enable,
          "PROBLEM.IMAGE_TO_IMAGE.MEMBRANE_REPAIR.ENABLE",
          "BiaPy's membrane repair is a segmentation post-process (membrane probabilities "
          "to instances), not an image-to-image regression; i2i_nb does not build it")
    acts = ("linear", "none", "relu", "tanh", "leaky_relu", "elu", "gelu", "silu", "swish",
            "sigmoid", "softplus")
    for name in cfg.problem.image_to_image.output_channel_act:
        check_choice(name, acts, "PROBLEM.IMAGE_TO_IMAGE.OUTPUT_CHANNEL_ACT")
    patch = cfg.data.patch_size
    check(len(patch) in (cfg.ndim, cfg.ndim + 1), "DATA.PATCH_SIZE",
          f"{cfg.problem.ndim} needs {cfg.ndim} sizes (+ channels), got {tuple(patch)}")
    check(all(p > 0 for p in patch), "DATA.PATCH_SIZE", f"sizes must be positive: {patch}")
    validate_preprocess(cfg)
    validate_filters(cfg)
    validate_test_keys(cfg)
    validate_zoom(cfg)
    validate_freeze(cfg)
    validate_resolution(cfg)
    validate_train_previews(cfg)
    norm = cfg.data.normalization
    check_choice(norm.type, INPUT_NORMALIZATIONS, "DATA.NORMALIZATION.TYPE")
    check_choice(norm.measure_by, MEASURES, "DATA.NORMALIZATION.MEASURE_BY")
    check_choice(norm.target.type, TARGET_NORMALIZATIONS, "DATA.NORMALIZATION.TARGET.TYPE")
    if norm.target.enable:
        check(norm.target.type.lower() in ("zero_mean_unit_variance", "scale_range", "div"),
              "DATA.NORMALIZATION.TARGET.TYPE", "with TARGET.ENABLE BiaPy normalises targets "
              "with fixed values: zero_mean_unit_variance, scale_range or div, not "
              f"{norm.target.type!r}")
    check(0 <= norm.perc_clip.lower_perc < norm.perc_clip.upper_perc <= 100,
          "DATA.NORMALIZATION.PERC_CLIP", "need 0 <= LOWER_PERC < UPPER_PERC <= 100")
    check(0 <= cfg.data.val.split_train < 1, "DATA.VAL.SPLIT_TRAIN", "must be in [0, 1)")
    check_choice(cfg.data.val.split_by, ("image", "region"), "DATA.VAL.SPLIT_BY")
    check(0 <= cfg.data.train.foreground_sampling <= 1, "DATA.TRAIN.FOREGROUND_SAMPLING",
          "must be in [0, 1]")
    check(cfg.data.train.replicate >= 0, "DATA.TRAIN.REPLICATE", "must not be negative")
    val = cfg.data.val
    if val.cross_val:
        check(val.cross_val_nfold >= 2, "DATA.VAL.CROSS_VAL_NFOLD", "needs at least 2 folds")
        check(1 <= val.cross_val_fold <= val.cross_val_nfold, "DATA.VAL.CROSS_VAL_FOLD",
              f"must be in 1..{val.cross_val_nfold}")
    check(not cfg.data.test.use_val_as_test or val.cross_val, "DATA.TEST.USE_VAL_AS_TEST",
          "can only be used with DATA.VAL.CROSS_VAL (as BiaPy requires)")
    for key, values in (("DATA.TRAIN.OVERLAP", cfg.data.train.overlap),
                        ("DATA.VAL.OVERLAP", val.overlap)):
        check(len(values) in (0, cfg.ndim), key, f"needs {cfg.ndim} values, got {values}")
        check(all(0 <= v < 1 for v in values), key, f"values must be in [0, 1): {values}")
    tests = (("DATA.TEST.PADDING", cfg.data.test.padding),
             ("DATA.TEST.OVERLAP", cfg.data.test.overlap),
             ("DATA.TEST.TILE_SHAPE", cfg.data.test.tile_shape))
    for key, values in tests:
        check(len(values) in (0, cfg.ndim), key, f"needs {cfg.ndim} values, got {values}")
        check(all(v >= 0 for v in values), key, f"values must not be negative: {values}")
    if cfg.augmentor.enable:
        validate_augmentor(cfg)
    fit_levels(cfg, given)
    model = cfg.model
    check(model.source.lower() != "torchvision", "MODEL.SOURCE",
          "torchvision models need torchvision and downloaded weights; use 'biapy' (the "
          "networks built here) or 'bmz' (a local BioImage Model Zoo package)")
    check_choice(model.source, ("biapy", "bmz", "torchvision"), "MODEL.SOURCE")
    check(model.source.lower() != "bmz" or bool(model.bmz.source_model_id),
          "MODEL.BMZ.SOURCE_MODEL_ID", "needs a local package when MODEL.SOURCE is bmz")
    export = model.bmz.export
    check(not export.reuse_bmz_config or model.source.lower() == "bmz",
          "MODEL.BMZ.EXPORT.REUSE_BMZ_CONFIG", "needs a package loaded with MODEL.SOURCE: bmz")
    check(all("name" in a for a in export.authors), "MODEL.BMZ.EXPORT.AUTHORS",
          "each author needs a 'name', e.g. [{name: Ada, github_user: ada}]")
    check(all("text" in c for c in export.cite), "MODEL.BMZ.EXPORT.CITE",
          "each entry needs a 'text' (and a 'doi' or 'url')")
    check(len(export.dataset_info) <= 1, "MODEL.BMZ.EXPORT.DATASET_INFO",
          "must be a list with one entry: [{name, doi, image_modality}]")
    check(not model.vit_pretrained_weights, "MODEL.VIT_PRETRAINED_WEIGHTS",
          "BiaPy loads pretrained weights (SAM 3's, from Hugging Face or a file) only into "
          "its 'sam3_vit' backbone, which i2i_nb does not build, and nothing is downloaded "
          "here; leave it empty to train from scratch")
    check_model(cfg, given)
    check_choice(model.load_checkpoint_epoch, ("best_on_val", "last_on_train"),
                 "MODEL.LOAD_CHECKPOINT_EPOCH")
    check_choice(model.out_checkpoint_format, ("pth", "safetensors"),
                 "MODEL.OUT_CHECKPOINT_FORMAT")
    items = ("weights", "norm", "model_arch", "optimizer", "epoch")
    check(all(i in items for i in model.items_to_load_from_checkpoint),
          "MODEL.ITEMS_TO_LOAD_FROM_CHECKPOINT", f"items must be in {list(items)} (as BiaPy "
          f"requires), got {model.items_to_load_from_checkpoint}")
    check(len(cfg.loss.type) >= 1, "LOSS.TYPE", "needs at least one loss")
    gan = model.architecture.lower() == "nafnet"
    for name in cfg.loss.type:
        problem = None if gan and name.lower() in ADVERSARIAL else loss_problem(name)
        check(problem is None, "LOSS.TYPE", str(problem))
    check(not cfg.loss.weights or len(cfg.loss.weights) == len(cfg.loss.type), "LOSS.WEIGHTS",
          f"needs one weight per LOSS.TYPE ({len(cfg.loss.type)}), got {cfg.loss.weights}")
    check(not cfg.loss.weights or any(w != 0 for w in cfg.loss.weights), "LOSS.WEIGHTS",
          "needs at least one non-zero weight")
    train = cfg.train
    check(train.epochs >= 0, "TRAIN.EPOCHS", "must not be negative")
    check(train.patience >= -1, "TRAIN.PATIENCE", "must be -1 (never stop early) or more")
    check(train.batch_size >= 1, "TRAIN.BATCH_SIZE", "must be at least 1")
    check(train.lr > 0, "TRAIN.LR", f"must be positive, got {train.lr}")
    check(len(train.opt_betas) == 2 and all(0 <= b < 1 for b in train.opt_betas),
          "TRAIN.OPT_BETAS", f"needs two values in [0, 1), got {train.opt_betas}")
    check(train.lr_scheduler.min_lr >= 0, "TRAIN.LR_SCHEDULER.MIN_LR",
          f"must not be negative, got {train.lr_scheduler.min_lr}")
    check(train.accum_iter >= 1, "TRAIN.ACCUM_ITER", "must be at least 1")
    check(train.gradient_clip_norm >= 0, "TRAIN.GRADIENT_CLIP_NORM",
          "must be non-negative (0 to disable), as BiaPy requires")
    fraction = train.lr_scheduler.cosine_decay_fraction
    check(fraction <= 1, "TRAIN.LR_SCHEDULER.COSINE_DECAY_FRACTION", "must be in (0, 1]")
    check(train.patches_per_epoch >= 0, "TRAIN.PATCHES_PER_EPOCH", "must not be negative")
    check_choice(train.optimizer, OPTIMIZERS, "TRAIN.OPTIMIZER")
    check_gan(cfg)
    check_choice(train.lr_scheduler.name, SCHEDULERS, "TRAIN.LR_SCHEDULER.NAME")
    check(cfg.test.tiles_per_batch >= 1, "TEST.TILES_PER_BATCH", "must be at least 1")
    check_choice(cfg.test.output_dtype, OUTPUT_DTYPES, "TEST.OUTPUT_DTYPE")
    check_choice(cfg.test.on_disk, ON_DISK, "TEST.ON_DISK")
    check_choice(cfg.test.augmentation_mode, ("mean", "min", "max"), "TEST.AUGMENTATION_MODE")
    check_choice(cfg.test.augmentation_group, TTA_GROUPS, "TEST.AUGMENTATION_GROUP")
    _check_metrics(cfg)
    _check_by_chunks(cfg)


def _metric_names(names: list[str], key: str) -> list[str]:
    """Lower-cased metric names; each refused with the key named (weights: said so)."""
    for name in names:
        lower = str(name).lower()
        check(lower not in NEED_WEIGHTS, key,
              f"{name!r} needs the pretrained {NEED_WEIGHTS.get(lower)} network's weights, "
              f"downloaded at run time, which i2i_nb never does; choose from "
              f"{', '.join(METRICS)}")
        check(lower in METRICS, key, f"{name!r} is not one of {', '.join(METRICS)}")
    return [str(n).lower() for n in names]


def _check_metrics(cfg: Config) -> None:
    """``TRAIN.METRICS``, ``TEST.METRICS`` (empty: the defaults, as BiaPy) and
    ``TEST.EVAL_BORDER_CROP``."""
    cfg.train.metrics = _metric_names(cfg.train.metrics, "TRAIN.METRICS") or ["psnr"]
    cfg.test.metrics = _metric_names(cfg.test.metrics, "TEST.METRICS") or list(DEFAULT_METRICS)
    border = cfg.test.eval_border_crop
    check(len(border) in (0, cfg.ndim), "TEST.EVAL_BORDER_CROP",
          f"needs {cfg.ndim} values ({'z, ' if cfg.ndim == 3 else ''}y, x), got {border}")
    check(all(b >= 0 for b in border), "TEST.EVAL_BORDER_CROP",
          f"values must not be negative: {border}")


def _check_by_chunks(cfg: Config) -> None:
    """``TEST.OUTPUT_FORMAT`` and ``TEST.BY_CHUNKS``."""
    check_choice(cfg.test.output_format, OUTPUT_FORMATS, "TEST.OUTPUT_FORMAT")
    chunks = cfg.test.by_chunks
    check(len(chunks.block_shape) in (0, cfg.ndim) and all(b > 0 for b in chunks.block_shape),
          "TEST.BY_CHUNKS.BLOCK_SHAPE", f"needs {cfg.ndim} positive sizes, got "
          f"{chunks.block_shape}")
    check(chunks.z_start >= -1, "TEST.BY_CHUNKS.Z_START", "must be -1 or a slice index")
    check(chunks.z_end == -1 or chunks.z_end > max(0, chunks.z_start), "TEST.BY_CHUNKS.Z_END",
          f"must be -1 or above Z_START ({chunks.z_start}), got {chunks.z_end}")
    if chunks.enable:
        check(not cfg.test.augmentation, "TEST.BY_CHUNKS.ENABLE",
              "block-wise prediction does not average over flips and rotations; set "
              "TEST.AUGMENTATION to False")
        check(not cfg.test.full_img, "TEST.BY_CHUNKS.ENABLE",
              "block-wise prediction uses tiles; set TEST.FULL_IMG to False")
