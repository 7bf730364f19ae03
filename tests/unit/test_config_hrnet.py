"""MODEL.HRNET: BiaPy's keys reach the network, bad values are refused naming the key, and
BiaPy's old HRNet forms are converted."""

import pytest
import torch

from i2i_nb.config import config_from_dict
from i2i_nb.errors import ConfigError
from i2i_nb.model_spec import model_spec
from i2i_nb.models import build_model, count_parameters

CUSTOM = {"VARIANT": "custom", "NUM_STAGES": 2, "NUM_MODULES": [1, 1], "NUM_BRANCHES": [2, 3],
          "NUM_BLOCKS": [[1, 1], [1, 1, 1]], "NUM_CHANNELS": [[4, 8], [4, 8, 16]]}


def cfg(model=None, ndim=2):
    return config_from_dict({"PROBLEM": {"NDIM": f"{ndim}D"}, "MODEL": model or {},
                             "DATA": {"PATCH_SIZE": [64, 64] if ndim == 2 else [8, 64, 64]}})


def test_biapy_defaults_build_biapy_w48():
    spec = model_spec(cfg({"ARCHITECTURE": "hrnet", "NORMALIZATION": "bn",
                           "HRNET": {"Z_DOWN": [0, 0, 0], "YX_DOWN": [0, 0, 0]}}, 3), 1, 1)
    assert spec.hrnet.variant == "W48" and spec.hrnet.z_down == [] == spec.hrnet.yx_down
    with torch.device("meta"):
        assert count_parameters(build_model(spec)) == 194299153  # BiaPy 3.7.1's count


def test_keys_reach_the_network():
    hr = {**CUSTOM, "BLOCK_TYPE": "bottleneck", "HEAD_TYPE": "aspp", "Z_DOWN": [2, 1],
          "YX_DOWN": [2, 1]}
    spec = model_spec(cfg({"ARCHITECTURE": "hrnet", "ACTIVATION": "silu", "HRNET": hr}, 3), 1, 2)
    h = spec.hrnet
    assert (h.block_type, h.head_type, h.z_down, h.num_channels[1]) == (
        "BOTTLENECK", "ASPP", [2, 1], [4, 8, 16])
    model = build_model(spec)
    assert model.divisor == (8, 8, 8)
    assert isinstance(model.stages[0][0].act, torch.nn.SiLU)
    assert model(torch.randn(1, 1, 8, 16, 16)).shape == (1, 2, 8, 16, 16)


@pytest.mark.parametrize(("hrnet", "ndim", "key"), [
    ({"VARIANT": "W40"}, 2, "MODEL.HRNET.VARIANT"),
    ({"BLOCK_TYPE": "RESNET"}, 2, "MODEL.HRNET.BLOCK_TYPE"),
    ({"HEAD_TYPE": "OCR"}, 3, "MODEL.HRNET.HEAD_TYPE"),
    ({"Z_DOWN": [2, 2]}, 3, "MODEL.HRNET.Z_DOWN"),
    ({"YX_DOWN": [2, 3, 2]}, 2, "MODEL.HRNET.YX_DOWN"),
    ({**CUSTOM, "NUM_MODULES": [1, 1, 1]}, 2, "MODEL.HRNET.NUM_MODULES"),
    ({**CUSTOM, "NUM_BRANCHES": [3, 2]}, 2, "MODEL.HRNET.NUM_BRANCHES"),
    ({**CUSTOM, "NUM_BLOCKS": [[1, 1], [1, 1]]}, 2, "MODEL.HRNET.NUM_BLOCKS"),
    ({**CUSTOM, "NUM_CHANNELS": [[4], [4, 8, 16]]}, 2, "MODEL.HRNET.NUM_CHANNELS"),
    ({**CUSTOM, "YX_DOWN": [2, 2, 2]}, 2, "MODEL.HRNET.YX_DOWN"),
])
def test_refusals_name_the_key(hrnet, ndim, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        cfg({"ARCHITECTURE": "hrnet", "HRNET": hrnet}, ndim)


def test_other_networks_ignore_the_section():
    spec = model_spec(cfg({"HRNET": {"VARIANT": "W40"}}), 1, 1)
    assert spec.architecture == "unet" and spec.hrnet.variant == "W48"


def test_old_hrnet_forms_are_converted():
    old = {"ARCHITECTURE": "hrnet32",
           "HRNET_32": {"CUSTOM": True, "Z_DOWN": True,
                        "STAGE2": {"NUM_MODULES": 1, "NUM_BRANCHES": 2, "NUM_BLOCKS": [2, 2],
                                   "NUM_CHANNELS": [8, 16]}}}
    c = cfg(old, 3)
    h = c.model.hrnet
    assert c.model.architecture == "hrnet" and h.variant == "custom" and h.z_down == [2]
    assert (h.num_stages, h.num_blocks, h.num_channels) == (1, [[2, 2]], [[8, 16]])
    named = cfg({"ARCHITECTURE": "hrnet18"})
    assert named.model.architecture == "hrnet" and named.model.hrnet.variant == "W18"
