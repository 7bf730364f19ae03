"""TRAIN.SAVE_TRAIN_PREDS_FREQ / _NUM_SAMPLES: predictions of fixed patches while training."""

import numpy as np
import pytest
import torch

from i2i_nb.data.io import read_image
from i2i_nb.errors import ConfigError
from i2i_nb.experiment import run
from tests.integration.conftest import tiny_config

CPU = torch.device("cpu")


def test_training_predictions_are_written_every_freq_epochs_and_at_the_last(dataset_2d,
                                                                            tmp_path):
    cfg = tiny_config(dataset_2d, TRAIN={"EPOCHS": 3, "SAVE_TRAIN_PREDS_FREQ": 2,
                                         "SAVE_TRAIN_PREDS_NUM_SAMPLES": 2},
                      TEST={"ENABLE": False})
    result = run(cfg, tmp_path / "out", "t", 1, CPU)
    folder = result.paths.run_dir / "train_pred_samples"
    assert sorted(p.name for p in folder.iterdir()) == ["gt", "input", "pred_epoch_0002",
                                                          "pred_epoch_0003"]
    for sub in ("input", "gt", "pred_epoch_0002", "pred_epoch_0003"):
        assert sorted(p.name for p in (folder / sub).iterdir()) == ["000.tif", "001.tif"]
    first = read_image(folder / "pred_epoch_0002" / "000.tif", 2)
    last = read_image(folder / "pred_epoch_0003" / "000.tif", 2)
    assert first.shape == (16, 16, 1) and not np.array_equal(first, last)


def test_off_by_default_and_bad_values_refused(dataset_2d, tmp_path):
    cfg = tiny_config(dataset_2d, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False})
    result = run(cfg, tmp_path / "out", "n", 1, CPU)
    assert not (result.paths.run_dir / "train_pred_samples").exists()
    with pytest.raises(ConfigError, match="TRAIN.SAVE_TRAIN_PREDS_FREQ"):
        tiny_config(dataset_2d, TRAIN={"SAVE_TRAIN_PREDS_FREQ": 0})
