"""The notebook's parameters cell as a validated config."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from i2i_nb.config import Config, config_from_dict
from i2i_nb.demo import demo_config


def notebook_config(ndim: int, data_dir: str | Path, train_x: str, train_y: str, test_x: str,
                    test_y: str, patch_size: Sequence[int], architecture: str, epochs: int,
                    batch_size: int, learning_rate: float, normalization: str,
                    tile_overlap: float) -> Config:
    """The demo settings (small, CPU-friendly) with the parameters cell's values on top.

    Parameters
    ----------
    ndim : 2 or 3.
    data_dir : folder holding ``train/{x,y}`` and ``test/{x,y}``; an empty data path
        below means that sub-folder of it.
    train_x, train_y, test_x, test_y : data folders (``DATA.TRAIN.PATH``...).
    patch_size : spatial patch size, ``(y, x)`` or ``(z, y, x)``.
    architecture, epochs, batch_size, learning_rate, normalization : ``MODEL.ARCHITECTURE``,
        ``TRAIN.EPOCHS``, ``TRAIN.BATCH_SIZE``, ``TRAIN.LR``, ``DATA.NORMALIZATION.TYPE``.
    tile_overlap : ``DATA.TEST.OVERLAP`` on every axis, a fraction of the tile below 1,
        else pixels; 0 lets the model's receptive field decide.

    Raises
    ------
    ConfigError
        A value out of range, naming its key.
    """
    root = Path(data_dir)

    def folder(path: str, split: str, role: str) -> str:
        return str(path or root / split / role)

    return config_from_dict({
        "DATA": {
            "PATCH_SIZE": list(patch_size),
            "NORMALIZATION": {"TYPE": normalization},
            "TRAIN": {"PATH": folder(train_x, "train", "x"),
                      "GT_PATH": folder(train_y, "train", "y")},
            "TEST": {"PATH": folder(test_x, "test", "x"), "GT_PATH": folder(test_y, "test", "y"),
                     "OVERLAP": [tile_overlap] * ndim if tile_overlap else []},
        },
        "MODEL": {"ARCHITECTURE": architecture},
        "TRAIN": {"EPOCHS": epochs, "BATCH_SIZE": batch_size, "LR": learning_rate},
    }, base=demo_config(root, ndim))
