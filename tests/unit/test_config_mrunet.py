"""MODEL keys of resunet++ and multiresunet: read as BiaPy's builders read them."""

import warnings

import pytest

from i2i_nb.config import config_from_dict
from i2i_nb.errors import ConfigError
from i2i_nb.model_spec import model_spec
from i2i_nb.models import build_model
from i2i_nb.models.multiresunet import BIAPY_FEATURE_MAPS


def cfg(model, ndim=2, i2i=None):
    return config_from_dict({"PROBLEM": {"NDIM": f"{ndim}D", "IMAGE_TO_IMAGE": i2i or {}},
                             "MODEL": model,
                             "DATA": {"PATCH_SIZE": [16, 16] if ndim == 2 else [8, 16, 16]}})


def test_multiresunet_has_biapys_fixed_layout_and_warns_about_unread_keys():
    with pytest.warns(UserWarning, match=r"MODEL\.FEATURE_MAPS, MODEL\.DROPOUT_VALUES, "
                                         r"MODEL\.NORMALIZATION: BiaPy's multiresunet"):
        c = cfg({"ARCHITECTURE": "multiresunet", "FEATURE_MAPS": [4, 8, 16],
                 "DROPOUT_VALUES": [0.0] * 3, "NORMALIZATION": "in", "Z_DOWN": [1, 2, 1, 1]},
                ndim=3)
    spec = model_spec(c, 1, 1)
    assert spec.feature_maps == list(BIAPY_FEATURE_MAPS) and spec.normalization == "bn"
    assert spec.z_down == [1, 2, 1, 1] and spec.activation == "relu"
    assert build_model(spec).divisor == (2, 16, 16)


def test_multiresunet_default_config_is_biapys_network_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = cfg({"ARCHITECTURE": "multiresunet"}, ndim=3)
    spec = model_spec(c, 1, 1)
    assert spec.z_down == [2, 1, 1, 1]  # z pooled while the 8-slice patch keeps 4
    assert spec.yx_down == [] and spec.heads == []


@pytest.mark.parametrize(("model", "ndim", "i2i", "key"), [
    ({"ARCHITECTURE": "multiresunet", "Z_DOWN": [2, 2, 2]}, 3, None, "MODEL.Z_DOWN"),
    ({"ARCHITECTURE": "multiresunet", "YX_DOWN": [2, 2, 2]}, 2, None, "MODEL.YX_DOWN"),
    ({"ARCHITECTURE": "multiresunet"}, 2, {"SEPARATED_DECODERS_PER_HEAD": True},
     "PROBLEM.IMAGE_TO_IMAGE.SEPARATED_DECODERS_PER_HEAD"),
    ({"ARCHITECTURE": "resunet++", "FEATURE_MAPS": [8, 16]}, 2, None, "MODEL.FEATURE_MAPS"),
    ({"ARCHITECTURE": "resunet++", "FEATURE_MAPS": [4, 8, 16, 32], "Z_DOWN": [2, 2]}, 3, None,
     "MODEL.Z_DOWN"),
])
def test_refusals_name_the_key(model, ndim, i2i, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        cfg(model, ndim, i2i)


def test_resunet_pp_reads_the_u_net_keys():
    c = cfg({"ARCHITECTURE": "resunet++", "FEATURE_MAPS": [4, 8, 16, 32], "KERNEL_SIZE": 5,
             "LARGER_IO": True, "ISOTROPY": [False, True, True, True],
             "CONV_LAYERS": [1, 2, 3, 1], "DROPOUT_VALUES": [0.1, 0.2, 0.3, 0.0],
             "UPSAMPLE_LAYER": "upsampling",
             "ACTIVATION": "relu", "NORMALIZATION": "gn"}, ndim=3,
            i2i={"CHANNELS_PER_HEAD_INFO": [1, 2], "SEPARATED_DECODERS_PER_HEAD": True,
                 "SEPARATED_DECODERS_DIVIDE_FEATURE_MAPS": True})
    spec = model_spec(c, 1, 3)
    assert spec.z_down == [1, 2, 1]  # no pooling after the first level; auto for the rest
    model = build_model(spec)
    assert model.divisor == (2, 4, 4) and len(model.decoders) == 2
    assert model.conv_in[0][0].kernel_size == (1, 7, 7)
    assert model.encoders[1].body[2][0][0].kernel_size == (1, 5, 5)  # ISOTROPY[0], as BiaPy
    assert model.encoders[1].shortcut[0].kernel_size == (1, 5, 5)
    assert model.encoders[2].body[2][0][0].kernel_size == (5, 5, 5)


def test_resunet_pp_warns_that_the_first_down_sampling_has_no_effect():
    with pytest.warns(UserWarning, match=r"MODEL\.Z_DOWN: resunet\+\+ keeps its first two"):
        cfg({"ARCHITECTURE": "resunet++", "Z_DOWN": [1, 2, 2]}, ndim=3)
