"""The checks of ``MODEL.ARCHITECTURE: unetr``: BiaPy's (check_configuration and the
model's own) and what a network with a fixed input size cannot do here."""

from __future__ import annotations

from i2i_nb.config.model import UNETR_VIT_MODELS
from i2i_nb.config.root import Config
from i2i_nb.errors import ConfigError


def _check(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{key}: {message}")


def check_unetr(cfg: Config) -> None:
    """BiaPy's checks of ``unetr`` (check_configuration and the model's own), and what a
    network with a fixed input size cannot do here."""
    model = cfg.model
    name = model.unetr_vit_model.lower()
    _check(name != "sam3_vit", "MODEL.UNETR_VIT_MODEL",
           "'sam3_vit' (SAM 3's image encoder: rotary position embeddings, windowed "
           "attention) is built in BiaPy to load its pretrained weights "
           "(MODEL.VIT_PRETRAINED_WEIGHTS), downloaded at run time, which i2i_nb never does; "
           f"it is not built here. Choose custom or one of {', '.join(UNETR_VIT_MODELS)}")
    valid = ("custom", *UNETR_VIT_MODELS)
    _check(name in valid, "MODEL.UNETR_VIT_MODEL", f"{name!r} is not one of {', '.join(valid)}")
    custom = name == "custom"
    token, embed, depth, heads, ratio = UNETR_VIT_MODELS.get(name) or (
        model.vit_token_size, model.vit_embed_dim, model.vit_num_layers, model.vit_num_heads,
        model.vit_mlp_ratio)
    _check(token >= 2 and not token & (token - 1),
           "MODEL.VIT_TOKEN_SIZE" if custom else "MODEL.UNETR_VIT_MODEL",
           f"UNETR's token size must be a power of two above one, as its decoder up-samples "
           f"by 2 per level; got {token}" + ("" if custom else
           f" (set by {name!r}; choose 'custom' to set MODEL.VIT_TOKEN_SIZE)"))
    for key, value in (("VIT_EMBED_DIM", embed), ("VIT_NUM_LAYERS", depth),
                       ("VIT_NUM_HEADS", heads), ("UNETR_VIT_NUM_FILTERS",
                                                  model.unetr_vit_num_filters)):
        _check(value >= 1, f"MODEL.{key}", f"must be at least 1, got {value}")
    _check(ratio > 0, "MODEL.VIT_MLP_RATIO", f"must be positive, got {ratio}")
    _check(embed % heads == 0, "MODEL.VIT_EMBED_DIM",
           f"{embed} must be divisible by MODEL.VIT_NUM_HEADS ({heads})")
    levels, mult = token.bit_length() - 1, model.unetr_vit_hidd_mult
    if mult > 0:
        _check(mult * (levels - 1) <= depth, "MODEL.UNETR_VIT_HIDD_MULT",
               f"{mult} takes UNETR's skip connections from the transformer blocks "
               f"{[mult * i for i in range(1, levels)]}, but MODEL.VIT_NUM_LAYERS is {depth}; "
               f"use {max(1, depth // levels)} or less, or -1 to space them evenly")
    else:
        _check(depth >= levels - 1, "MODEL.VIT_NUM_LAYERS",
               f"a token size of {token} gives {levels} decoder levels, whose skip "
               f"connections need {levels - 1} transformer blocks or more; got {depth}")
    patch = cfg.patch_shape
    _check(all(p % token == 0 for p in patch), "DATA.PATCH_SIZE",
           f"unetr's input, {patch}, must be a multiple of the token size {token} per axis")
    drops = model.dropout_values
    _check(len(set(drops)) <= 1, "MODEL.DROPOUT_VALUES",
           f"unetr takes one value (as BiaPy), got {drops}")
    model.dropout_values = [drops[0] if drops else 0.0]
    _check(not cfg.test.full_img, "TEST.FULL_IMG", "unetr takes inputs of its DATA.PATCH_SIZE "
           "only, so images are predicted tile by tile at that size; set it to False")
    tile = tuple(cfg.data.test.tile_shape)
    _check(not tile or tile == patch, "DATA.TEST.TILE_SHAPE", f"unetr takes inputs of its "
           f"DATA.PATCH_SIZE {patch} only; leave it empty (tiles of that size), got {tile}")
    _check(not model.bmz.export.enable, "MODEL.BMZ.EXPORT.ENABLE", "the BioImage Model Zoo "
           "package of a network with a fixed input size (unetr) is not built in i2i_nb")
