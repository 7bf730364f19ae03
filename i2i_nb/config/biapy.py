"""BiaPy's alternative and old values, translated in one place.

:func:`translate` takes the flattened keys of a YAML file and returns the values this
project's typed config takes, with BiaPy 3.7.1's conversions applied as its
``check_configuration`` applies them: old key names renamed (one note line each),
list forms (``TRAIN.OPTIMIZER: [ADAMW]``; a second entry, the GAN discriminator's, read
into ``TRAIN.DISCRIMINATOR``) and ``-1`` sentinels ("not set") converted,
``custom`` normalisation as ``zero_mean_unit_variance``. A BiaPy key that has no meaning
for this workflow gives one warning saying why, and only when it is set to something
other than BiaPy's default (configs that BiaPy writes hold every key). A value BiaPy
itself refuses is refused here too, naming the key.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from i2i_nb.config.augmentor import probability_keys
from i2i_nb.config.biapy_keys import BIAPY_DEFAULTS, BIAPY_PATH_KEYS
from i2i_nb.config.fields import all_keys, is_section
from i2i_nb.config.hrnet import old_hrnet_keys
from i2i_nb.config.notes import key_note
from i2i_nb.errors import ConfigError


@dataclass
class Translation:
    """What a YAML file asks for, in this project's keys."""

    values: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    given: set[str] = field(default_factory=set)


def flatten(values: dict, prefix: str = "") -> dict[str, Any]:
    """Nested sections as dotted upper-case keys (``{"DATA": {"PATCH_SIZE": ..}}`` ->
    ``{"DATA.PATCH_SIZE": ..}``)."""
    flat: dict[str, Any] = {}
    for raw_key, value in values.items():
        key = prefix + str(raw_key).upper()
        if isinstance(value, dict) and value:
            flat.update(flatten(value, key + "."))
        elif not isinstance(value, dict):
            flat[key] = value
    return flat


# Old key -> new key (BiaPy's convert_old_model_cfg_to_current_version, and this project's own).
RENAMED = {
    "TEST.STATS.FULL_IMG": "TEST.FULL_IMG",
    "MODEL.CONVNEXT_LAYERS": "MODEL.CONV_LAYERS",
    "MODEL.UNETR_DEC_ACTIVATION": "MODEL.ACTIVATION",
    "MODEL.UNETR_DEC_KERNEL_SIZE": "MODEL.KERNEL_SIZE",
    "MODEL.N_CLASSES": "DATA.N_CLASSES",
    "MODEL.BMZ.SOURCE_MODEL_DOI": "MODEL.BMZ.SOURCE_MODEL_ID",
    "MODEL.BMZ.EXPORT_MODEL.ENABLE": "MODEL.BMZ.EXPORT.ENABLE",
    "MODEL.BMZ.EXPORT_MODEL.NAME": "MODEL.BMZ.EXPORT.MODEL_NAME",
    "MODEL.BMZ.EXPORT_MODEL.DESCRIPTION": "MODEL.BMZ.EXPORT.DESCRIPTION",
    "MODEL.BMZ.EXPORT_MODEL.AUTHORS": "MODEL.BMZ.EXPORT.AUTHORS",
    "MODEL.BMZ.EXPORT_MODEL.LICENSE": "MODEL.BMZ.EXPORT.LICENSE",
    "MODEL.BMZ.EXPORT_MODEL.DOCUMENTATION": "MODEL.BMZ.EXPORT.DOCUMENTATION",
    "MODEL.BMZ.EXPORT_MODEL.TAGS": "MODEL.BMZ.EXPORT.TAGS",
    "MODEL.BMZ.EXPORT_MODEL.CITE": "MODEL.BMZ.EXPORT.CITE",
    "TEST.DET_IGNORE_POINTS_OUTSIDE_BOX": "TEST.EVAL_BORDER_CROP",
    "TRAIN.LOSS.TYPE": "LOSS.TYPE",
    "TRAIN.LOSS.WEIGHTS": "LOSS.WEIGHTS",
    "DATA.EXTRACT_RANDOM_PATCH": "DATA.TRAIN.EXTRACT_RANDOM_PATCH",
    "DATA.PROBABILITY_MAP": "DATA.TRAIN.PROBABILITY_MAP",
    "DATA.W_FOREGROUND": "DATA.TRAIN.W_FOREGROUND",
    "DATA.W_BACKGROUND": "DATA.TRAIN.W_BACKGROUND",
    "DATA.NORMALIZATION.PERC_LOWER": "DATA.NORMALIZATION.PERC_CLIP.LOWER_PERC",
    "DATA.NORMALIZATION.PERC_UPPER": "DATA.NORMALIZATION.PERC_CLIP.UPPER_PERC",
}
# Old keys BiaPy drops without replacement (they change nothing there either).
DROPPED = (
    "TEST.EVALUATE", "MODEL.LAST_ACTIVATION", "DATA.NORMALIZATION.CUSTOM_MODE",
    "DATA.NORMALIZATION.APPLICATION_MODE", "AUGMENTOR.BRIGHTNESS_EM",
    "AUGMENTOR.BRIGHTNESS_EM_FACTOR", "AUGMENTOR.BRIGHTNESS_EM_MODE", "AUGMENTOR.CONTRAST_EM",
    "AUGMENTOR.CONTRAST_EM_FACTOR", "AUGMENTOR.CONTRAST_EM_MODE", "AUGMENTOR.BRIGHTNESS_MODE",
    "AUGMENTOR.CONTRAST_MODE", "PATHS.RESULT_DIR.BMZ_BUILD", "DATA.VAL.BINARY_MASKS",
    "DATA.TEST.ARGMAX_TO_OUTPUT", "DATA.TEST.BINARY_MASKS",
)
# Schedulers for which BiaPy requires MIN_LR to be set.
_NEEDS_MIN_LR = ("warmupcosine", "reduceonplateau")


