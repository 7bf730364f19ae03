"""BiaPy 3.7.1's keys and values: accepted, converted and meaning what they mean in BiaPy."""

import warnings

import numpy as np
import pytest
from torch import nn

from i2i_nb.config import config_from_dict
from i2i_nb.config.biapy_keys import BIAPY_DEFAULTS
from i2i_nb.data.statistics import input_spec, target_scaler
from i2i_nb.errors import ConfigError
from i2i_nb.losses import build_loss


def _nested(flat: dict) -> dict:
    out: dict = {}
    for key, value in flat.items():
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def test_a_full_biapy_default_config_is_accepted_silently():
    """BiaPy writes every key into its config copy: all 585, at BiaPy's defaults, with
    PROBLEM.TYPE IMAGE_TO_IMAGE, give no warning and BiaPy's meaning."""
    values = _nested({**BIAPY_DEFAULTS, "PROBLEM.TYPE": "IMAGE_TO_IMAGE"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg = config_from_dict(values)
    assert cfg.train.optimizer == "SGD" and cfg.train.lr == pytest.approx(1e-4)
    assert cfg.train.patience == -1 and cfg.train.lr_scheduler.name == ""
    assert cfg.model.feature_maps == [16, 32, 64, 128, 256] and cfg.model.z_down == []
    assert cfg.model.normalization == "in" and cfg.loss.type == ["MAE"]
    assert cfg.data.train.extract_random_patch is False and cfg.system.num_workers == -1


@pytest.mark.parametrize(("values", "check"), [
    ({"TRAIN": {"OPTIMIZER": ["ADAMW"], "LR": [2e-4]}},
     lambda c: c.train.optimizer == "ADAMW" and c.train.lr == 2e-4),
    ({"TRAIN": {"OPT_BETAS": [[0.8, 0.95]]}}, lambda c: c.train.opt_betas == [0.8, 0.95]),
    ({"TRAIN": {"LR_SCHEDULER": {"NAME": "onecycle", "MIN_LR": [-1.0]}}},
     lambda c: c.train.lr_scheduler.min_lr == 1e-5),
    ({"TRAIN": {"LR_SCHEDULER": {"NAME": "warmupcosine", "MIN_LR": [5e-6],
                                 "WARMUP_COSINE_DECAY_EPOCHS": 3}}},
     lambda c: c.train.lr_scheduler.min_lr == 5e-6),
    ({"TRAIN": {"PATIENCE": -1}}, lambda c: c.train.patience == -1),
    ({"DATA": {"NORMALIZATION": {"TYPE": "custom"}}},
     lambda c: c.data.normalization.type == "zero_mean_unit_variance"),
    ({"DATA": {"NORMALIZATION": {"PERC_CLIP": {"LOWER_PERC": -1, "UPPER_PERC": -1}}}},
     lambda c: c.data.normalization.perc_clip.upper_perc == 99.8),
    ({"DATA": {"NORMALIZATION": {"TARGET": {"TYPE": ""}}}},
     lambda c: c.data.normalization.target.type == "percentile"),
    ({"MODEL": {"NORMALIZATION": ""}}, lambda c: c.model.normalization == "in"),
    ({"PROBLEM": {"NDIM": "3D"}, "DATA": {"PATCH_SIZE": [8, 32, 32, 1]},
      "MODEL": {"Z_DOWN": [0, 0, 0]}}, lambda c: c.model.z_down == []),
    ({"PROBLEM": {"NDIM": "3D"}, "DATA": {"PATCH_SIZE": [8, 32, 32, 1]},
      "MODEL": {"Z_DOWN": [1, 1, 1, 1]}},
     lambda c: c.model.feature_maps == [16, 32, 64, 128, 256]),
    ({"SYSTEM": {"NUM_WORKERS": -1, "NUM_CPUS": -1}}, lambda c: c.system.num_workers == -1),
    ({"TEST": {"REDUCE_MEMORY": True}}, lambda c: c.test.on_disk == "always"),
    ({"MODEL": {"BATCH_NORMALIZATION": True}}, lambda c: c.model.normalization == "bn"),
    ({"DATA": {"EXTRACT_RANDOM_PATCH": False}},
     lambda c: c.data.train.extract_random_patch is False),
    ({"TEST": {"STATS": {"FULL_IMG": True}}}, lambda c: c.test.full_img),
    ({"DATA": {"NORMALIZATION": {"TYPE": "custom", "CUSTOM_MEAN": 3.0, "CUSTOM_STD": 2.0}}},
     lambda c: c.data.normalization.zero_mean_unit_var.mean_val == [3.0]),
    ({"LOSS": {"TYPE": []}}, lambda c: c.loss.type == ["MAE"]),
    ({"TRAIN": {"LR_SCHEDULER": {"NAME": "warmupreduceonplateau", "MIN_LR": [-1]}}},
     lambda c: c.train.lr_scheduler.name == "warmupreduceonplateau"),
])
def test_biapy_values_are_converted(values, check):
    assert check(config_from_dict(values))


@pytest.mark.parametrize(("values", "key"), [
    ({"TRAIN": {"LR_SCHEDULER": {"NAME": "warmupcosine", "MIN_LR": [-1.0]}}},
     "TRAIN.LR_SCHEDULER.MIN_LR"),
    ({"TRAIN": {"LR_SCHEDULER": {"NAME": "warmupcosine", "MIN_LR": [1e-5],
                                 "WARMUP_COSINE_DECAY_EPOCHS": -1}}},
     "TRAIN.LR_SCHEDULER.WARMUP_COSINE_DECAY_EPOCHS"),
    ({"TRAIN": {"OPTIMIZER": ["ADAMW", "SGD"]}}, "TRAIN.OPTIMIZER"),
    ({"TRAIN": {"GRADIENT_CLIP_NORM": -1}}, "TRAIN.GRADIENT_CLIP_NORM"),
    ({"LOSS": {"TYPE": ["VGG"]}}, "LOSS.TYPE"),
    ({"LOSS": {"TYPE": ["MAE", "MSE"], "WEIGHTS": [1.0]}}, "LOSS.WEIGHTS"),
    ({"PROBLEM": {"IMAGE_TO_IMAGE": {"MEMBRANE_REPAIR": {"ENABLE": True}}}},
     "MEMBRANE_REPAIR"),
    ({"DATA": {"TEST": {"USE_VAL_AS_TEST": True}}}, "DATA.TEST.USE_VAL_AS_TEST"),
    ({"MODEL": {"ITEMS_TO_LOAD_FROM_CHECKPOINT": ["weights", "everything"]}},
     "MODEL.ITEMS_TO_LOAD_FROM_CHECKPOINT"),
    ({"TEST": {"AUGMENTATION_MODE": "median"}}, "TEST.AUGMENTATION_MODE"),
])
def test_values_biapy_refuses_are_refused_naming_the_key(values, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        config_from_dict(values)


def test_old_keys_give_one_note_each(capsys):
    config_from_dict({"MODEL": {"BATCH_NORMALIZATION": True}, "TEST": {"STATS": {
        "FULL_IMG": True}}})
    out = capsys.readouterr().out
    assert out.count("note:") == 2 and "MODEL.BATCH_NORMALIZATION" in out


def test_biapy_key_of_another_workflow_warns_why_only_when_set():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config_from_dict({"TEST": {"POST_PROCESSING": {"MEDIAN_FILTER": False}}})
    with pytest.warns(UserWarning, match="TEST.POST_PROCESSING.MEDIAN_FILTER: post-processes"):
        config_from_dict({"TEST": {"POST_PROCESSING": {"MEDIAN_FILTER": True}}})


def test_loss_type_mse_builds_mse_and_mixes_weigh():
    cfg = config_from_dict({"LOSS": {"TYPE": ["MSE"]}})
    assert isinstance(build_loss(cfg.loss, 2), nn.MSELoss)
    mixed = config_from_dict({"LOSS": {"TYPE": ["MAE", "SSIM"], "WEIGHTS": [0.5, 2]}})
    assert build_loss(mixed.loss, 2).weights == [0.5, 2.0]


def test_fixed_normalisation_values_are_the_values_used():
    rng = np.random.default_rng(0)
    images = [rng.normal(100, 10, (16, 16, 2)).astype(np.float32) for _ in range(2)]
    cfg = config_from_dict({"DATA": {"NORMALIZATION": {
        "TYPE": "zero_mean_unit_variance", "ZERO_MEAN_UNIT_VAR": {"MEAN_VAL": [7.0, 8.0],
                                                                  "STD_VAL": 2.0}}}})
    spec = input_spec(images, cfg.data.normalization)
    assert spec["dataset"]["offset"] == [7.0, 8.0] and spec["dataset"]["scale"] == [2.0, 2.0]
    clipped = config_from_dict({"DATA": {"NORMALIZATION": {"TYPE": "scale_range", "PERC_CLIP": {
        "ENABLE": True, "LOWER_VALUE": 95.0, "UPPER_VALUE": 105.0}}}})
    assert input_spec(images, clipped.data.normalization)["clip_values"] == [[95.0] * 2,
                                                                             [105.0] * 2]


def test_target_enable_uses_the_fixed_target_values():
    targets = [np.full((8, 8, 1), 50, np.uint16)]
    cfg = config_from_dict({"DATA": {"NORMALIZATION": {"TARGET": {
        "ENABLE": True, "ZERO_MEAN_UNIT_VAR": {"MEAN_VAL": [10.0], "STD_VAL": [4.0]}}}}})
    assert cfg.data.normalization.target.type == "zero_mean_unit_variance"  # inherited
    scaler = target_scaler(targets, cfg.data.normalization)
    assert scaler.forward(targets[0]).max() == pytest.approx((50 - 10) / 4)
    with pytest.raises(ConfigError, match="MEAN_VAL/STD_VAL"):
        target_scaler(targets, config_from_dict({"DATA": {"NORMALIZATION": {
            "TARGET": {"ENABLE": True}}}}).data.normalization)
