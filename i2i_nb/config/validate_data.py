"""Checks of ``DATA.PREPROCESS`` and ``DATA.*.FILTER_SAMPLES`` (BiaPy's check_configuration)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from i2i_nb.config.preprocess import (
    BLUR_MODES,
    FILTER_PROPS,
    FILTER_SIGNS,
    RESIZE_MODES,
    TARGET_PROPS,
    ZOOM_AXES,
    FilterSamplesConfig,
)
from i2i_nb.config.root import Config
from i2i_nb.errors import ConfigError


def _check(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{key}: {message}")


def validate_preprocess(cfg: Config) -> None:
    """BiaPy's checks of ``DATA.PREPROCESS`` when it is on for any set; its 3D default
    ``RESIZE.OUTPUT_SHAPE`` ``(512, 512)`` becomes ``(512, 512, 512)`` as in BiaPy."""
    p, key = cfg.data.preprocess, "DATA.PREPROCESS"
    if not (p.train or p.val or p.test):
        return
    ndim, patch = cfg.ndim, cfg.patch_shape
    if p.resize.enable:
        if ndim == 3 and tuple(p.resize.output_shape) == (512, 512):
            p.resize.output_shape = (512, 512, 512)
        shape = tuple(p.resize.output_shape)
        _check(len(shape) == ndim, f"{key}.RESIZE.OUTPUT_SHAPE",
               f"{list(shape)} must give one size per spatial axis ({ndim} in {ndim}D)")
        _check(all(s >= q for s, q in zip(shape, patch, strict=True)),
               f"{key}.RESIZE.OUTPUT_SHAPE",
               f"{list(shape)} can not be smaller than DATA.PATCH_SIZE {list(patch)}")
        _check(0 <= p.resize.order <= 5, f"{key}.RESIZE.ORDER",
               f"{p.resize.order} is not an interpolation order 0 to 5")
        _check(p.resize.mode in RESIZE_MODES, f"{key}.RESIZE.MODE",
               f"{p.resize.mode!r} is not one of {', '.join(RESIZE_MODES)}")
    if p.gaussian_blur.enable:
        _check(p.gaussian_blur.mode in BLUR_MODES, f"{key}.GAUSSIAN_BLUR.MODE",
               f"{p.gaussian_blur.mode!r} is not one of {', '.join(BLUR_MODES)}")
        _check(len(p.gaussian_blur.sigma) > 0 and min(p.gaussian_blur.sigma) >= 0,
               f"{key}.GAUSSIAN_BLUR.SIGMA", "must be one or more values >= 0")
    if p.median_blur.enable:
        _check(len(p.median_blur.kernel_size) == ndim + 1 and min(p.median_blur.kernel_size) > 0,
               f"{key}.MEDIAN_BLUR.KERNEL_SIZE",
               f"{list(p.median_blur.kernel_size)} must give a size per axis, channels included "
               f"({'(z, y, x, c)' if ndim == 3 else '(y, x, c)'})")
    if p.match_histogram.enable:
        _check(Path(p.match_histogram.reference_path).exists(),
               f"{key}.MATCH_HISTOGRAM.REFERENCE_PATH",
               f"{p.match_histogram.reference_path} does not exist")
    if p.clahe.enable:
        _check(0 <= p.clahe.clip_limit <= 1, f"{key}.CLAHE.CLIP_LIMIT",
               f"{p.clahe.clip_limit} is not in [0, 1]")
    _check(not (p.test and p.resize.enable and cfg.test.by_chunks.enable),
           f"{key}.RESIZE.ENABLE", "resizing test images is not built for block-wise "
           "prediction (TEST.BY_CHUNKS.ENABLE)")
    _check(not p.canny.enable or ndim == 2, f"{key}.CANNY.ENABLE",
           "edge detection is 2D only (PROBLEM.NDIM 2D), as in BiaPy")


def validate_zoom(cfg: Config) -> None:
    """``DATA.PREPROCESS.ZOOM``: BiaPy's checks (block-wise prediction only; one factor per
    letter of ``DATA.TEST.INPUT_IMG_AXES_ORDER``), positive factors, 1 for ``T``, ``C`` and
    a 2D workflow's ``Z``."""
    zoom, key = cfg.data.preprocess.zoom, "DATA.PREPROCESS.ZOOM"
    if not zoom.enable:
        return
    _check(cfg.test.by_chunks.enable, f"{key}.ENABLE",
           "can only be activated when TEST.BY_CHUNKS.ENABLE is True (as in BiaPy)")
    letters = (cfg.data.test.input_img_axes_order or ZOOM_AXES).upper()
    factors = tuple(zoom.zoom_factor)
    _check(len(factors) == len(letters), f"{key}.ZOOM_FACTOR",
           f"{list(factors)} needs the same length as DATA.TEST.INPUT_IMG_AXES_ORDER "
           f"({letters!r}: one factor per axis)")
    _check(min(factors) > 0, f"{key}.ZOOM_FACTOR", f"{list(factors)}: factors must be > 0")
    fixed = "TC" + ("Z" if cfg.ndim == 2 else "")
    for letter, factor in zip(letters, factors, strict=True):
        _check(letter not in fixed or factor == 1, f"{key}.ZOOM_FACTOR",
               f"the factor of axis {letter} must be 1, got {factor} (the network's channels "
               f"and the {cfg.ndim}D axes are fixed)")