def _unset(value: Any) -> bool:
    """BiaPy's "not set": -1, or a list of -1 (``[-1]``, ``[-1.0, -1.0]``)."""
    if isinstance(value, list | tuple):
        return len(value) > 0 and all(_unset(v) for v in value)
    return not isinstance(value, bool) and isinstance(value, int | float) and value == -1


def _split(key: str, value: Any, what: str) -> tuple[Any, Any]:
    """BiaPy 3.7's list of one or two entries (the generator's, the GAN discriminator's) as
    ``(first, second or None)``; a plain value is the first."""
    if not isinstance(value, list | tuple):
        return value, None
    if len(value) not in (1, 2):
        raise ConfigError(f"{key}: BiaPy takes one entry, or two with a GAN discriminator "
                          f"(MODEL.NAFNET.ARCHITECTURE_D: the generator's and the "
                          f"discriminator's); got {len(value)} {what}: {list(value)}")
    return value[0], (value[1] if len(value) == 2 else None)


def _split_into(flat: dict[str, Any], key: str, second_key: str, what: str) -> None:
    """Replace a one- or two-entry list by its first entry, the second under ``second_key``."""
    first, second = _split(key, flat[key], what)
    flat[key] = first
    if second is not None:
        flat[second_key] = second


def _old_keys(flat: dict[str, Any], out: Translation) -> dict[str, Any]:
    flat = dict(flat)
    for old in DROPPED:
        if old in flat:
            del flat[old]
            out.notes.append(f"{old} is an old BiaPy key that BiaPy drops; ignored")
    for old, new in RENAMED.items():
        if old in flat:
            value = flat.pop(old)
            flat.setdefault(new, value)
            out.notes.append(f"{old} is an old key name: read as {new}")
    if "MODEL.BATCH_NORMALIZATION" in flat:
        if flat.pop("MODEL.BATCH_NORMALIZATION") is True:
            flat.setdefault("MODEL.NORMALIZATION", "bn")
        out.notes.append("MODEL.BATCH_NORMALIZATION is an old key: read as MODEL.NORMALIZATION")
    if "MODEL.LOAD_MODEL_FROM_CHECKPOINT" in flat:
        if flat.pop("MODEL.LOAD_MODEL_FROM_CHECKPOINT") is True:
            flat.setdefault("MODEL.ITEMS_TO_LOAD_FROM_CHECKPOINT", ["weights", "norm",
                                                                    "model_arch"])
        out.notes.append("MODEL.LOAD_MODEL_FROM_CHECKPOINT is an old key: read as "
                         "MODEL.ITEMS_TO_LOAD_FROM_CHECKPOINT")
    if "MODEL.LOAD_CHECKPOINT_ONLY_WEIGHTS" in flat:
        if flat.pop("MODEL.LOAD_CHECKPOINT_ONLY_WEIGHTS") is True:
            flat.setdefault("MODEL.ITEMS_TO_LOAD_FROM_CHECKPOINT", ["weights"])
        out.notes.append("MODEL.LOAD_CHECKPOINT_ONLY_WEIGHTS is an old key: read as "
                         "MODEL.ITEMS_TO_LOAD_FROM_CHECKPOINT")
    if "AUGMENTOR.DA_PROB" in flat:
        da_prob = flat.pop("AUGMENTOR.DA_PROB")
        for key in probability_keys():
            flat.setdefault(key, da_prob)
        out.notes.append("AUGMENTOR.DA_PROB is an old key: read as every AUGMENTOR.*_PROB the "
                         "file leaves out (as BiaPy 3.7 converts it)")
    norm = "DATA.NORMALIZATION."
    if isinstance(flat.get(norm + "PERC_CLIP"), bool):
        flat.setdefault(norm + "PERC_CLIP.ENABLE", flat.pop(norm + "PERC_CLIP"))
        out.notes.append(f"{norm}PERC_CLIP as a flag is an old form: read as "
                         f"{norm}PERC_CLIP.ENABLE")
    if str(flat.get(norm + "TYPE", "")).lower() == "custom":
        flat[norm + "TYPE"] = "zero_mean_unit_variance"
        out.notes.append("DATA.NORMALIZATION.TYPE 'custom' is BiaPy's old name of "
                         "zero_mean_unit_variance")
    for old, new in (("CUSTOM_MEAN", "MEAN_VAL"), ("CUSTOM_STD", "STD_VAL")):
        if norm + old in flat:
            flat.setdefault(norm + "ZERO_MEAN_UNIT_VAR." + new, flat.pop(norm + old))
            out.notes.append(f"{norm}{old} is an old key: read as {norm}ZERO_MEAN_UNIT_VAR.{new}")
    return old_hrnet_keys(flat, out.notes)


