"""``TEST``: whole-image prediction and its metrics."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TestConfig:
    """``TEST``; ``FULL_IMG`` predicts each image in one piece instead of tiles.

    ``ON_DISK``: ``auto`` predicts an image from disk to disk (memory-mapped input and
    output, never held whole) when it would not fit in half the available memory;
    ``always`` or ``never`` force the choice. ``REDUCE_MEMORY`` (BiaPy) is ``ON_DISK:
    always``. ``AUGMENTATION`` averages predictions over flips and 90-degree rotations;
    ``AUGMENTATION_MODE`` combines them by ``mean``, ``min`` or ``max``.
    """

    enable: bool = True
    full_img: bool = False
    augmentation: bool = False
    augmentation_mode: str = "mean"
    reduce_memory: bool = False
    tiles_per_batch: int = 4
    output_dtype: str = "float32"
    on_disk: str = "auto"