def _check_filter(f: FilterSamplesConfig, key: str, test_without_gt: bool) -> None:
    """One phase's ``FILTER_SAMPLES`` lists."""
    _check(len(f.props) > 0, f"{key}.PROPS", "can not be empty when ENABLE is True")
    _check(len(f.props) == len(f.values) == len(f.signs), key,
           "PROPS, VALUES and SIGNS need the same number of lists")
    for props, values, signs in zip(f.props, f.values, f.signs, strict=True):
        _check(len(props) == len(values) == len(signs), key,
               f"PROPS {props}, VALUES {values} and SIGNS {signs} need the same length")
        _check(not [p for p, n in Counter(props).items() if n > 1], f"{key}.PROPS",
               f"{props} repeats a property")
        for prop in props:
            _check(prop != "foreground", f"{key}.PROPS", "'foreground' is for BiaPy's "
                   "segmentation and detection workflows only")
            _check(prop in FILTER_PROPS, f"{key}.PROPS",
                   f"{prop!r} is not one of {', '.join(FILTER_PROPS)}")
            _check(not (test_without_gt and prop in TARGET_PROPS), f"{key}.PROPS",
                   f"{prop!r} needs the test targets (DATA.TEST.LOAD_GT)")
        for sign in signs:
            _check(sign in FILTER_SIGNS, f"{key}.SIGNS",
                   f"{sign!r} is not one of {', '.join(FILTER_SIGNS)}")


def validate_freeze(cfg: Config) -> None:
    """Every ``MODEL.FREEZE_LAYERS_MATCHING`` entry is a regular expression."""
    for i, pattern in enumerate(cfg.model.freeze_layers_matching):
        try:
            re.compile(pattern)
        except re.error as err:
            raise ConfigError(f"MODEL.FREEZE_LAYERS_MATCHING[{i}]: {pattern!r} is not a valid "
                              f"regular expression ({err})") from err


def validate_resolution(cfg: Config) -> None:
    """``DATA.TRAIN.RESOLUTION``: ``(-1,)`` or one positive size per spatial axis;
    ``DATA.RESOLUTION_NORM.TARGET_RESOLUTION``: ``(z, y, x)`` with positive y, x (BiaPy)."""
    norm = cfg.data.resolution_norm
    if norm.enable:
        target = tuple(norm.target_resolution)
        _check(len(target) == 3 and min(target[-2:]) > 0,
               "DATA.RESOLUTION_NORM.TARGET_RESOLUTION",
               f"{list(target)} must be (z, y, x) with positive y and x")
    r = tuple(cfg.data.train.resolution)
    if r in ((-1.0,), ()):
        return
    _check(len(r) == cfg.ndim and min(r) > 0, "DATA.TRAIN.RESOLUTION",
           f"{list(r)} must give one positive size per spatial axis ({cfg.ndim} in "
           f"{cfg.ndim}D), or be (-1,)")


def validate_train_previews(cfg: Config) -> None:
    """``TRAIN.SAVE_TRAIN_PREDS_FREQ`` is -1 or positive; ``_NUM_SAMPLES`` positive."""
    t = cfg.train
    _check(t.save_train_preds_freq == -1 or t.save_train_preds_freq > 0,
           "TRAIN.SAVE_TRAIN_PREDS_FREQ", f"{t.save_train_preds_freq}: -1 (off) or a number of "
           "epochs")
    _check(t.save_train_preds_num_samples > 0, "TRAIN.SAVE_TRAIN_PREDS_NUM_SAMPLES",
           f"{t.save_train_preds_num_samples}: needs at least one sample")


def validate_test_keys(cfg: Config) -> None:
    """``DATA.TEST.MEDIAN_PADDING`` and ``ROI_MASK`` (not built for block-wise prediction;
    the mask's path set and existing, as BiaPy)."""
    t = cfg.data.test
    _check(not (t.median_padding and cfg.test.by_chunks.enable),
           "DATA.TEST.MEDIAN_PADDING", "is not built for block-wise prediction "
           "(TEST.BY_CHUNKS.ENABLE)")
    if t.roi_mask.enable:
        _check(not cfg.test.by_chunks.enable, "DATA.TEST.ROI_MASK.ENABLE",
               "is not built for block-wise prediction (TEST.BY_CHUNKS.ENABLE)")
        _check(bool(t.roi_mask.path), "DATA.TEST.ROI_MASK.PATH",
               "needs to be set when DATA.TEST.ROI_MASK.ENABLE is True")
        _check(Path(t.roi_mask.path).exists(), "DATA.TEST.ROI_MASK.PATH",
               f"{t.roi_mask.path} does not exist")


def validate_filters(cfg: Config) -> None:
    """BiaPy's checks of every enabled ``DATA.*.FILTER_SAMPLES``."""
    d = cfg.data
    multiple_raw = cfg.problem.image_to_image.multiple_raw_one_target_loader
    for name, split in (("TRAIN", d.train), ("VAL", d.val), ("TEST", d.test)):
        f = split.filter_samples
        if not f.enable:
            continue
        key = f"DATA.{name}.FILTER_SAMPLES"
        _check(not (multiple_raw and name != "TEST"), f"{key}.ENABLE",
               "can not be used with PROBLEM.IMAGE_TO_IMAGE.MULTIPLE_RAW_ONE_TARGET_LOADER "
               "(as in BiaPy)")
        _check(not (name == "TEST" and cfg.test.by_chunks.enable), f"{key}.ENABLE",
               "BiaPy's per-block filtering of block-wise prediction (TEST.BY_CHUNKS) is not "
               "built in i2i_nb")
        _check_filter(f, key, name == "TEST" and not (d.test.load_gt or d.test.use_val_as_test))
