"""The normalisation a run trains with, from ``DATA.NORMALIZATION`` and the training data.

Inputs: measured on the whole training set (``MEASURE_BY: dataset``) or on each image,
with BiaPy's fixed values (``ZERO_MEAN_UNIT_VAR.MEAN_VAL`` / ``STD_VAL``,
``PERC_CLIP.LOWER_VALUE`` / ``UPPER_VALUE``) used where given. Targets: statistics of all
training targets, or BiaPy's fixed values when ``TARGET.ENABLE``.
"""

from __future__ import annotations

from typing import Any

from i2i_nb.config.data import NormalizationConfig
from i2i_nb.data.normalize import TARGET_METHODS, DatasetScaler, input_normalization
from i2i_nb.errors import ConfigError

_ZMUV = "zero_mean_unit_variance"


def per_channel(key: str, values: list[float], channels: int) -> list[float]:
    """One value for every channel, or one per channel; else a ConfigError naming ``key``."""
    if len(values) == 1:
        return [float(values[0])] * channels
    if len(values) != channels:
        raise ConfigError(f"{key}: needs one value or one per channel ({channels}), got "
                          f"{values}")
    return [float(v) for v in values]


def _unique(images: list[Any]) -> list[Any]:
    return list({id(a): a for a in images}.values())


def _clip_values(prefix: str, low: list[float], high: list[float], channels: int
                 ) -> tuple[list[float], list[float]] | None:
    if not low and not high:
        return None
    if not low or not high:
        raise ConfigError(f"{prefix}LOWER_VALUE and UPPER_VALUE: give both fixed clip values")
    low = per_channel(prefix + "LOWER_VALUE", low, channels)
    high = per_channel(prefix + "UPPER_VALUE", high, channels)
    if any(a >= b for a, b in zip(low, high, strict=True)):
        raise ConfigError(f"{prefix}LOWER_VALUE must be below UPPER_VALUE: {low}, {high}")
    return low, high


def input_spec(inputs: list[Any], norm: NormalizationConfig) -> dict[str, Any]:
    """How inputs are normalised: dataset statistics (when the type has them), fixed values
    where the config gives them, or each image's own statistics."""
    kind = norm.type.lower()
    channels = inputs[0].shape[-1]
    perc = norm.perc_clip
    clip_values = _clip_values("DATA.NORMALIZATION.PERC_CLIP.", perc.lower_value,
                               perc.upper_value, channels) if perc.enable else None
    fixed = norm.zero_mean_unit_var
    fixed_given = kind == _ZMUV and bool(fixed.mean_val or fixed.std_val)
    by_dataset = (norm.measure_by.lower() == "dataset" and kind in TARGET_METHODS) or fixed_given
    scaler = None
    if by_dataset:
        scaler = DatasetScaler.fit(_unique(inputs), kind, perc.lower_perc, perc.upper_perc)
        key = "DATA.NORMALIZATION.ZERO_MEAN_UNIT_VAR."
        if fixed.mean_val:
            scaler.offset = per_channel(key + "MEAN_VAL", fixed.mean_val, channels)
        if fixed.std_val:
            scaler.scale = per_channel(key + "STD_VAL", fixed.std_val, channels)
            if any(v <= 0 for v in scaler.scale):
                raise ConfigError(f"{key}STD_VAL: must be positive, got {fixed.std_val}")
    return input_normalization(kind, perc.lower_perc, perc.upper_perc, perc.enable, scaler,
                               clip_values)


def target_scaler(targets: list[Any], norm: NormalizationConfig) -> DatasetScaler:
    """The targets' normalisation: measured on all training targets, or BiaPy's fixed values
    (``DATA.NORMALIZATION.TARGET.ENABLE``), which predictions are mapped back with."""
    target = norm.target
    kind = target.type.lower()
    perc = norm.perc_clip
    if not target.enable:
        return DatasetScaler.fit(_unique(targets), kind, perc.lower_perc, perc.upper_perc)
    channels = targets[0].shape[-1]
    prefix = "DATA.NORMALIZATION.TARGET."
    clip = _clip_values(prefix + "PERC_CLIP.", target.perc_clip.lower_value,
                        target.perc_clip.upper_value, channels) if target.perc_clip.enable else None
    if kind == _ZMUV:
        fixed = target.zero_mean_unit_var
        if not fixed.mean_val or not fixed.std_val:
            raise ConfigError(f"{prefix}ZERO_MEAN_UNIT_VAR.MEAN_VAL/STD_VAL: must be set to fixed "
                              f"values when {prefix}ENABLE is True (as BiaPy requires)")
        scaler = DatasetScaler(kind, per_channel(prefix + "ZERO_MEAN_UNIT_VAR.MEAN_VAL",
                                                 fixed.mean_val, channels),
                               per_channel(prefix + "ZERO_MEAN_UNIT_VAR.STD_VAL",
                                           fixed.std_val, channels))
    elif kind == "scale_range" and clip is not None:
        scaler = DatasetScaler(kind, clip[0], [b - a for a, b in zip(*clip, strict=True)])
    else:
        scaler = DatasetScaler.fit(_unique(targets), kind, perc.lower_perc, perc.upper_perc)
    if clip is not None:
        scaler.low, scaler.high = clip
    if scaler.mean is None:  # fixed values: the mean still comes from the targets (baseline)
        scaler.mean = DatasetScaler.fit(_unique(targets), "none").mean
    if any(v <= 0 for v in scaler.scale):
        raise ConfigError(f"{prefix}: the fixed scale must be positive, got {scaler.scale}")
    return scaler

