"""MODEL.* keys and the multi-head keys: accepted as BiaPy accepts them, refused naming the key."""

import pytest

from i2i_nb.config import config_from_dict
from i2i_nb.config.validate_model import ARCHITECTURES, NOT_BUILT
from i2i_nb.errors import ConfigError
from i2i_nb.model_spec import model_spec


def cfg(model=None, ndim=2, i2i=None):
    return config_from_dict({"PROBLEM": {"NDIM": f"{ndim}D", "IMAGE_TO_IMAGE": i2i or {}},
                             "MODEL": model or {},
                             "DATA": {"PATCH_SIZE": [16, 16] if ndim == 2 else [8, 16, 16]}})


def test_biapy_defaults_for_the_new_keys_are_accepted():
    c = cfg({"KERNEL_SIZE": 3, "UPSAMPLE_LAYER": "convtranspose", "ACTIVATION": "ELU",
             "ISOTROPY": [True] * 5, "LARGER_IO": False, "CONV_LAYERS": [2, 2, 2, 2, 2],
             "YX_DOWN": [0, 0, 0, 0], "RCAN_RG_BLOCK_NUM": 10})
    spec = model_spec(c, 1, 1)
    assert spec.isotropy == [] and spec.conv_layers == [2] * 4 and spec.yx_down == []
    assert spec.activation == "elu" and spec.feature_maps == [32, 64, 128, 256]


def test_keys_reach_the_network():
    c = cfg({"ARCHITECTURE": "rcan", "KERNEL_SIZE": 5, "RCAN_CONV_FILTERS": 8,
             "RCAN_RG_BLOCK_NUM": 2, "RCAN_RCAB_BLOCK_NUM": 3, "RCAN_REDUCTION_RATIO": 4,
             "ISOTROPY": [False, True, True, True], "CONV_LAYERS": [3], "NORMALIZATION": "ln"},
            ndim=3, i2i={"CHANNELS_PER_HEAD_INFO": [1, 2], "SEPARATED_DECODERS_PER_HEAD": False,
                         "SEPARATED_DECODERS_DIVIDE_FEATURE_MAPS": True})
    spec = model_spec(c, 1, 3)
    assert (spec.kernel_size, spec.rcan_conv_filters, spec.rcan_rg_block_num) == (5, 8, 2)
    assert spec.rcan_rcab_block_num == 3 and spec.rcan_reduction_ratio == 4
    assert spec.isotropy == [False, True, True, True] and spec.conv_layers == [3] * 4
    assert spec.heads == [1, 2] and not spec.divide_feature_maps  # one decoder: BiaPy's reset
    assert spec.normalization == "ln"


@pytest.mark.parametrize("norm", ["bn", "sync_bn", "in", "gn", "ln", "none"])
def test_model_normalizations(norm):
    assert cfg({"NORMALIZATION": norm}).model.normalization == norm


@pytest.mark.parametrize(("model", "ndim", "i2i", "key"), [
    ({"ARCHITECTURE": "vit"}, 2, None, "MODEL.ARCHITECTURE"),  # not image-to-image
    ({"ARCHITECTURE": "wdsr"}, 3, None, "MODEL.ARCHITECTURE"),
    ({"KERNEL_SIZE": 4}, 2, None, "MODEL.KERNEL_SIZE"),
    ({"UPSAMPLE_LAYER": "pixelshuffle"}, 2, None, "MODEL.UPSAMPLE_LAYER"),
    ({"ACTIVATION": "swish"}, 2, None, "MODEL.ACTIVATION"),
    ({"CONV_LAYERS": [1, 2, 3]}, 2, None, "MODEL.CONV_LAYERS"),
    ({"CONV_LAYERS": [0]}, 2, None, "MODEL.CONV_LAYERS"),
    ({"ISOTROPY": [True, False]}, 3, None, "MODEL.ISOTROPY"),
    ({"YX_DOWN": [2, 3, 2]}, 2, None, "MODEL.YX_DOWN"),
    ({"RCAN_CONV_FILTERS": 0}, 2, None, "MODEL.RCAN_CONV_FILTERS"),
    ({"ARCHITECTURE": "rcan"}, 2, {"SEPARATED_DECODERS_PER_HEAD": True},
     "PROBLEM.IMAGE_TO_IMAGE.SEPARATED_DECODERS_PER_HEAD"),
    ({}, 2, {"CHANNELS_PER_HEAD_INFO": [1, 1], "OUTPUT_CHANNELS": 3},
     "PROBLEM.IMAGE_TO_IMAGE.CHANNELS_PER_HEAD_INFO"),
])
def test_refusals_name_the_key(model, ndim, i2i, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        cfg(model, ndim, i2i)


# BiaPy 3.7.1's image-to-image architectures (engine/check_configuration.py)
BIAPY_IMAGE_TO_IMAGE = ("edsr", "rcan", "dfcan", "wdsr", "unet", "resunet", "resunet++",
                        "resunet_se", "seunet", "attention_unet", "unetr", "multiresunet",
                        "unext_v1", "unext_v2", "hrnet", "stunet", "nafnet")


def test_every_biapy_image_to_image_network_is_built():
    assert set(BIAPY_IMAGE_TO_IMAGE) <= set(ARCHITECTURES) and not NOT_BUILT


def test_heads_must_match_the_targets():
    c = cfg(i2i={"CHANNELS_PER_HEAD_INFO": [1, 1]})
    with pytest.raises(ConfigError, match="CHANNELS_PER_HEAD_INFO"):
        model_spec(c, 1, 3)
