"""NAFNet's GAN keys: BiaPy-style configs accepted, BiaPy's refusals naming the key."""

import pytest

from i2i_nb.config import config_from_dict, save_config
from i2i_nb.config.yaml_io import load_config
from i2i_nb.errors import ConfigError
from i2i_nb.experiment import model_spec

# As a BiaPy 3.7.1 file gives it: two optimizers and learning rates, an adversarial term.
GAN = {
    "PROBLEM": {"NDIM": "2D"},
    "DATA": {"PATCH_SIZE": [64, 64, 1]},
    "MODEL": {"ARCHITECTURE": "nafnet", "FEATURE_MAPS": [16, 32, 64, 128, 256],
              "NAFNET": {"MIDDLE_BLK_NUM": 4, "ENC_BLK_NUMS": [1, 1, 2, 2],
                         "DEC_BLK_NUMS": [1, 1, 1, 1], "DW_EXPAND": 2, "FFN_EXPAND": 4,
                         "ARCHITECTURE_D": "patchgan", "PATCHGAN": {"BASE_FILTERS": 32},
                         "GENERATOR_BACKBONE": "nafnet"}},
    "LOSS": {"TYPE": ["MAE", "SSIM", "BCE"], "WEIGHTS": [10.0, 1.0, 1.0],
             "GAN": {"R1_GAMMA": 0.5, "ADAPTIVE_GAN_WEIGHT": True}},
    "TRAIN": {"OPTIMIZER": ["ADAMW", "ADAM"], "LR": [1.0e-4, 2.0e-4],
              "OPT_BETAS": [[0.9, 0.999], [0.5, 0.999]],
              "LR_SCHEDULER": {"NAME": "warmupcosine", "MIN_LR": [1.0e-6, 1.0e-7],
                               "WARMUP_COSINE_DECAY_EPOCHS": 1}},
}


def gan(**sections):
    values = {key: dict(value) for key, value in GAN.items()}
    for section, extra in sections.items():
        values[section] = {**values.get(section, {}), **extra}
    return values


def test_biapy_gan_config_reaches_the_networks_and_optimisers(tmp_path):
    cfg = config_from_dict(gan())
    disc = cfg.train.discriminator
    assert (cfg.train.optimizer, cfg.train.lr, cfg.train.opt_betas) == ("ADAMW", 1e-4, [0.9, 0.999])
    assert (disc.optimizer, disc.lr, disc.opt_betas, disc.min_lr) == ("ADAM", 2e-4, [0.5, 0.999],
                                                                      1e-7)
    assert cfg.train.lr_scheduler.min_lr == 1e-6 and cfg.loss.gan.r1_gamma == 0.5
    spec = model_spec(cfg, 1, 1)
    assert (spec.nafnet_middle_blk_num, spec.nafnet_enc_blk_nums, spec.nafnet_ffn_expand) == (
        4, [1, 1, 2, 2], 4)
    assert spec.nafnet_patchgan_base_filters == 32 and spec.nafnet_output_sigmoid
    save_config(cfg, tmp_path / "saved.yaml")  # the written config reads back the same
    again = load_config(tmp_path / "saved.yaml")
    assert again.train.discriminator == disc and again.model.nafnet == cfg.model.nafnet


def test_output_activation_replaces_the_sigmoid():
    cfg = config_from_dict(gan(PROBLEM={"NDIM": "2D",
                                        "IMAGE_TO_IMAGE": {"OUTPUT_CHANNEL_ACT": ["relu"]}}))
    assert not model_spec(cfg, 1, 1).nafnet_output_sigmoid


@pytest.mark.parametrize(("sections", "key", "words"), [
    ({"MODEL": {**GAN["MODEL"], "NAFNET": {"ARCHITECTURE_D": ""}}},
     "MODEL.NAFNET.ARCHITECTURE_D", "always requires a discriminator"),
    ({"LOSS": {"TYPE": ["MAE"], "WEIGHTS": [1.0]}}, "LOSS.TYPE",
     "always requires an adversarial term"),
    ({"LOSS": {"TYPE": ["MAE", "BCE", "HINGE"], "WEIGHTS": [1.0, 1.0, 1.0]}}, "LOSS.TYPE",
     "both 'BCE' and 'HINGE'"),
    ({"TRAIN": {"OPTIMIZER": ["ADAMW"], "LR": [1.0e-4]}}, "TRAIN.OPTIMIZER",
     "2 parameter group"),
    ({"TRAIN": {"OPTIMIZER": ["ADAMW", "ADAM"], "LR": [1.0e-4]}}, "TRAIN.LR", "same length"),
    ({"TRAIN": {"OPTIMIZER": ["ADAMW", "ADAM", "SGD"], "LR": [1e-4] * 3}}, "TRAIN.OPTIMIZER",
     "two with a GAN discriminator"),
    ({"MODEL": {**GAN["MODEL"], "NAFNET": {"GENERATOR_BACKBONE": "stunet"}}},
     "MODEL.NAFNET.GENERATOR_BACKBONE", "STU-Net is not built"),
    ({"MODEL": {**GAN["MODEL"], "NAFNET": {"ARCHITECTURE_D": "stylegan"}}},
     "MODEL.NAFNET.ARCHITECTURE_D", "not one of patchgan"),
    ({"MODEL": {**GAN["MODEL"], "NAFNET": {"ENC_BLK_NUMS": [1, 1]}}},
     "MODEL.NAFNET.ENC_BLK_NUMS", "each of the 4 levels"),
    ({"DATA": {"PATCH_SIZE": [16, 16, 1]}}, "DATA.PATCH_SIZE", "at least 32"),
    ({"DATA": {"PATCH_SIZE": [64, 64, 1], "NORMALIZATION": {"TARGET": {
        "TYPE": "zero_mean_unit_variance"}}}}, "DATA.NORMALIZATION.TARGET.TYPE", "sigmoid"),
])
def test_gan_refusals_name_the_key(sections, key, words):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")) as err:
        config_from_dict(gan(**sections))
    assert words in str(err.value)


@pytest.mark.parametrize(("values", "key", "words"), [
    ({"MODEL": {"ARCHITECTURE": "unet"}, "TRAIN": {"OPTIMIZER": ["ADAMW", "ADAM"],
                                                   "LR": [1e-4, 1e-4]}},
     "TRAIN.OPTIMIZER", "Multiple optimizers"),
    ({"MODEL": {"ARCHITECTURE": "unet"}, "LOSS": {"TYPE": ["MAE", "BCE"]}}, "LOSS.TYPE",
     "adversarial term of BiaPy's GAN training"),
])
def test_gan_keys_without_nafnet_are_refused(values, key, words):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")) as err:
        config_from_dict(values)
    assert words in str(err.value)
