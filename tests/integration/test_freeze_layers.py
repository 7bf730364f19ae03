"""MODEL.FREEZE_LAYERS_MATCHING: matched parameters keep their weights through training."""

import pytest
import torch

from i2i_nb.activations import with_activations
from i2i_nb.checkpoint import load_checkpoint
from i2i_nb.errors import ConfigError
from i2i_nb.experiment import run
from i2i_nb.model_spec import model_spec
from i2i_nb.models import build_model
from tests.integration.conftest import tiny_config

CPU = torch.device("cpu")


def test_frozen_parameters_keep_their_initial_weights(dataset_2d, tmp_path, capsys):
    cfg = tiny_config(dataset_2d, MODEL={"FEATURE_MAPS": [4, 8],
                                         "FREEZE_LAYERS_MATCHING": [r"^encoders\.0\."]},
                      TRAIN={"EPOCHS": 1, "LR": 1e-2}, TEST={"ENABLE": False})
    result = run(cfg, tmp_path / "out", "f", 1, CPU)
    assert "froze 4 of 16 parameter tensors" in capsys.readouterr().out
    torch.manual_seed(cfg.system.seed)  # the initial weights, as training drew them
    initial = with_activations(build_model(model_spec(cfg, 1, 1)), [], 1).state_dict()
    trained = load_checkpoint(result.paths.checkpoint("last"))["model"]
    for name, value in initial.items():
        same = torch.equal(trained[name], value)
        assert same if name.startswith("encoders.0.") else not same, name


def test_freeze_patterns_warn_when_unmatched_and_refuse_bad_regex(dataset_2d, tmp_path):
    cfg = tiny_config(dataset_2d, MODEL={"FEATURE_MAPS": [4, 8],
                                         "FREEZE_LAYERS_MATCHING": ["backbone"]},
                      TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False})
    with pytest.warns(UserWarning, match="'backbone' matches no parameter.*encoders.0"):
        run(cfg, tmp_path / "out", "w", 1, CPU)
    with pytest.raises(ConfigError, match=r"MODEL.FREEZE_LAYERS_MATCHING\[0\]"):
        tiny_config(dataset_2d, MODEL={"FREEZE_LAYERS_MATCHING": ["("]})
    every = tiny_config(dataset_2d, MODEL={"FEATURE_MAPS": [4, 8],
                                           "FREEZE_LAYERS_MATCHING": ["."]},
                        TEST={"ENABLE": False})
    with pytest.raises(ConfigError, match="freeze every parameter"):
        run(every, tmp_path / "out", "e", 1, CPU)
