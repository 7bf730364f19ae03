"""Training and validation images as the patches are cut from them: loaded, filtered by
``DATA.*.FILTER_SAMPLES`` and pre-processed by ``DATA.PREPROCESS`` (before normalisation)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from i2i_nb.config import Config
from i2i_nb.config.preprocess import TARGET_PROPS
from i2i_nb.data.filtering import kept_images, kept_places, measured, report
from i2i_nb.data.grid import grid_places
from i2i_nb.data.io import AxesOrder, write_image
from i2i_nb.data.pairs import Pair, image_stem, load_pairs
from i2i_nb.data.patches import _prepare
from i2i_nb.data.preprocess import Preprocessor, as_rgb
from i2i_nb.data.resolution import normalise_resolution, resolution_map

Loaded = list[tuple[Any, Any]]
PlaceFilter = Callable[[list[tuple[int, list[int]]]], list[tuple[int, list[int]]]]


def filters_by_image(cfg: Config) -> bool:
    """Whether ``FILTER_SAMPLES`` drops whole images: ``DATA.FILTER_BY_IMAGE``, or random
    patches (which have no fixed places to drop, as BiaPy)."""
    return cfg.data.filter_by_image or cfg.data.train.extract_random_patch


def load_split(cfg: Config, pairs: list[Pair], axes: tuple[AxesOrder, AxesOrder], role: str,
               prep: Preprocessor, examples: Path | None = None) -> tuple[Loaded, list[Pair]]:
    """Load the training (``role`` ``train``) or validation (``val``) pairs, drop the images
    that meet the role's ``FILTER_SAMPLES`` conditions (measured on the images as stored)
    and pre-process the rest whole when ``DATA.PREPROCESS`` is on for the role (validation
    taken from the training images follows ``TRAIN``, as BiaPy), rescale them in-plane with
    ``DATA.RESOLUTION_NORM``; then, with ``DATA.FORCE_RGB``, repeat one-channel inputs and
    targets into three (as BiaPy's image-to-image generators). ``examples``: the folder of
    ``DATA.SAVE_FILTERED_IMAGES``."""
    d = cfg.data
    loaded = load_pairs(pairs, cfg.ndim, *axes, in_memory=d.train.in_memory)
    loaded, pairs = filter_images(cfg, loaded, pairs, role, examples)
    if prep.applies("train" if role == "train" or d.val.from_train else "val"):
        loaded = prep.pairs(loaded)
    if d.resolution_norm.enable:
        own = resolution_map(d.train.path if role == "train" or d.val.from_train else d.val.path)
        own = own or resolution_map(d.train.path)  # validation without its own: training's
        loaded = normalise_resolution(loaded, [p for pair in pairs for p in pair.inputs], own,
                                      d.resolution_norm.target_resolution[-1])
    if d.force_rgb:
        loaded = [(as_rgb(x), as_rgb(y) if y is not None else None) for x, y in loaded]
    return loaded, pairs


def _names(pairs: Sequence[Pair], count: int) -> list[str]:
    """A file name per loaded input (``region_NN.tif`` for regions without pairs)."""
    names = [f"{image_stem(p)}.tif" for pair in pairs for p in pair.inputs]
    return names if len(names) == count else [f"region_{k:02d}.tif" for k in range(count)]


def filter_images(cfg: Config, loaded: Loaded, pairs: Sequence[Any], role: str,
                  examples: Path | None = None) -> tuple[Loaded, list[Any]]:
    """``loaded`` (and the matching ``pairs``) without the images the role's
    ``FILTER_SAMPLES`` drops, when it drops whole images; with ``examples``
    (``DATA.SAVE_FILTERED_IMAGES``) up to ``SAVE_FILTERED_IMAGES_NUM`` inputs of each kind
    are written to ``examples/<role>/filtered/`` and ``not-filtered/`` (as BiaPy)."""
    f = getattr(cfg.data, role).filter_samples
    if not (f.enable and filters_by_image(cfg) and loaded):
        return loaded, list(pairs)
    keep = kept_images(loaded, f, cfg.data.normalization)
    report(f"DATA.{role.upper()}.FILTER_SAMPLES", len(loaded), len(keep), "images")
    if examples is not None:
        names, count = _names(pairs, len(loaded)), cfg.data.save_filtered_images_num
        dropped = [k for k in range(len(loaded)) if k not in keep]
        for kind, chosen in (("filtered", dropped), ("not-filtered", keep)):
            for k in chosen[:count]:
                write_image(examples / role / kind / names[k], np.asarray(loaded[k][0]),
                            cfg.ndim)
    return [loaded[k] for k in keep], [pairs[k] for k in keep] if pairs else []


def place_filter(cfg: Config, loaded: Loaded, role: str, pairs: Sequence[Pair] = (),
                 examples: Path | None = None) -> PlaceFilter | None:
    """With patches filtered one by one, the function that keeps the grid patches of
    ``loaded`` (the images before normalisation) that meet none of the role's conditions;
    with ``examples`` (``DATA.SAVE_FILTERED_IMAGES``) the first ``SAVE_FILTERED_IMAGES_NUM``
    inputs are written to ``examples/<role>/`` with their dropped patches black (as BiaPy)."""
    f = getattr(cfg.data, role).filter_samples
    if not f.enable or filters_by_image(cfg) or not loaded:
        return None

    def keep(places: list[tuple[int, list[int]]]) -> list[tuple[int, list[int]]]:
        patch = cfg.patch_shape
        kept = kept_places(loaded, places, patch, f, cfg.data.normalization)
        report(f"DATA.{role.upper()}.FILTER_SAMPLES", len(places), len(kept), "patches")
        if examples is not None:
            names, shown = _names(pairs, len(loaded)), range(cfg.data.save_filtered_images_num)
            prepared = _prepare([pair for k, pair in enumerate(loaded) if k in shown], patch)
            for k, (x, _) in zip(shown, prepared, strict=False):
                x = np.asarray(x)
                example = np.zeros_like(x)
                for j, starts in kept:
                    if j == k:
                        window = tuple(slice(a, a + p) for a, p in zip(starts, patch,
                                                                        strict=True))
                        example[window] = x[window]
                write_image(examples / role / names[k], example, cfg.ndim)
        return kept

    return keep


def grid_of(loaded: Loaded, patch: Sequence[int], overlap: Sequence[float]
            ) -> list[tuple[int, list[int]]]:
    """The grid patches of images (padded to a patch where smaller, as the datasets do)."""
    return grid_places([x.shape[:-1] for x, _ in _prepare(loaded, patch)], patch, overlap)


def as_loaded(cfg: Config, role: str, row: dict[str, Any]) -> dict[str, Any]:
    """A check-table row (:func:`~i2i_nb.data.pairs.check_pairs`) with the channels the
    network sees: after ``DATA.PREPROCESS`` (CANNY leaves one) when it is on for ``role``
    (``train`` or ``test``), then three for one with ``DATA.FORCE_RGB``."""
    prep = Preprocessor(cfg.data.preprocess, cfg.ndim)
    row = {**row, "in_channels": prep.channels(row["in_channels"])} if prep.applies(role) else row
    if cfg.data.force_rgb:
        row = {**row, **{key: 3 for key in ("in_channels", "out_channels") if row[key] == 1}}
    return row


def filter_test_pairs(cfg: Config, pairs: list[Pair], table: list[dict[str, Any]]
                      ) -> tuple[list[Pair], list[dict[str, Any]]]:
    """The test pairs (and their check-table rows) that meet none of the conditions of
    ``DATA.TEST.FILTER_SAMPLES``, measured on the images as stored; the others are not
    predicted (as BiaPy), each named."""
    f = cfg.data.test.filter_samples
    if not f.enable or not pairs:
        return pairs, table
    from i2i_nb.data.filtering import meets
    from i2i_nb.data.io import read_image
    from i2i_nb.data.sources import split_axes

    axes_x, axes_y = split_axes(cfg, cfg.data.test)
    needs_target = any(p in TARGET_PROPS for props in f.props for p in props)
    kept = []
    for k, pair in enumerate(pairs):
        x = read_image(pair.inputs[0], cfg.ndim, axes_x, memmap=True)
        y = (read_image(pair.target, cfg.ndim, axes_y, memmap=True)
             if needs_target and pair.target is not None else None)
        if meets(*measured(x, y, f, cfg.data.normalization), f):
            print(f"DATA.TEST.FILTER_SAMPLES: not predicting {pair.inputs[0]}")
        else:
            kept.append(k)
    report("DATA.TEST.FILTER_SAMPLES", len(pairs), len(kept), "test images")
    return [pairs[k] for k in kept], [table[k] for k in kept] if len(table) == len(pairs) else table
