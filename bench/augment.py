"""Section ``augment``: cost per patch of each BiaPy augmentation against today's flips.

Each augmentation alone (probability 1, BiaPy's default ranges) on one training patch of
the bench size (3 channels in, 1 out), timed over the same patches as the default
augmentation (flips of each axis and quarter turns, at their default probabilities, what
``Augment`` did before BiaPy's keys were honoured). Also every augmentation at once at
BiaPy's probability 0.5, and, when MONAI is installed, MONAI's ``RandAffined`` (the
closest library transform: rotation + zoom + shear + shift, 2D and 3D) against our
affine step (ZOOM + RANDOM_ROT + SHEAR + SHIFT in one scipy resampling).
"""

from __future__ import annotations

import numpy as np

from bench.common import Row, Sizes, interleaved, random_image
from i2i_nb.config import AugmentorConfig
from i2i_nb.data.augment import Augment

KEYS = ["VFLIP", "HFLIP", "ZFLIP", "ROT90", "RANDOM_ROT", "SHEAR", "ZOOM", "SHIFT", "ELASTIC",
        "MISALIGNMENT", "GAMMA_CONTRAST", "BRIGHTNESS", "CONTRAST", "G_BLUR", "MEDIAN_BLUR",
        "MOTION_BLUR", "GAUSSIAN_NOISE", "POISSON_NOISE", "SALT", "PEPPER", "SALT_AND_PEPPER",
        "DROPOUT", "CUTOUT", "CUTBLUR", "CUTMIX", "CUTNOISE", "GRIDMASK", "MISSING_SECTIONS",
        "GRAYSCALE", "CHANNEL_SHUFFLE"]
PATCHES = 16


def only(keys: list[str], prob: float = 1.0) -> AugmentorConfig:
    """Every augmentation off but ``keys`` (each with probability ``prob``)."""
    values: dict = {k.lower(): k in keys for k in KEYS}
    values.update({k.lower() + "_prob": prob for k in keys})
    values["ms_displacement"] = 8
    return AugmentorConfig(**values)


def _runner(augment: Augment, patches: list[tuple[np.ndarray, np.ndarray]]):
    def go() -> None:
        for i, (x, y) in enumerate(patches):
            augment.apply(x, y, np.random.default_rng(i), donor=patches[i - 1])
    return go


def _monai_rows(ndim: int, patches: list, per_patch_ms: float) -> list[Row]:
    try:
        from monai.transforms import RandAffined
    except ImportError:
        return [Row("augment", f"{ndim}D MONAI RandAffined", "not installed")]
    import torch

    ours = _runner(Augment(only(["RANDOM_ROT", "ZOOM", "SHEAR", "SHIFT"])), patches)
    shape = patches[0][0].shape
    monai = RandAffined(["x", "y"], prob=1.0, rotate_range=np.pi, shear_range=0.35,
                        translate_range=[0.0] * (ndim - 2) + [0.15 * s for s in shape[-3:-1]],
                        scale_range=0.5, padding_mode="reflection", mode="bilinear")
    tensors = [{"x": torch.from_numpy(np.moveaxis(x, -1, 0).copy()),
                "y": torch.from_numpy(np.moveaxis(y, -1, 0).copy())} for x, y in patches]

    def theirs() -> None:
        for i, d in enumerate(tensors):
            monai.set_random_state(i)
            out = monai(d)
            np.moveaxis(out["x"].numpy(), 0, -1), np.moveaxis(out["y"].numpy(), 0, -1)

    r = interleaved(theirs, ours, 3)
    return [Row("augment", f"{ndim}D MONAI RandAffined / ours (affine step)", str(r), "",
                f"ours {r.baseline_s / len(patches) * 1e3:.2f} ms/patch")]


def run(sz: Sizes) -> list[Row]:
    """ms per patch of each augmentation and its ratio to the default flips + turns."""
    rows = []
    for ndim in (2, 3):
        patch = sz.patch[ndim]
        patches = [(random_image((*patch, 3), 2 * i), random_image((*patch, 1), 2 * i + 1))
                   for i in range(PATCHES)]
        default = _runner(Augment(), patches)
        for key in KEYS + ["every one (prob 0.5)"]:
            cfg = only(KEYS, 0.5) if key.startswith("every") else only([key])
            r = interleaved(_runner(Augment(cfg), patches), default, sz.rounds)
            rows.append(Row("augment", f"{ndim}D {patch} {key}: time / default flips+rot90",
                            str(r), "", f"{r.candidate_s / PATCHES * 1e3:.2f} ms/patch "
                            f"(default {r.baseline_s / PATCHES * 1e3:.3f})"))
        rows += _monai_rows(ndim, patches, 0.0)
    return rows
