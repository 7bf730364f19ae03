"""One typed configuration, read from and written to YAML with BiaPy's key names.

Every section and field is named after BiaPy's key, lower-cased: the YAML key
``DATA.TRAIN.PATH`` is ``cfg.data.train.path``. Keys this project adds follow the
same convention (``DATA.NORMALIZATION.TARGET.TYPE``, ``DATA.TEST.TILE_SHAPE``...).
Unknown keys give one warning each and are ignored; values of the wrong type or
out of range raise :class:`~i2i_nb.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import types
import typing
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from i2i_nb.errors import ConfigError

ARCHITECTURES = ("unet", "resunet", "attention_unet", "rcan")
# BiaPy image-to-image networks not built here, and the closest one that is
STAND_INS = {"resunet++": "resunet", "resunet_se": "resunet", "seunet": "unet",
             "multiresunet": "unet", "unetr": "unet", "unext_v1": "unet", "unext_v2": "unet",
             "edsr": "rcan", "wdsr": "rcan", "dfcan": "rcan"}
INPUT_NORMALIZATIONS = ("percentile", "zero_mean_unit_variance", "scale_range", "div", "none")
TARGET_NORMALIZATIONS = ("percentile", "zero_mean_unit_variance", "none")
MEASURES = ("dataset", "image", "patch")
LOSSES = ("mae", "mse", "ssim")
OPTIMIZERS = ("adamw", "adam", "sgd")
SCHEDULERS = ("warmupcosine", "onecycle", "reduceonplateau", "none", "")
OUTPUT_DTYPES = ("float32", "uint16", "uint8", "target")
ON_DISK = ("auto", "always", "never")


@dataclass
class ImageToImageConfig:
    """``PROBLEM.IMAGE_TO_IMAGE``; ``OUTPUT_CHANNELS`` (BiaPy's) is only checked against
    the targets, whose channel count decides (0: not given)."""

    multiple_raw_one_target_loader: bool = False
    output_channels: int = 0


@dataclass
class ProblemConfig:
    """``PROBLEM``: the workflow and the number of spatial dimensions."""

    type: str = "IMAGE_TO_IMAGE"
    ndim: str = "2D"
    image_to_image: ImageToImageConfig = field(default_factory=ImageToImageConfig)


@dataclass
class PercClipConfig:
    """``DATA.NORMALIZATION.PERC_CLIP``: percentiles used by ``percentile`` (and clipping)."""

    enable: bool = False
    lower_perc: float = 1.0
    upper_perc: float = 99.8


@dataclass
class TargetNormalizationConfig:
    """``DATA.NORMALIZATION.TARGET``: dataset-level statistics of the training targets."""

    type: str = "percentile"


@dataclass
class NormalizationConfig:
    """``DATA.NORMALIZATION`` of the inputs.

    ``TYPE`` defaults to ``zero_mean_unit_variance``: on the quality benchmark it beat
    percentile normalisation on all 7 tasks (sparse field 39.6 against 28.0 dB, RGB to
    one channel 34.2 against 29.5 dB). ``MEASURE_BY: dataset`` (default, as CAREamics)
    takes the statistics of ``TYPE``
    from all training inputs together and stores them in the checkpoint, so that
    differences in brightness between images survive normalisation; ``image``
    (BiaPy's default) measures each image on its own.
    """

    type: str = "zero_mean_unit_variance"
    measure_by: str = "dataset"
    perc_clip: PercClipConfig = field(default_factory=PercClipConfig)
    target: TargetNormalizationConfig = field(default_factory=TargetNormalizationConfig)


@dataclass
class TrainDataConfig:
    """``DATA.TRAIN``. ``IN_MEMORY: False`` leaves images on disk (memory-mapped, read by
    patch); ``FOREGROUND_SAMPLING`` is the share of patches drawn to hold foreground."""

    path: str = "dataset/train/x"
    gt_path: str = "dataset/train/y"
    in_memory: bool = True
    foreground_sampling: float = 0.9


@dataclass
class ValDataConfig:
    """``DATA.VAL``: a seeded fraction of the training pairs, or a folder of its own."""

    from_train: bool = True
    split_train: float = 0.1
    path: str = ""
    gt_path: str = ""


@dataclass
class TestDataConfig:
    """``DATA.TEST``; ``OVERLAP`` below 1 is a fraction of the tile, else pixels."""

    path: str = "dataset/test/x"
    gt_path: str = "dataset/test/y"
    load_gt: bool = True
    in_memory: bool = False
    padding: tuple[int, ...] = ()
    overlap: tuple[float, ...] = ()
    tile_shape: tuple[int, ...] = ()


@dataclass
class DataConfig:
    """``DATA``; ``PATCH_SIZE`` is ``(y, x[, c])`` or ``(z, y, x[, c])`` as in BiaPy."""

    patch_size: tuple[int, ...] = (128, 128, 1)
    axes: str = ""
    gt_axes: str = ""
    normalization: NormalizationConfig = field(default_factory=NormalizationConfig)
    train: TrainDataConfig = field(default_factory=TrainDataConfig)
    val: ValDataConfig = field(default_factory=ValDataConfig)
    test: TestDataConfig = field(default_factory=TestDataConfig)


@dataclass
class AugmentorConfig:
    """``AUGMENTOR``: geometric augmentations applied identically to input and target."""

    enable: bool = True
    da_prob: float = 0.5
    vflip: bool = True
    hflip: bool = True
    zflip: bool = True
    rot90: bool = True


@dataclass
class ModelConfig:
    """``MODEL``; an empty ``Z_DOWN`` pools z only while the patch is deep enough.

    ``NORMALIZATION`` defaults to ``none`` (as CARE): batch normalisation's running
    statistics made 3D predictions worse than the input on the demo data (17.1 dB
    against 24.7 dB without it, identity 18.1 dB).
    """

    architecture: str = "unet"
    feature_maps: list[int] = field(default_factory=lambda: [32, 64, 128, 256])
    z_down: list[int] = field(default_factory=list)
    dropout_values: list[float] = field(default_factory=lambda: [0.0])
    normalization: str = "none"
    residual: bool = False
    load_checkpoint: bool = False


@dataclass
class LRSchedulerConfig:
    """``TRAIN.LR_SCHEDULER``."""

    name: str = "warmupcosine"
    min_lr: float = 1e-5
    warmup_cosine_decay_epochs: int = 5
    reduceonplateau_patience: int = 10
    reduceonplateau_factor: float = 0.5


@dataclass
class LossConfig:
    """``TRAIN.LOSS``."""

    type: str = "mae"


@dataclass
class TrainConfig:
    """``TRAIN``; ``PATCHES_PER_EPOCH`` 0 means one pass over the training voxels;
    ``COMPILE`` trains through ``torch.compile`` (a warm-up of a minute or so, then often
    faster on CUDA; on the CPU it needs a C++ compiler)."""

    enable: bool = True
    epochs: int = 100
    patience: int = 20
    batch_size: int = 8
    lr: float = 1e-3
    optimizer: str = "adamw"
    w_decay: float = 1e-4
    patches_per_epoch: int = 0
    amp: bool = True
    compile: bool = False
    loss: LossConfig = field(default_factory=LossConfig)
    lr_scheduler: LRSchedulerConfig = field(default_factory=LRSchedulerConfig)


@dataclass
class TestConfig:
    """``TEST``; ``FULL_IMG`` predicts each image in one piece instead of tiles.

    ``ON_DISK``: ``auto`` predicts an image from disk to disk (memory-mapped input and
    output, never held whole) when it would not fit in half the available memory;
    ``always`` or ``never`` force the choice.
    """

    enable: bool = True
    full_img: bool = False
    augmentation: bool = False
    tiles_per_batch: int = 4
    output_dtype: str = "float32"
    on_disk: str = "auto"


@dataclass
class PathsConfig:
    """``PATHS``."""

    checkpoint_file: str = ""


@dataclass
class SystemConfig:
    """``SYSTEM``."""

    seed: int = 0
    num_workers: int = 0
    pin_mem: bool = True


@dataclass
class Config:
    """The whole run's configuration (BiaPy's tree, lower-cased)."""

    system: SystemConfig = field(default_factory=SystemConfig)
    problem: ProblemConfig = field(default_factory=ProblemConfig)
    data: DataConfig = field(default_factory=DataConfig)
    augmentor: AugmentorConfig = field(default_factory=AugmentorConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    test: TestConfig = field(default_factory=TestConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions, 2 or 3."""
        return 3 if self.problem.ndim.upper() == "3D" else 2

    @property
    def patch_shape(self) -> tuple[int, ...]:
        """Spatial patch size (the channel entry of ``PATCH_SIZE`` dropped)."""
        return tuple(self.data.patch_size[: self.ndim])


def _all_keys(section: Any, prefix: str = "") -> list[str]:
    keys = []
    for f in dataclasses.fields(section):
        key = prefix + f.name.upper()
        value = getattr(section, f.name)
        keys.extend(_all_keys(value, key + ".") if dataclasses.is_dataclass(value) else [key])
    return keys


def _coerce(key: str, value: Any, annotation: Any) -> Any:
    """Convert a YAML value to the field's type, or raise ConfigError naming the key."""
    origin = typing.get_origin(annotation)
    if isinstance(value, str) and (origin in (tuple, list)):
        text = value.strip() or "()"
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError) as err:
            raise ConfigError(f"{key}: cannot read {value!r} as a sequence") from err
    try:
        if annotation is bool:
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            if not isinstance(value, bool):
                raise TypeError
            return value
        if annotation is int:
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise TypeError
            return int(float(value))
        if annotation is float:
            if isinstance(value, bool):
                raise TypeError
            return float(value)
        if annotation is str:
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise TypeError
            return str(value)
        if origin in (tuple, list):
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = [value]
            if not isinstance(value, list | tuple):
                raise TypeError
            item_type = typing.get_args(annotation)[0]
            items = [_coerce(f"{key}[{i}]", v, item_type) for i, v in enumerate(value)]
            return origin(items)
    except (TypeError, ValueError) as err:
        name = getattr(annotation, "__name__", str(annotation))
        raise ConfigError(f"{key}: expected {name}, got {value!r}") from err
    raise ConfigError(f"{key}: unsupported type {annotation}")


