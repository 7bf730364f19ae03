"""BiaPy's ``DATA.TEST.ROI_MASK``: predictions set to 0 outside a region-of-interest mask.

The mask (anything above 0; channels merged by their maximum) need not have the image's
shape: it is stretched over it by nearest neighbour, axis by axis, so a coarse mask (one
voxel per block of the image) will do.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from i2i_nb.data.io import read_image
from i2i_nb.data.pairs import image_stem, is_single_image, list_images
from i2i_nb.errors import DataError


def mask_file(path: Path, sample: Path) -> Path:
    """The mask of ``sample``: ``path`` itself, the only image of the folder ``path``, or the
    folder's image named as the sample (as BiaPy)."""
    if is_single_image(path):
        return path
    masks = list_images(path)
    if len(masks) == 1:
        return masks[0]
    named = [m for m in masks if image_stem(m) == image_stem(sample)]
    if not named:
        raise DataError(f"DATA.TEST.ROI_MASK.PATH: {path} holds {len(masks)} masks but none "
                        f"named as the test image {sample.name}; give one mask per image, "
                        "named as it, or a single mask for all")
    return named[0]


class RoiMask:
    """The ROI of one test image, ready to zero a prediction (or a block of one) outside it.

    Parameters
    ----------
    path : Path
        ``DATA.TEST.ROI_MASK.PATH`` (a mask, or a folder of them).
    sample : Path
        The test image the mask is for.
    shape : sequence of int
        The image's spatial shape.
    ndim : int
        Spatial dimensions.
    axes : str
        ``DATA.TEST.ROI_MASK.AXES_ORDER`` (empty: the file's metadata, else a guess).
    """

    def __init__(self, path: Path, sample: Path, shape: Sequence[int], ndim: int,
                 axes: str = "") -> None:
        file = mask_file(Path(path), Path(sample))
        mask = np.asarray(read_image(file, ndim, axes or None)).max(axis=-1) > 0
        self.file, self.shape = file, tuple(shape)
        # for each image index along each axis, the mask index it falls in
        self.index = [np.minimum(np.arange(n) * m // max(n, 1), m - 1)
                      for n, m in zip(self.shape, mask.shape, strict=True)]
        self.mask = mask

    def inside(self, block: Sequence[slice] | None = None) -> np.ndarray:
        """Whether each voxel of ``block`` (default: the whole image) is in the ROI."""
        block = list(block or [])
        block += [slice(None)] * (len(self.shape) - len(block))
        return self.mask[np.ix_(*(i[b] for i, b in zip(self.index, block, strict=True)))]

    def apply(self, prediction: np.ndarray, block: Sequence[slice] | None = None
              ) -> np.ndarray:
        """``prediction`` (of ``block``) with every value outside the ROI set to 0, in place."""
        prediction[~self.inside(block)] = 0
        return prediction
