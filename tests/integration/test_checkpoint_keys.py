"""MODEL.SKIP_UNMATCHED_LAYERS and MODEL.OUT_CHECKPOINT_FORMAT through the whole engine."""

import pytest
import torch

from i2i_nb.errors import ConfigError
from i2i_nb.experiment import run
from tests.integration.conftest import tiny_config, write_pairs

CPU = torch.device("cpu")


def test_fine_tuning_another_head_needs_skip_unmatched_layers(dataset_2d, tmp_path, capsys):
    cfg = tiny_config(dataset_2d, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False})
    last = run(cfg, tmp_path / "out", "a", 1, CPU).paths.checkpoint("last")
    two = tmp_path / "two"
    write_pairs(two, "train", 4, (40, 36), seed=3, out_channels=2)
    write_pairs(two, "test", 1, (40, 36), seed=4, out_channels=2)
    model = {"LOAD_CHECKPOINT": True, "ITEMS_TO_LOAD_FROM_CHECKPOINT": ["weights"]}
    paths = {"CHECKPOINT_FILE": str(last)}
    refused = tiny_config(two, TRAIN={"EPOCHS": 1}, MODEL=model, PATHS=paths)
    with pytest.raises(ConfigError, match="SKIP_UNMATCHED_LAYERS"):
        run(refused, tmp_path / "out", "r", 1, CPU)
    tuned = tiny_config(two, TRAIN={"EPOCHS": 1}, PATHS=paths,
                        MODEL={**model, "SKIP_UNMATCHED_LAYERS": True})
    result = run(tuned, tmp_path / "out", "t", 1, CPU)
    assert "MODEL.SKIP_UNMATCHED_LAYERS: loaded" in capsys.readouterr().out
    assert len(result.history) == 1
