"""UNETR: BiaPy's own network (weights and output), its MODEL keys, their refusals, and
tiling at its fixed input size."""

import re
from pathlib import Path

import pytest
import torch

from i2i_nb.config import config_from_dict
from i2i_nb.errors import ConfigError
from i2i_nb.inference import tile_settings
from i2i_nb.model_spec import model_spec
from i2i_nb.models import build_model

DATA = Path(__file__).parent / "data"


def _from_biapy(name: str, levels: int) -> str | None:
    """The name here of a tensor of BiaPy's UNETR state dict (None: its unused position
    embedding)."""
    if name == "pos_embed":
        return None
    for old, new in (("patch_embed.proj.", "patch_embed."), ("attn.qkv.", "self_attn.in_proj_"),
                     ("attn.proj.", "self_attn.out_proj."), ("mlp.fc1.", "linear1."),
                     ("mlp.fc2.", "linear2."), ("mid_blue_block.", "skips."),
                     ("up_green_layers.", "ups.")):
        name = name.replace(old, new)
    name = re.sub(r"\.block\.(\d+)\.block\.", r".\1.", name)  # double blocks
    name = re.sub(r"\.block\.", ".0.", name)  # single blocks
    match = re.match(r"two_yellow_layers\.(\d+)\.(.*)", name)
    if match:
        i = int(match.group(1))
        owner = f"merges.{i}" if i < levels - 1 else ("input_block" if i == levels - 1
                                                       else "output_block")
        name = f"{owner}.{match.group(2)}"
    return name


@pytest.mark.parametrize("ndim", [2, 3])
def test_equals_biapy_with_its_weights(ndim):
    """BiaPy 3.7.1's UNETR (tests/unit/data/make_biapy_unetr.py) and this one, given the same
    weights, give the same output."""
    case = torch.load(DATA / "biapy_unetr.pt", weights_only=True)[ndim]
    sizes, x = case["sizes"], case["x"]
    model = build_model(
        "unetr", ndim, x.shape[1], case["y"].shape[1], input_shape=list(x.shape[2:]),
        vit_token_size=sizes["patch_size"], vit_embed_dim=sizes["embed_dim"],
        vit_num_layers=sizes["depth"], vit_num_heads=sizes["num_heads"],
        vit_mlp_ratio=sizes["mlp_ratio"], unetr_vit_num_filters=sizes["num_filters"],
        unetr_vit_hidd_mult=sizes["ViT_hidd_mult"], activation=sizes["decoder_activation"],
        normalization=sizes["normalization"], kernel_size=sizes["k_size"]).eval()
    levels = model.vit.levels
    state = {_from_biapy(k, levels): v for k, v in case["state"].items()}
    state.pop(None)
    model.load_state_dict(state)
    with torch.no_grad():
        assert float((model(x) - case["y"]).abs().max()) < 1e-5


def cfg(model=None, ndim=2, data=None, test=None):
    data = {"PATCH_SIZE": [32, 32, 1] if ndim == 2 else [16, 32, 32, 1], **(data or {})}
    return config_from_dict({"PROBLEM": {"NDIM": f"{ndim}D"}, "DATA": data,
                             "MODEL": {"ARCHITECTURE": "unetr", **(model or {})},
                             "TEST": test or {}})


def test_keys_reach_the_network():
    """The LightMyCells configs' keys (BiaPy's old UNETR_DEC_* names included)."""
    c = cfg({"VIT_TOKEN_SIZE": 8, "VIT_EMBED_DIM": 16, "VIT_NUM_LAYERS": 6,
             "VIT_NUM_HEADS": 4, "VIT_MLP_RATIO": 2.0, "VIT_NORM_EPS": 1e-6,
             "UNETR_VIT_HIDD_MULT": 2, "UNETR_VIT_NUM_FILTERS": 4,
             "UNETR_DEC_ACTIVATION": "relu", "UNETR_DEC_KERNEL_SIZE": 5})
    model = build_model(model_spec(c, 1, 1))
    assert model.fixed_shape == (32, 32) and model.divisor == (8, 8)
    assert model.vit.skip_blocks == [2, 4] and len(model.blocks) == 6
    block = model.blocks[0]
    assert block.self_attn.num_heads == 4 and block.linear1.out_features == 32
    assert model.patch_embed.kernel_size == (8, 8) and model.heads[0].in_channels == 4
    assert model.merges[0][0][0].kernel_size == (5, 5)
    assert isinstance(model.merges[0][0][2], torch.nn.ReLU)
    assert model.bottleneck.out_channels == 4 * 2 ** 2


