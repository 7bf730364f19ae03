"""``AUGMENTOR``: augmentations of the training patches."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class AugmentorConfig:
    """``AUGMENTOR``: geometric augmentations applied identically to input and target."""

    enable: bool = True
    da_prob: float = 0.5
    vflip: bool = True
    hflip: bool = True
    zflip: bool = True
    rot90: bool = True
