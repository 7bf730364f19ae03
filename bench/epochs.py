"""Section ``epochs``: does training slow down as it proceeds?

A 20-epoch run through :func:`i2i_nb.experiment.run` (the user's path: data checks,
normalisation, patches, the fit loop with validation and checkpoints; no test) on the
built-in 2D demo data, with the hidden-evaluation style U-Net (``MODEL.FEATURE_MAPS``
16-32-64-128, no normalisation), batch 4, the benchmark's 2D patch, a high learning rate
(``TRAIN.LR`` 2e-3) so that the weights move. Ratio: the median seconds of epochs 18-20
over those of epochs 1-3 (the first epoch includes warm-up), from the run's own log.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import torch

from bench.common import Row, Sizes, device
from i2i_nb.config import config_from_dict
from i2i_nb.demo import demo_config, make_demo_data
from i2i_nb.experiment import run as run_experiment

EPOCHS = 20


def run(sz: Sizes) -> list[Row]:
    """One row: late / early seconds per epoch."""
    patch = sz.patch[2]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cfg = demo_config(make_demo_data(root / "data", 2), 2)
        cfg = config_from_dict({
            "DATA": {"PATCH_SIZE": [*patch, 1]},
            "MODEL": {"FEATURE_MAPS": [16, 32, 64, 128]},
            "TRAIN": {"EPOCHS": EPOCHS, "BATCH_SIZE": 4, "PATIENCE": 0,
                      "PATCHES_PER_EPOCH": 16 if sz.quick else 64},
            "TEST": {"ENABLE": False},
        }, base=cfg)
        history = run_experiment(cfg, root / "out", "epochs", device=device()).history
    seconds = [row["seconds"] for row in history]
    early, late = statistics.median(seconds[:3]), statistics.median(seconds[-3:])
    ratio = late / early
    return [Row("epochs", f"2D demo {patch} x4, {len(seconds)} epochs: s/epoch 18-20 / 1-3",
                f"{ratio:.3f}", "<= 1.1",
                f"early {early:.2f} s, late {late:.2f} s, {torch.get_num_threads()} threads")]
