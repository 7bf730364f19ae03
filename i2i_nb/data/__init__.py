"""Image data: TIFF reading/writing, pairing and checks, normalisation, patch datasets."""

from i2i_nb.data.io import IMAGE_SUFFIXES, dtype_max, read_image, write_image
from i2i_nb.data.normalize import INPUT_METHODS, TARGET_METHODS, DatasetScaler, normalize_input
from i2i_nb.data.pairs import (
    ImageInfo,
    Pair,
    check_pairs,
    find_pairs,
    inspect_image,
    list_images,
    load_pairs,
)
from i2i_nb.data.patches import Augment, FixedPatchDataset, PatchDataset, pad_to_min

__all__ = [
    "IMAGE_SUFFIXES",
    "INPUT_METHODS",
    "TARGET_METHODS",
    "Augment",
    "FixedPatchDataset",
    "ImageInfo",
    "Pair",
    "PatchDataset",
    "DatasetScaler",
    "check_pairs",
    "dtype_max",
    "find_pairs",
    "inspect_image",
    "list_images",
    "load_pairs",
    "normalize_input",
    "pad_to_min",
    "read_image",
    "write_image",
]