def _update(section: Any, values: dict, prefix: str, known: list[str]) -> None:
    hints = typing.get_type_hints(type(section))
    names = {f.name for f in dataclasses.fields(section)}
    for raw_key, value in values.items():
        name = str(raw_key).lower()
        key = prefix + str(raw_key).upper()
        if name not in names:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.85)
            hint = f" (did you mean {close[0]}?)" if close else ""
            warnings.warn(f"{key} is not supported by i2i_nb and is ignored{hint}", stacklevel=3)
            continue
        current = getattr(section, name)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"{key}: expected a section of keys, got {value!r}")
            _update(current, value, key + ".", known)
        else:
            annotation = hints[name]
            if isinstance(annotation, types.UnionType):
                annotation = typing.get_args(annotation)[0]
            setattr(section, name, _coerce(key, value, annotation))


def config_from_dict(values: dict, base: Config | None = None) -> Config:
    """Build a validated config from nested BiaPy-style keys, on top of ``base``."""
    cfg = from_plain(to_plain(base)) if base is not None else Config()
    _update(cfg, values or {}, "", _all_keys(cfg))
    stand_in = STAND_INS.get(cfg.model.architecture.lower())
    if stand_in:
        warnings.warn(f"MODEL.ARCHITECTURE: {cfg.model.architecture!r} is not built by i2i_nb; "
                      f"using the closest, {stand_in!r}", stacklevel=2)
        cfg.model.architecture = stand_in
    validate(cfg)
    return cfg