def _values(flat: dict[str, Any], cfg: Any, out: Translation) -> dict[str, Any]:
    """List forms and -1 sentinels as BiaPy's check_configuration converts them."""
    flat = dict(flat)
    train, disc = "TRAIN.", "TRAIN.DISCRIMINATOR."
    for name, what in (("OPTIMIZER", "optimizers"), ("LR", "learning rates")):
        if train + name in flat:
            _split_into(flat, train + name, disc + name, what)
    betas = flat.get(train + "OPT_BETAS")
    if isinstance(betas, list | tuple) and betas and isinstance(betas[0], list | tuple):
        _split_into(flat, train + "OPT_BETAS", disc + "OPT_BETAS", "beta pairs")
    sched = train + "LR_SCHEDULER."
    name = str(flat.get(sched + "NAME", cfg.train.lr_scheduler.name)).lower()
    named = sched + "NAME" in flat and flat.get(train + "ENABLE", True) is not False
    if sched + "MIN_LR" in flat:
        min_lr, min_lr_d = _split(sched + "MIN_LR", flat[sched + "MIN_LR"],
                                  "minimum learning rates")
        if min_lr_d is not None and not _unset(min_lr_d):
            flat[disc + "MIN_LR"] = min_lr_d
        if _unset(min_lr):
            if named and name in _NEEDS_MIN_LR:
                raise ConfigError(f"{sched}MIN_LR: needs to be set when {sched}NAME is "
                                  f"{name!r} (BiaPy refuses -1 here too)")
            del flat[sched + "MIN_LR"]
        else:
            flat[sched + "MIN_LR"] = min_lr
    warmup = sched + "WARMUP_COSINE_DECAY_EPOCHS"
    if warmup in flat and _unset(flat[warmup]):
        fraction = flat.get(sched + "COSINE_DECAY_FRACTION", -1)
        if named and name == "warmupcosine" and (_unset(fraction) or fraction <= 0):
            raise ConfigError(f"{warmup}: needs to be set when {sched}NAME is 'warmupcosine' "
                              f"(or set {sched}COSINE_DECAY_FRACTION), as BiaPy requires")
        del flat[warmup]
    plateau = sched + "REDUCEONPLATEAU_PATIENCE"
    if plateau in flat and _unset(flat[plateau]):
        if named and name == "reduceonplateau":
            raise ConfigError(f"{plateau}: needs to be set when {sched}NAME is "
                              "'reduceonplateau', as BiaPy requires")
        del flat[plateau]
    perc = "DATA.NORMALIZATION.PERC_CLIP."
    for bound in ("LOWER", "UPPER"):
        if _unset(flat.get(perc + bound + "_PERC")):
            del flat[perc + bound + "_PERC"]
            if flat.get(perc + "ENABLE") is True and _unset(flat.get(perc + bound + "_VALUE", -1)):
                raise ConfigError(f"{perc}{bound}_PERC or {perc}{bound}_VALUE needs to be set "
                                  f"when {perc}ENABLE is True (as BiaPy requires)")
    for key in list(flat):
        if key.endswith(("_VALUE", "MEAN_VAL", "STD_VAL")) and key.startswith(
                "DATA.NORMALIZATION.") and _unset(flat[key]):
            flat[key] = []
    target = "DATA.NORMALIZATION.TARGET."
    if str(flat.get(target + "TYPE", "x")) == "":
        del flat[target + "TYPE"]
    if flat.get(target + "ENABLE") is True and target + "TYPE" not in flat:
        # BiaPy: the fixed target normalisation inherits DATA.NORMALIZATION.TYPE
        flat[target + "TYPE"] = flat.get("DATA.NORMALIZATION.TYPE", cfg.data.normalization.type)
    if str(flat.get("MODEL.NORMALIZATION", "x")) == "":
        flat["MODEL.NORMALIZATION"] = "in"
    if flat.get("TEST.REDUCE_MEMORY") is True:  # BiaPy's low-memory inference
        flat.setdefault("TEST.ON_DISK", "always")
    losses = flat.get("LOSS.TYPE")
    if isinstance(losses, list | tuple) and not losses:  # BiaPy: the workflow's default
        del flat["LOSS.TYPE"]
        flat.pop("LOSS.WEIGHTS", None)
        losses = None
    if isinstance(losses, str):
        losses = [losses]
    if isinstance(losses, list | tuple):
        flat["LOSS.TYPE"] = [str(name).upper() for name in losses]
    monitor = flat.get("TRAIN.CHECKPOINT_MONITOR")
    if monitor is not None and str(monitor).lower() not in ("val_loss", "val_psnr"):
        out.warnings.append(f"TRAIN.CHECKPOINT_MONITOR {monitor!r}: BiaPy does not use this "
                            "key; the best checkpoint and early stopping follow val_loss")
        del flat["TRAIN.CHECKPOINT_MONITOR"]
    z_down = flat.get("MODEL.Z_DOWN")
    if isinstance(z_down, list | tuple) and z_down and all(z == 0 for z in z_down):
        flat["MODEL.Z_DOWN"] = []
    return flat


