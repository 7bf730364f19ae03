"""Checks of NAFNet's GAN training (BiaPy's ``check_configuration``), each naming its key."""

from __future__ import annotations

import warnings

from i2i_nb.config.model import NafnetConfig
from i2i_nb.config.root import Config
from i2i_nb.config.stunet import check_stunet
from i2i_nb.config.train import ADVERSARIAL, OPTIMIZERS
from i2i_nb.errors import ConfigError

DISCRIMINATORS = ("patchgan",)  # MODEL.NAFNET.ARCHITECTURE_D
GENERATOR_BACKBONES = ("nafnet", "stunet")  # BiaPy's; stunet: the STU-Net of MODEL.STUNET
# The NAF-block keys, which the stunet backbone does not read.
NAF_BLOCK_KEYS = ("MIDDLE_BLK_NUM", "ENC_BLK_NUMS", "DEC_BLK_NUMS", "DW_EXPAND", "FFN_EXPAND")
PATCHGAN_MIN_SIZE = 32  # the PatchGAN's four halvings and last kernel-4 convolution


def _check(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{key}: {message}")


def _check_choice(value: str, choices: tuple[str, ...], key: str) -> None:
    _check(value.lower() in choices, key, f"{value!r} is not one of {', '.join(choices)}")


def check_gan(cfg: Config) -> None:
    """BiaPy's checks of NAFNet's GAN training: a discriminator, one adversarial term in
    ``LOSS.TYPE``, two optimisers (and two learning rates) only then; the generator's keys
    (``MODEL.NAFNET``'s blocks, or ``MODEL.STUNET`` with ``GENERATOR_BACKBONE`` stunet)."""
    model, disc = cfg.model, cfg.train.discriminator
    naf = model.nafnet
    if model.architecture.lower() != "nafnet":
        _check(not disc.optimizer, "TRAIN.OPTIMIZER",
               "Multiple optimizers were provided but no discriminator architecture is "
               "configured. Either set a discriminator (MODEL.ARCHITECTURE nafnet with "
               "'MODEL.NAFNET.ARCHITECTURE_D') or reduce 'TRAIN.OPTIMIZER' to a single entry "
               "(as BiaPy)")
        _check(not disc.lr, "TRAIN.LR", "'TRAIN.OPTIMIZER' and 'TRAIN.LR' must have the same "
               "length (one optimiser, two learning rates; as BiaPy)")
        return
    _check(naf.architecture_d != "", "MODEL.NAFNET.ARCHITECTURE_D",
           "'MODEL.ARCHITECTURE' is 'nafnet', which always requires a discriminator: set "
           "'MODEL.NAFNET.ARCHITECTURE_D' (patchgan), as BiaPy")
    _check_choice(naf.architecture_d, DISCRIMINATORS, "MODEL.NAFNET.ARCHITECTURE_D")
    _check_choice(naf.generator_backbone, GENERATOR_BACKBONES, "MODEL.NAFNET.GENERATOR_BACKBONE")
    naf.generator_backbone = naf.generator_backbone.lower()
    stunet = naf.generator_backbone == "stunet"
    if stunet:
        check_stunet(cfg)
        _warn_unread_blocks(naf)
    adversarial = [n for n in cfg.loss.type if n.lower() in ADVERSARIAL]
    _check(bool(adversarial), "LOSS.TYPE", "'MODEL.ARCHITECTURE' is 'nafnet', which always "
           "requires an adversarial term: include 'BCE' or 'HINGE' in 'LOSS.TYPE' (as BiaPy)")
    _check(len({n.lower() for n in adversarial}) == 1, "LOSS.TYPE",
           f"must not include both 'BCE' and 'HINGE' (as BiaPy), got {cfg.loss.type}")
    _check(len(adversarial) == 1, "LOSS.TYPE", f"names the adversarial term once, got "
           f"{cfg.loss.type}")
    _check(bool(disc.optimizer), "TRAIN.OPTIMIZER",
           "Configuration mismatch: You requested 1 optimizers, but the model has 2 parameter "
           "group(s) (the generator and its discriminator); give two, e.g. "
           "[ADAMW, ADAMW], with two TRAIN.LR (as BiaPy)")
    _check_choice(disc.optimizer, OPTIMIZERS, "TRAIN.OPTIMIZER")
    _check(disc.lr > 0, "TRAIN.LR", "'TRAIN.OPTIMIZER' and 'TRAIN.LR' must have the same length "
           "(as BiaPy): give the generator's and the discriminator's, e.g. [1.E-4, 1.E-4]")
    _check(not disc.opt_betas or (len(disc.opt_betas) == 2 and all(
        0 <= b < 1 for b in disc.opt_betas)), "TRAIN.OPT_BETAS",
        f"the discriminator's pair needs two values in [0, 1), got {disc.opt_betas}")
    _check(disc.min_lr == -1 or disc.min_lr >= 0, "TRAIN.LR_SCHEDULER.MIN_LR",
           f"the discriminator's must not be negative, got {disc.min_lr}")
    if not stunet:
        _check_naf_blocks(cfg)
    _check(naf.patchgan.base_filters >= 1, "MODEL.NAFNET.PATCHGAN.BASE_FILTERS",
           "must be at least 1")
    acts = [a.lower() for a in cfg.problem.image_to_image.output_channel_act]
    target = cfg.data.normalization.target.type.lower()
    sigmoid = "the STU-Net generator's output ends in BiaPy's sigmoid (whatever " \
        "OUTPUT_CHANNEL_ACT follows)" if stunet else "nafnet's output ends in BiaPy's sigmoid"
    _check(not (stunet or all(a in ("linear", "none") for a in acts))
           or target not in ("zero_mean_unit_variance", "none"), "DATA.NORMALIZATION.TARGET.TYPE",
           f"{sigmoid}, in (0, 1), which {target!r} targets leave (negative or raw values); use "
           "percentile (the default), scale_range or div")
    _check(min(cfg.patch_shape) >= PATCHGAN_MIN_SIZE, "DATA.PATCH_SIZE",
           f"the PatchGAN discriminator halves the patch four times and needs at least "
           f"{PATCHGAN_MIN_SIZE} pixels along every axis, got {cfg.patch_shape}")


def _warn_unread_blocks(naf: NafnetConfig) -> None:
    """BiaPy builds the stunet generator without the NAF-block keys: a warning for each set."""
    default = NafnetConfig()
    for key in NAF_BLOCK_KEYS:
        if getattr(naf, key.lower()) != getattr(default, key.lower()):
            warnings.warn(f"MODEL.NAFNET.{key} has no effect with MODEL.NAFNET.GENERATOR_BACKBONE "
                          "stunet: the generator is the STU-Net of MODEL.STUNET, as in BiaPy",
                          stacklevel=4)


def _check_naf_blocks(cfg: Config) -> None:
    """The NAF-block keys of the nafnet generator."""
    model, naf = cfg.model, cfg.model.nafnet
    depth = len(model.feature_maps) - 1
    for key in ("ENC_BLK_NUMS", "DEC_BLK_NUMS"):
        values = getattr(naf, key.lower())
        _check(len(values) >= depth and all(n >= 0 for n in values), f"MODEL.NAFNET.{key}",
               f"needs a block count >= 0 for each of the {depth} levels of MODEL.FEATURE_MAPS "
               f"{model.feature_maps} (extra entries are unused, as in BiaPy), got {values}")
    _check(naf.middle_blk_num >= 0, "MODEL.NAFNET.MIDDLE_BLK_NUM", "must not be negative")
    for key in ("DW_EXPAND", "FFN_EXPAND"):
        _check(getattr(naf, key.lower()) >= 1, f"MODEL.NAFNET.{key}", "must be at least 1")
