"""Tiny paired datasets and configs for fast runs of the whole engine."""

from pathlib import Path

import numpy as np
import pytest
import tifffile

from i2i_nb.config import Config, config_from_dict


def write_pairs(root: Path, split: str, count: int, shape: tuple[int, ...], seed: int,
                in_channels: int = 1, out_channels: int = 1) -> None:
    """Smooth random targets, noisy inputs with another gain and offset."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        clean = rng.random((*shape, out_channels)).astype(np.float32)
        for axis in range(len(shape)):
            clean = (clean + np.roll(clean, 1, axis) + np.roll(clean, -1, axis)) / 3
        target = (1000 + 3000 * clean).astype(np.uint16)
        noisy = 0.5 * clean[..., :1] + rng.normal(0, 0.05, clean[..., :1].shape)
        noisy = np.repeat(noisy, in_channels, axis=-1)
        (root / split / "x").mkdir(parents=True, exist_ok=True)
        (root / split / "y").mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(root / split / "x" / f"img-{i:03d}.tif", noisy.astype(np.float32)
                         .squeeze(-1) if in_channels == 1 else noisy.astype(np.float32))
        tifffile.imwrite(root / split / "y" / f"img-{i:03d}.tif",
                         target.squeeze(-1) if out_channels == 1 else target)


def tiny_config(root: Path, ndim: int = 2, **overrides: dict) -> Config:
    """A config that trains in about a second on the CPU."""
    patch = [16, 16] if ndim == 2 else [4, 16, 16]
    values = {
        "PROBLEM": {"NDIM": f"{ndim}D"},
        "DATA": {"PATCH_SIZE": patch,
                 "TRAIN": {"PATH": str(root / "train/x"), "GT_PATH": str(root / "train/y")},
                 "TEST": {"PATH": str(root / "test/x"), "GT_PATH": str(root / "test/y")},
                 "VAL": {"SPLIT_TRAIN": 0.25}},
        "MODEL": {"FEATURE_MAPS": [4, 8]},
        "TRAIN": {"EPOCHS": 4, "BATCH_SIZE": 4, "PATCHES_PER_EPOCH": 8, "PATIENCE": 0,
                  "LR_SCHEDULER": {"WARMUP_COSINE_DECAY_EPOCHS": 1}},
    }
    for section, keys in overrides.items():
        values.setdefault(section, {}).update(keys)
    return config_from_dict(values)


@pytest.fixture
def dataset_2d(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_pairs(root, "train", 4, (40, 36), seed=1)
    write_pairs(root, "test", 2, (50, 44), seed=2)
    return root