def _unknown(key: str, value: Any, known: list[str], out: Translation) -> None:
    """A key with no field here: silent at BiaPy's default, else one warning saying why."""
    if key in BIAPY_PATH_KEYS:
        return
    if key in BIAPY_DEFAULTS:
        default = BIAPY_DEFAULTS[key]
        same = value == default or (isinstance(value, tuple) and list(value) == default)
        if not same:
            out.warnings.append(f"{key}: {key_note(key)}; the value {value!r} is ignored")
        return
    close = difflib.get_close_matches(key, known + list(BIAPY_DEFAULTS), n=1, cutoff=0.85)
    hint = f" (did you mean {close[0]}?)" if close else ""
    out.warnings.append(f"{key} is neither a BiaPy 3.7 key nor one of i2i_nb; ignored{hint}")


def translate(flat: dict[str, Any], cfg: Any,
              has_field: Callable[[str], bool] | None = None) -> Translation:
    """Translate flattened YAML keys into this project's keys (see the module docstring).

    ``cfg`` is the config the values are laid over (its defaults decide what "left out"
    means); ``has_field`` tells whether a key is one of its fields.
    """
    out = Translation()
    known = all_keys(cfg)
    fields = set(known)
    has_field = has_field or fields.__contains__
    flat = _values(_old_keys(flat, out), cfg, out)
    for key, value in flat.items():
        if has_field(key):
            out.values[key] = value
            out.given.add(key)
        elif is_section(cfg, key):
            raise ConfigError(f"{key}: expected a section of keys, got {value!r}")
        else:
            _unknown(key, value, known, out)
    return out
