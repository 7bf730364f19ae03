"""Built-in demo data: denoising pairs made from a real microscopy image.

The image is scikit-image's ``immunohistochemistry`` sample (a bright-field
micrograph shipped inside the scikit-image wheel, so nothing is downloaded). Its
inverted grey level, where stained nuclei and membranes are bright, stands in for
a fluorescence signal. Targets are that signal at a long exposure (16-bit, little
noise); inputs are the same field at a short exposure: Poisson shot noise at about
30 photons at the brightest pixel plus Gaussian read noise, on the same intensity
scale. The 3D demo stacks crops that drift across the field from slice to slice,
smoothed along z, so that structures change continuously in depth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from skimage import color, data, filters

from i2i_nb.config import Config, config_from_dict
from i2i_nb.data.io import write_image

PEAK_PHOTONS = 30.0
BACKGROUND = 200.0
SIGNAL = 4000.0
READ_NOISE = 40.0


def demo_signal() -> np.ndarray:
    """The clean signal in [0, 1], float32, shape (512, 512)."""
    grey = color.rgb2gray(data.immunohistochemistry())
    signal = 1.0 - grey
    signal = (signal - signal.min()) / (signal.max() - signal.min())
    return signal.astype(np.float32)


def _acquire(signal: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return (short exposure, long exposure) 16-bit images of ``signal``."""
    target = BACKGROUND + SIGNAL * signal
    photons = rng.poisson(signal * PEAK_PHOTONS + 1.0).astype(np.float32)
    noisy = BACKGROUND + SIGNAL * (photons - 1.0) / PEAK_PHOTONS
    noisy += rng.normal(0.0, READ_NOISE, size=signal.shape)
    to16 = lambda a: np.clip(np.rint(a), 0, 65535).astype(np.uint16)  # noqa: E731
    return to16(noisy), to16(target)


def _volume(signal: np.ndarray, top: int, left: int, shape: tuple[int, int, int]) -> np.ndarray:
    """A (z, y, x) stack of crops drifting 3 px down and 2 px right per slice."""
    depth, height, width = shape
    slices = [signal[top + 3 * z: top + 3 * z + height, left + 2 * z: left + 2 * z + width]
              for z in range(depth)]
    return filters.gaussian(np.stack(slices), sigma=(1.0, 0.0, 0.0), preserve_range=True)


def _regions(ndim: int) -> dict[str, list[tuple[np.ndarray, str]]]:
    signal = demo_signal()
    if ndim == 2:
        train = [signal[r: r + 128, c: c + 256] for r in (0, 128, 256) for c in (0, 256)]
        test = [signal[384:512, 0:256], signal[384:512, 256:512]]
    else:
        train = [_volume(signal, r, c, (16, 64, 64)) for r in (0, 150) for c in (0, 140, 280, 418)]
        test = [_volume(signal, 330, 60, (16, 96, 128)), _volume(signal, 330, 300, (16, 96, 128))]
    return {
        "train": [(img, f"train-{i:04d}.tif") for i, img in enumerate(train)],
        "test": [(img, f"test-{i:04d}.tif") for i, img in enumerate(test)],
    }


def make_demo_data(root: str | Path, ndim: int = 2, seed: int = 0) -> Path:
    """Write the demo dataset tree ``root/{train,test}/{x,y}`` and return ``root``.

    Parameters
    ----------
    root : folder to create (existing demo files in it are overwritten).
    ndim : 2 for 6 training and 2 test images of 128x256, 3 for 8 training
        volumes of 16x64x64 and 2 test volumes of 16x96x128.
    seed : seed of the simulated noise.
    """
    if ndim not in (2, 3):
        raise ValueError(f"ndim must be 2 or 3, not {ndim}")
    root = Path(root)
    rng = np.random.default_rng(seed)
    for split, images in _regions(ndim).items():
        for signal, name in images:
            noisy, clean = _acquire(signal, rng)
            write_image(root / split / "x" / name, noisy[..., None], ndim)
            write_image(root / split / "y" / name, clean[..., None], ndim)
    return root


def demo_config(root: str | Path, ndim: int = 2) -> Config:
    """Settings that train on the demo data in a few minutes on 2 CPU cores."""
    root = Path(root)
    paths = {split: {"PATH": str(root / split / "x"), "GT_PATH": str(root / split / "y")}
             for split in ("train", "test")}
    small = {
        2: {"PATCH_SIZE": [64, 64, 1], "FEATURE_MAPS": [16, 32, 64], "EPOCHS": 30,
            "TILE_SHAPE": [128, 128]},
        3: {"PATCH_SIZE": [16, 32, 32, 1], "FEATURE_MAPS": [16, 32, 64], "EPOCHS": 20,
            "TILE_SHAPE": [16, 64, 64]},
    }[ndim]
    return config_from_dict({
        "PROBLEM": {"NDIM": f"{ndim}D"},
        "DATA": {"PATCH_SIZE": small["PATCH_SIZE"], "TRAIN": paths["train"],
                 "TEST": {**paths["test"], "TILE_SHAPE": small["TILE_SHAPE"]},
                 "VAL": {"SPLIT_TRAIN": 0.2}},
        "MODEL": {"ARCHITECTURE": "unet", "FEATURE_MAPS": small["FEATURE_MAPS"]},
        "TRAIN": {"EPOCHS": small["EPOCHS"], "BATCH_SIZE": 8, "LR": 2e-3, "PATIENCE": 10},
    })