def load_config(path: str | Path) -> Config:
    """Read a BiaPy-style YAML file (``yaml.safe_load``) into a validated config."""
    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text())
    except OSError as err:
        raise ConfigError(f"cannot read config file {path}: {err}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {path} is not valid YAML: {err}") from err
    if values is not None and not isinstance(values, dict):
        raise ConfigError(f"config file {path} must hold sections of keys, not {type(values)}")
    return config_from_dict(values or {})


def to_plain(cfg: Config) -> dict:
    """Nested dict with BiaPy's upper-case key names and plain YAML-safe values."""

    def convert(section: Any) -> dict:
        out = {}
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            if dataclasses.is_dataclass(value):
                out[f.name.upper()] = convert(value)
            elif isinstance(value, tuple):
                out[f.name.upper()] = list(value)
            else:
                out[f.name.upper()] = value
        return out

    return convert(cfg)


def from_plain(values: dict) -> Config:
    """Inverse of :func:`to_plain` without validation or warnings."""
    cfg = Config()
    _update(cfg, values, "", [])
    return cfg


def save_config(cfg: Config, path: str | Path) -> None:
    """Write the config as BiaPy-style YAML."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(to_plain(cfg), sort_keys=False))


def _check(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{key}: {message}")


def _check_choice(value: str, choices: tuple[str, ...], key: str) -> None:
    _check(value.lower() in choices, key, f"{value!r} is not one of {', '.join(choices)}")


def validate(cfg: Config) -> None:
    """Raise ConfigError naming the first key whose value is out of range."""
    _check(cfg.problem.type.upper() == "IMAGE_TO_IMAGE", "PROBLEM.TYPE",
           f"i2i_nb runs IMAGE_TO_IMAGE only, not {cfg.problem.type!r}")
    _check(cfg.problem.ndim.upper() in ("2D", "3D"), "PROBLEM.NDIM",
           f"must be 2D or 3D, not {cfg.problem.ndim!r}")
    patch = cfg.data.patch_size
    _check(len(patch) in (cfg.ndim, cfg.ndim + 1), "DATA.PATCH_SIZE",
           f"{cfg.problem.ndim} needs {cfg.ndim} sizes (+ channels), got {tuple(patch)}")
    _check(all(p > 0 for p in patch), "DATA.PATCH_SIZE", f"sizes must be positive: {patch}")
    norm = cfg.data.normalization
    _check_choice(norm.type, INPUT_NORMALIZATIONS, "DATA.NORMALIZATION.TYPE")
    _check_choice(norm.measure_by, MEASURES, "DATA.NORMALIZATION.MEASURE_BY")
    _check_choice(norm.target.type, TARGET_NORMALIZATIONS, "DATA.NORMALIZATION.TARGET.TYPE")
    _check(0 <= norm.perc_clip.lower_perc < norm.perc_clip.upper_perc <= 100,
           "DATA.NORMALIZATION.PERC_CLIP", "need 0 <= LOWER_PERC < UPPER_PERC <= 100")
    _check(0 <= cfg.data.val.split_train < 1, "DATA.VAL.SPLIT_TRAIN", "must be in [0, 1)")
    _check(0 <= cfg.data.train.foreground_sampling <= 1, "DATA.TRAIN.FOREGROUND_SAMPLING",
           "must be in [0, 1]")
    for key, values in (("DATA.TEST.PADDING", cfg.data.test.padding),
                        ("DATA.TEST.OVERLAP", cfg.data.test.overlap),
                        ("DATA.TEST.TILE_SHAPE", cfg.data.test.tile_shape)):
        _check(len(values) in (0, cfg.ndim), key, f"needs {cfg.ndim} values, got {values}")
        _check(all(v >= 0 for v in values), key, f"values must not be negative: {values}")
    _check(0 <= cfg.augmentor.da_prob <= 1, "AUGMENTOR.DA_PROB", "must be in [0, 1]")
    model = cfg.model
    _check_choice(model.architecture, ARCHITECTURES, "MODEL.ARCHITECTURE")
    _check(len(model.feature_maps) >= 1 and all(f > 0 for f in model.feature_maps),
           "MODEL.FEATURE_MAPS", f"need positive filter counts, got {model.feature_maps}")
    _check(not model.z_down or len(model.z_down) == len(model.feature_maps) - 1, "MODEL.Z_DOWN",
           f"needs {len(model.feature_maps) - 1} values (one per down-sampling), "
           f"got {model.z_down}")
    _check(all(z in (1, 2) for z in model.z_down), "MODEL.Z_DOWN", "values must be 1 or 2")
    _check(all(0 <= d < 1 for d in model.dropout_values), "MODEL.DROPOUT_VALUES",
           "values must be in [0, 1)")
    _check_choice(model.normalization, ("bn", "in", "gn", "none"), "MODEL.NORMALIZATION")
    train = cfg.train
    _check(train.epochs >= 0, "TRAIN.EPOCHS", "must not be negative")
    _check(train.patience >= 0, "TRAIN.PATIENCE", "must not be negative")
    _check(train.batch_size >= 1, "TRAIN.BATCH_SIZE", "must be at least 1")
    _check(train.lr > 0, "TRAIN.LR", f"must be positive, got {train.lr}")
    _check(train.patches_per_epoch >= 0, "TRAIN.PATCHES_PER_EPOCH", "must not be negative")
    _check_choice(train.optimizer, OPTIMIZERS, "TRAIN.OPTIMIZER")
    _check_choice(train.loss.type, LOSSES + ("l1",), "TRAIN.LOSS.TYPE")
    _check_choice(train.lr_scheduler.name, SCHEDULERS, "TRAIN.LR_SCHEDULER.NAME")
    _check(cfg.test.tiles_per_batch >= 1, "TEST.TILES_PER_BATCH", "must be at least 1")
    _check_choice(cfg.test.output_dtype, OUTPUT_DTYPES, "TEST.OUTPUT_DTYPE")
    _check_choice(cfg.test.on_disk, ON_DISK, "TEST.ON_DISK")
