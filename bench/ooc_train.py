"""Out of core, training: ``experiment.run`` with ``DATA.TRAIN.IN_MEMORY: False`` on data sets
up to several times larger than memory.

The parent writes uncompressed uint16 2D TIFF pairs (``train/x``, ``train/y``; dropped from
the page cache) and runs :func:`child` in a fresh process (``python -m bench.ooc_train
SPEC``) under the memory limit: the whole run (data checks, statistics from a subsample,
foreground map, a few short epochs of a small U-Net with validation; no test phase).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import tifffile
import torch

from bench.common import AnonPeak, peak_rss_bytes
from bench.limit import drop_cache
from i2i_nb.config import config_from_dict
from i2i_nb.experiment import run


def write_pairs(root: Path, total_bytes: int, side: int, seed: int = 0) -> int:
    """Pairs of ``side`` x ``side`` uint16 images (noisy input, clean target) adding up to
    about ``total_bytes``; returns their size in bytes."""
    rng = np.random.default_rng(seed)
    bank = []  # a few random pairs, shifted for every file (cheap to make)
    for _ in range(4):
        clean = rng.integers(200, 4000, (side, side), np.uint16)
        noise = rng.integers(0, 400, (side, side), np.uint16)
        bank.append((clean + noise, clean))
    n_pairs = max(2, round(total_bytes / (2 * side * side * 2)))
    for i in range(n_pairs):
        shift = tuple(int(s) for s in rng.integers(0, side, 2))
        for folder, image in zip(("x", "y"), bank[i % len(bank)], strict=True):
            path = root / folder / f"img-{i:04d}.tif"
            path.parent.mkdir(parents=True, exist_ok=True)
            tifffile.imwrite(path, np.roll(image, shift, (0, 1)), photometric="minisblack")
            drop_cache(path)
    return n_pairs * 2 * side * side * 2


def config(data: Path, patch: int, in_memory: bool) -> dict:
    """A small 2D U-Net, 3 epochs of 64 patches, validation on 10% of the pairs, no test."""
    return {
        "PROBLEM": {"NDIM": "2D"},
        "DATA": {"PATCH_SIZE": [patch, patch, 1],
                 "TRAIN": {"PATH": str(data / "x"), "GT_PATH": str(data / "y"),
                           "IN_MEMORY": in_memory}},
        "MODEL": {"ARCHITECTURE": "unet", "FEATURE_MAPS": [8, 16, 32]},
        "TRAIN": {"EPOCHS": 3, "PATCHES_PER_EPOCH": 64, "BATCH_SIZE": 8},
        "TEST": {"ENABLE": False},
    }


def child(spec: dict) -> dict:
    """Train on ``spec["data"]`` into ``spec["results"]``; peaks in bytes."""
    torch.set_num_threads(spec["threads"])
    sampler = AnonPeak(0.005)
    cfg = config_from_dict(config(Path(spec["data"]), spec["patch"], spec["in_memory"]))
    began = time.perf_counter()
    result = run(cfg, spec["results"], "ooc", device=torch.device("cpu"))
    seconds = time.perf_counter() - began
    return {"seconds": seconds, "peak_rss": peak_rss_bytes(), "peak_anon": sampler.stop(),
            "epochs": len(result.history)}


if __name__ == "__main__":
    print(json.dumps(child(json.loads(sys.argv[1]))))
