"""The training and validation patch datasets of a run, from the loaded images:
normalised (or left on disk with their transforms), too-small images refused
(``DATA.REFLECT_TO_COMPLETE_SHAPE``), random or grid patches, and BiaPy's ``AUG_SAMPLES``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from i2i_nb.config import Config
from i2i_nb.data.augment import Augment
from i2i_nb.data.grid import GridPatchDataset, grid_places
from i2i_nb.data.io import write_image
from i2i_nb.data.normalize import MAX_SAMPLES, DatasetScaler, input_transform, normalize_like
from i2i_nb.data.pairs import Pair
from i2i_nb.data.patches import FixedPatchDataset, PatchDataset
from i2i_nb.data.prepare import PlaceFilter, grid_of
from i2i_nb.errors import DataError


def normalised(loaded: list[tuple[np.ndarray, np.ndarray]], spec: dict,
               scaler: DatasetScaler, in_memory: bool
               ) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[tuple[Any, Any]] | None]:
    """Pairs for the patch datasets: normalised in memory (no transforms), or left on disk
    with each pair's normalisation applied to every crop."""
    if in_memory:
        return [(normalize_like(x, spec), scaler.forward(y)) for x, y in loaded], None
    return loaded, [(input_transform(x, spec, MAX_SAMPLES), scaler.affine) for x, _ in loaded]


def save_aug_samples(dataset: PatchDataset, folder: Path, ndim: int, count: int,
                     grid: bool) -> None:
    """BiaPy's AUG_SAMPLES: ``count`` training patches of the first epoch before
    (``orig_*``) and after (``aug_*``) augmentation, with DRAW_GRID lines drawn before
    augmenting when ``grid``, and the augmentations each received in ``applied.txt``."""
    dataset.set_epoch(0)
    lines = []
    for i in range(min(count, len(dataset))):
        s = dataset.sample(i, grid)
        for name, image in (("orig", s.x), ("aug", s.aug_x)):
            write_image(folder / f"{name}_{i:02d}_x.tif", image, ndim)
        for name, image in (("orig", s.y), ("aug", s.aug_y)):
            write_image(folder / f"{name}_{i:02d}_y.tif", image, ndim)
        lines.append(f"{i:02d}: {', '.join(s.applied) or '(none)'}")
    (folder / "applied.txt").write_text("\n".join(lines) + "\n")


def refuse_small(pairs: list[Pair], data: list, patch: tuple[int, ...]) -> None:
    """``DATA.REFLECT_TO_COMPLETE_SHAPE: False``: images smaller than a patch are refused."""
    names = [str(p) for pair in pairs for p in pair.inputs]
    names = names if len(names) == len(data) else [f"training image {i + 1}"
                                                   for i in range(len(data))]
    small = [f"{name} {tuple(x.shape[:-1])}" for name, (x, _) in zip(names, data, strict=True)
             if any(s < p for s, p in zip(x.shape[:-1], patch, strict=True))]
    if small:
        raise DataError(f"DATA.REFLECT_TO_COMPLETE_SHAPE is False and these images are smaller "
                        f"than DATA.PATCH_SIZE {patch}: " + "; ".join(small))


def patch_sets(cfg: Config, train_data: list, train_transforms: list | None, val_data: list,
               val_transforms: list | None, augment: Augment | None,
               place_filters: tuple[PlaceFilter | None, PlaceFilter | None] = (None, None)
               ) -> tuple[PatchDataset, FixedPatchDataset | None]:
    """Training patches (random, or BiaPy's grid with ``EXTRACT_RANDOM_PATCH: False``) and
    validation patches (seeded random positions, or the grid of ``DATA.VAL.OVERLAP``); the
    grid patches filtered by ``place_filters`` (training, validation) when given."""
    d, patch, batch = cfg.data, cfg.patch_shape, cfg.train.batch_size
    if d.train.extract_random_patch:
        voxels = sum(int(np.prod(x.shape[:-1])) for x, _ in train_data)
        per_epoch = cfg.train.patches_per_epoch or max(math.ceil(voxels / math.prod(patch)),
                                                       8 * batch)
        per_epoch = math.ceil(per_epoch / batch) * batch  # whole global batches on every rank
        per_epoch *= 1 + d.train.replicate
        train_set = PatchDataset(train_data, patch, per_epoch, augment, cfg.system.seed,
                                 train_transforms, d.train.foreground_sampling)
    else:
        places = grid_of(train_data, patch, d.train.overlap)
        if place_filters[0] is not None:
            places = place_filters[0](places)
        train_set = GridPatchDataset(train_data, patch, augment, cfg.system.seed,
                                     train_transforms, d.train.overlap, d.train.replicate,
                                     places)
    if not val_data:
        return train_set, None
    places = None
    if not d.train.extract_random_patch:
        places = grid_places([x.shape[:-1] for x, _ in val_data], patch, d.val.overlap)
        if place_filters[1] is not None:
            places = place_filters[1](places)
    val_voxels = sum(int(np.prod(x.shape[:-1])) for x, _ in val_data)
    per_image = min(16, max(1, math.ceil(val_voxels / len(val_data) / math.prod(patch))))
    return train_set, FixedPatchDataset(val_data, patch, per_image, cfg.system.seed + 1,
                                        val_transforms, places)