def test_hidd_mult_minus_one_spaces_the_skips_evenly():
    c = cfg({"VIT_TOKEN_SIZE": 16, "VIT_EMBED_DIM": 8, "VIT_NUM_LAYERS": 12,
             "VIT_NUM_HEADS": 2}, ndim=3, data={"PATCH_SIZE": [16, 32, 32, 1]})
    model = build_model(model_spec(c, 1, 1))
    assert model.vit.skip_blocks == [3, 6, 9] and model.fixed_shape == (16, 32, 32)


def test_named_backbones_are_built_by_their_sizes():
    spec = model_spec(cfg({"UNETR_VIT_MODEL": "vit_large_patch16", "VIT_TOKEN_SIZE": 4}), 1, 1)
    assert (spec.vit_token_size, spec.vit_embed_dim, spec.vit_num_layers,
            spec.vit_num_heads) == (16, 1024, 24, 16)


@pytest.mark.parametrize(("model", "data", "test", "key", "why"), [
    ({"UNETR_VIT_MODEL": "sam3_vit"}, None, None, "MODEL.UNETR_VIT_MODEL", "downloaded"),
    ({"UNETR_VIT_MODEL": "vit_huge_patch14"}, None, None, "MODEL.UNETR_VIT_MODEL",
     "power of two"),
    ({"UNETR_VIT_MODEL": "vit_tiny"}, None, None, "MODEL.UNETR_VIT_MODEL", "not one of"),
    ({"VIT_PRETRAINED_WEIGHTS": "facebook/sam3"}, None, None, "MODEL.VIT_PRETRAINED_WEIGHTS",
     "downloaded"),
    ({"VIT_TOKEN_SIZE": 12}, None, None, "MODEL.VIT_TOKEN_SIZE", "power of two"),
    ({"VIT_NUM_HEADS": 5}, None, None, "MODEL.VIT_EMBED_DIM", "divisible"),
    ({"UNETR_VIT_HIDD_MULT": 5}, None, None, "MODEL.UNETR_VIT_HIDD_MULT", "blocks"),
    ({"VIT_NUM_LAYERS": 2, "VIT_TOKEN_SIZE": 32}, None, None, "MODEL.VIT_NUM_LAYERS",
     "4 transformer blocks"),
    ({"UNETR_VIT_NUM_FILTERS": 0}, None, None, "MODEL.UNETR_VIT_NUM_FILTERS", "at least 1"),
    ({"DROPOUT_VALUES": [0.1, 0.2]}, None, None, "MODEL.DROPOUT_VALUES", "one value"),
    ({}, {"PATCH_SIZE": [40, 40, 1]}, None, "DATA.PATCH_SIZE", "multiple of the token"),
    ({}, None, {"FULL_IMG": True}, "TEST.FULL_IMG", "tile by tile"),
    ({}, {"TEST": {"TILE_SHAPE": [64, 64]}}, None, "DATA.TEST.TILE_SHAPE", "PATCH_SIZE"),
    ({"BMZ": {"EXPORT": {"ENABLE": True}}}, None, None, "MODEL.BMZ.EXPORT.ENABLE",
     "fixed input size"),
])
def test_refusals_name_the_key(model, data, test, key, why):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.") + ".*" + why):
        cfg(model, data=data, test=test)


def test_one_dropout_value():
    assert cfg({"DROPOUT_VALUES": [0.0, 0.0, 0.0]}).model.dropout_values == [0.0]
    assert model_spec(cfg({"DROPOUT_VALUES": [0.2]}), 1, 1).dropout == 0.2


def test_tiles_at_the_fixed_shape():
    """Whatever the test keys ask for, a fixed-size network is tiled at its size; an
    overlap given as a fraction is a fraction of that tile."""
    assert tile_settings((), (0.5, 0.25), (), (32, 32), True, (32, 32)) == ((32, 32), (16, 8))
    assert tile_settings((64, 64), (), (4, 4), (32, 32), False, (32, 32)) == ((32, 32), (8, 8))
    assert tile_settings((), (), (), (32, 32), True) == (None, None)
