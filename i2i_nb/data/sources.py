"""The image pairs of a config's split (train, validation, test), with the split's keys.

A split's path may be a folder of images, one image, a container of several, or (BiaPy's
``INPUT_ZARR_MULTIPLE_DATA``) a folder of containers each holding a raw image and its target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from i2i_nb.config import Config, TestDataConfig, TrainDataConfig, ValDataConfig
from i2i_nb.data.io import AxesOrder
from i2i_nb.data.pairs import Pair, check_pairs, find_pairs, is_single_image

SplitConfig = TrainDataConfig | ValDataConfig | TestDataConfig


def split_axes(cfg: Config, split: SplitConfig) -> tuple[AxesOrder, AxesOrder]:
    """Stored axes of inputs and targets: ``DATA.AXES``/``GT_AXES`` for TIFFs, the split's
    ``INPUT_IMG_AXES_ORDER``/``INPUT_MASK_AXES_ORDER`` for Zarr/HDF5."""
    return (AxesOrder(cfg.data.axes, split.input_img_axes_order),
            AxesOrder(cfg.data.gt_axes, split.input_mask_axes_order))


def split_pairs(split: SplitConfig, x: str, y: str | None, cfg: Config, check: bool = True
                ) -> tuple[list[Pair], list[dict[str, Any]]]:
    """Pairs of a split's folder (or of a single image, or BiaPy's multiple-data containers)
    and, with ``check``, their check table (:func:`check_pairs`); raises DataError."""
    multiple = ((split.input_zarr_multiple_data_raw_path, split.input_zarr_multiple_data_gt_path)
                if split.input_zarr_multiple_data else None)
    if multiple is None and is_single_image(Path(x)):
        pairs = [Pair((Path(x),), Path(y) if y else None)]
    else:
        # with INPUT_ZARR_MULTIPLE_DATA the targets are in the inputs' containers: y (even
        # an empty GT_PATH) only says that they are wanted
        wanted = Path(y or x) if (y if multiple is None else y is not None) else None
        pairs = find_pairs(Path(x), wanted,
                           cfg.problem.image_to_image.multiple_raw_one_target_loader, multiple)
    return pairs, check_pairs(pairs, cfg.ndim, *split_axes(cfg, split)) if check else []
