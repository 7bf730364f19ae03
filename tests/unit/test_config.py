"""Config: BiaPy key names, type coercion, warnings for unknown keys, clear errors."""

import warnings

import pytest

from i2i_nb.config import Config, config_from_dict, load_config, save_config
from i2i_nb.errors import ConfigError

# The keys and value spellings of BiaPy's image-to-image templates (2D and 3D).
BIAPY_STYLE_2D = """
SYSTEM:
    NUM_CPUS: -1
PROBLEM:
    TYPE: IMAGE_TO_IMAGE
    NDIM: 2D
DATA:
    PATCH_SIZE: (128, 128, 1)
    TRAIN:
        PATH: /data/train/x
        GT_PATH: /data/train/y
        IN_MEMORY: True
    VAL:
        FROM_TRAIN: True
        SPLIT_TRAIN: 0.1
    TEST:
        PATH: /data/test/x
        GT_PATH: /data/test/y
        IN_MEMORY: False
        LOAD_GT: True
        PADDING: (40,40)
AUGMENTOR:
    ENABLE: True
    VFLIP: True
    HFLIP: True
MODEL:
    ARCHITECTURE: attention_unet
    LOAD_CHECKPOINT: False
TRAIN:
    ENABLE: True
    OPTIMIZER: ADAMW
    LR: 1.E-4
    BATCH_SIZE: 8
    EPOCHS: 50
    PATIENCE: 10
TEST:
    ENABLE: True
    FULL_IMG: False
"""

BIAPY_STYLE_3D = """
SYSTEM:
    NUM_CPUS: -1
    NUM_WORKERS: 5
PROBLEM:
    TYPE: IMAGE_TO_IMAGE
    NDIM: 3D
DATA:
    PATCH_SIZE: (32, 64, 64, 1)
    TEST:
        PADDING: (4,8,8)
AUGMENTOR:
    ZFLIP: True
    DROPOUT: True
    GRIDMASK: True
MODEL:
    ARCHITECTURE: resunet
    Z_DOWN: [1,1,1]
TRAIN:
    LR: 1.E-3
    BATCH_SIZE: 6
    LR_SCHEDULER:
        NAME: 'onecycle'
"""


def test_biapy_2d_template_keys(tmp_path):
    path = tmp_path / "2d.yaml"
    path.write_text(BIAPY_STYLE_2D)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg = load_config(path)
    assert cfg.system.num_cpus == -1 and cfg.augmentor.vflip and cfg.augmentor.hflip
    assert cfg.ndim == 2 and cfg.patch_shape == (128, 128)
    assert cfg.data.test.padding == (40, 40)
    assert cfg.train.lr == pytest.approx(1e-4)
    assert cfg.model.architecture == "attention_unet"
    assert cfg.data.train.path == "/data/train/x"


def test_biapy_3d_template_keys(tmp_path):
    path = tmp_path / "3d.yaml"
    path.write_text(BIAPY_STYLE_3D)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cfg = load_config(path)
    assert not [str(w.message) for w in caught]  # every AUGMENTOR key is honoured, and
    # NUM_CPUS is a key of its own now
    assert cfg.augmentor.zflip and cfg.augmentor.dropout and cfg.augmentor.gridmask
    assert cfg.ndim == 3 and cfg.patch_shape == (32, 64, 64)
    assert cfg.model.z_down == [1, 1, 1] and cfg.system.num_workers == 5
    assert cfg.train.lr_scheduler.name == "onecycle"


def test_round_trip(tmp_path):
    cfg = config_from_dict({"PROBLEM": {"NDIM": "3D"}, "DATA": {"PATCH_SIZE": [8, 32, 32, 2]}})
    save_config(cfg, tmp_path / "c.yaml")
    assert load_config(tmp_path / "c.yaml") == cfg


def test_typo_suggests_key():
    with pytest.warns(UserWarning, match=r"TRAIN.EPOCH .*did you mean TRAIN.EPOCHS"):
        config_from_dict({"TRAIN": {"EPOCH": 3}})


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"TRAIN": {"EPOCHS": "many"}}, "TRAIN.EPOCHS"),
        ({"TRAIN": {"LR": -1}}, "TRAIN.LR"),
        ({"TRAIN": {"BATCH_SIZE": 0}}, "TRAIN.BATCH_SIZE"),
        ({"PROBLEM": {"NDIM": "4D"}}, "PROBLEM.NDIM"),
        ({"PROBLEM": {"TYPE": "SEMANTIC_SEG"}}, "PROBLEM.TYPE"),
        ({"DATA": {"PATCH_SIZE": "(64, 64, 64, 64, 1)"}}, "DATA.PATCH_SIZE"),
        ({"DATA": {"PATCH_SIZE": "(64, oops)"}}, "DATA.PATCH_SIZE"),
        ({"MODEL": {"ARCHITECTURE": "transformer9000"}}, "MODEL.ARCHITECTURE"),
        ({"DATA": {"NORMALIZATION": {"TYPE": "magic"}}}, "DATA.NORMALIZATION.TYPE"),
        ({"TRAIN": {"ENABLE": "yes please"}}, "TRAIN.ENABLE"),
        ({"DATA": {"VAL": {"SPLIT_TRAIN": 1.5}}}, "DATA.VAL.SPLIT_TRAIN"),
        ({"PROBLEM": {"NDIM": "3D"}, "DATA": {"PATCH_SIZE": [8, 32, 32, 1]},
          "MODEL": {"FEATURE_MAPS": [8, 16, 32, 64], "Z_DOWN": [2, 2]}}, "MODEL.Z_DOWN"),
        ({"DATA": "not a section"}, "DATA"),
    ],
)
def test_bad_values_name_the_key(values, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        config_from_dict(values)


def test_defaults_are_valid():
    cfg = config_from_dict({})
    assert cfg == Config()
    assert cfg.loss.type == ["MAE"] and cfg.data.normalization.target.type == "percentile"


def test_unreadable_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("TRAIN: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_config(path)


def test_typo_in_a_biapy_key_is_named():
    with pytest.warns(UserWarning, match=r"neither a BiaPy 3.7 key.*did you mean TRAIN.EPOCHS"):
        config_from_dict({"TRAIN": {"EPOCHSS": 3}})


def test_num_cpus_is_read():
    assert config_from_dict({"SYSTEM": {"NUM_CPUS": 3}}).system.num_cpus == 3
