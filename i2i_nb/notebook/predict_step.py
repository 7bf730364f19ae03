"""Predict your own images with a trained model: no targets needed, no metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from i2i_nb.config import Config, config_from_dict
from i2i_nb.data.io import read_image
from i2i_nb.data.pairs import list_images
from i2i_nb.experiment import RunResult, resolve_device, run
from i2i_nb.notebook.figures import Column, Rows, show

COLUMNS = [Column("input"), Column("prediction")]


def predict_own(images: str, checkpoint: str, trained: RunResult, cfg: Config, result_dir: str,
                name: str, run_id: int, device: str, tta: bool = False) -> RunResult:
    """Predict every TIFF in ``images`` (a folder or one file; empty: this run's test
    inputs) with ``checkpoint`` (empty: this run's best) into
    ``<result_dir>/<name>_predictions``; the checkpoint alone defines the model."""
    checkpoint = checkpoint or str(trained.paths.checkpoint("best"))
    own = config_from_dict({
        "PROBLEM": {"NDIM": cfg.problem.ndim}, "TRAIN": {"ENABLE": False},
        "MODEL": {"LOAD_CHECKPOINT": True}, "PATHS": {"CHECKPOINT_FILE": checkpoint},
        "DATA": {"PATCH_SIZE": list(cfg.data.patch_size),
                 "TEST": {"PATH": images or cfg.data.test.path, "LOAD_GT": False}},
        "TEST": {"AUGMENTATION": tta},
    })
    return run(own, result_dir, f"{name}_predictions", run_id, resolve_device(device or None),
               "predict.yaml")


def show_own(result: RunResult, images: str, cfg: Config, n: int = 3,
             interactive: bool = False) -> None:
    """Display input | prediction for the first ``n`` predicted images (channel 0)."""
    folder = Path(images or cfg.data.test.path)
    inputs = [folder] if folder.is_file() else list_images(folder)
    rows: Rows = [(path.name, [read_image(path, cfg.ndim), read_image(
        result.paths.sub("per_image") / path.name, cfg.ndim).astype(np.float32)])
        for path in inputs[:n]]
    show(rows, COLUMNS, interactive)
