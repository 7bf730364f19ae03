"""NAFNet's GAN keys: BiaPy-style configs accepted, BiaPy's refusals naming the key."""

import pytest

from i2i_nb.config import config_from_dict, save_config
from i2i_nb.config.gan import GENERATOR_BACKBONES as CONFIG_BACKBONES
from i2i_nb.config.yaml_io import load_config
from i2i_nb.errors import ConfigError
from i2i_nb.model_spec import model_spec
from i2i_nb.models import build_model
from i2i_nb.models.factory import GENERATOR_BACKBONES
from i2i_nb.models.patchgan import build_discriminator

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


STUNET_GAN = {"VARIANT": "custom", "DEPTH": [1, 2], "DIMS": [4, 8],
              "POOL_OP_KERNEL_SIZES": [[2, 2]], "CONV_KERNEL_SIZES": [[3, 3], [5, 3]]}


def test_stunet_backbone_is_accepted_and_reaches_the_network():
    """BiaPy's GENERATOR_BACKBONE stunet: MODEL.STUNET sizes the generator, which always ends
    in the sigmoid (OUTPUT_CHANNEL_ACT follows it); the NAF-block keys are not read."""
    values = gan(MODEL={"ARCHITECTURE": "nafnet", "NAFNET": {
        "GENERATOR_BACKBONE": "STUNet", "PATCHGAN": {"BASE_FILTERS": 8}}, "STUNET": STUNET_GAN},
        PROBLEM={"NDIM": "2D", "IMAGE_TO_IMAGE": {"OUTPUT_CHANNEL_ACT": ["relu"]}})
    cfg = config_from_dict(values)
    spec = model_spec(cfg, 1, 1)
    assert (spec.architecture, spec.nafnet_generator_backbone) == ("nafnet", "stunet")
    assert (spec.stunet_variant, spec.stunet_dims, spec.stunet_depth) == ("custom", [4, 8],
                                                                          [1, 2])
    assert spec.nafnet_output_sigmoid and spec.nafnet_patchgan_base_filters == 8
    model = build_model(spec)
    assert type(model).__name__ == "StunetGenerator" and model.divisor == (2, 2)
    assert model.generator.encoders[1][0].conv1.kernel_size == (5, 3)
    assert len(model.generator.encoders[1]) == 2
    assert build_discriminator(spec).model[0].out_channels == 8


def test_every_backbone_the_config_accepts_is_built():
    assert set(CONFIG_BACKBONES) == set(GENERATOR_BACKBONES)


def test_stunet_backbone_warns_of_the_naf_block_keys_it_does_not_read():
    with pytest.warns(UserWarning, match="has no effect") as record:
        config_from_dict(gan(MODEL={**GAN["MODEL"], "NAFNET": {
            **GAN["MODEL"]["NAFNET"], "GENERATOR_BACKBONE": "stunet", "ENC_BLK_NUMS": [1]}}))
    warned = {str(w.message).split()[0] for w in record}
    assert warned == {f"MODEL.NAFNET.{key}" for key in (
        "MIDDLE_BLK_NUM", "ENC_BLK_NUMS", "DEC_BLK_NUMS", "FFN_EXPAND")}  # DW_EXPAND: default


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
    ({"MODEL": {**GAN["MODEL"], "NAFNET": {"GENERATOR_BACKBONE": "unet"}}},
     "MODEL.NAFNET.GENERATOR_BACKBONE", "not one of nafnet, stunet"),
    ({"MODEL": {**GAN["MODEL"], "NAFNET": {"GENERATOR_BACKBONE": "stunet"},
                "STUNET": {"VARIANT": "custom", "DIMS": [4, 8], "DEPTH": [1]}}},
     "MODEL.STUNET.DEPTH", "needs 2 entries"),
    ({"MODEL": {**GAN["MODEL"], "NAFNET": {"GENERATOR_BACKBONE": "stunet"},
                "STUNET": {"PRETRAINED": True}}}, "MODEL.STUNET.PRETRAINED", "downloads"),
    ({"PROBLEM": {"NDIM": "2D", "IMAGE_TO_IMAGE": {"OUTPUT_CHANNEL_ACT": ["relu"]}},
      "MODEL": {**GAN["MODEL"], "NAFNET": {"GENERATOR_BACKBONE": "stunet"}},
      "DATA": {"PATCH_SIZE": [64, 64, 1], "NORMALIZATION": {"TARGET": {"TYPE": "none"}}}},
     "DATA.NORMALIZATION.TARGET.TYPE", "STU-Net generator's output ends in BiaPy's sigmoid"),
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
