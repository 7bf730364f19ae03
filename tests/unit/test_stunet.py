"""STU-Net: BiaPy's outputs, its variants and MODEL.STUNET keys, refusals naming the key."""

from pathlib import Path

import pytest
import torch
import yaml

from i2i_nb.cli import main
from i2i_nb.config import config_from_dict
from i2i_nb.errors import ConfigError
from i2i_nb.model_spec import model_spec
from i2i_nb.models import build_model, count_parameters
from i2i_nb.models.stunet import build_stunet, stunet_layout
from tests.integration.conftest import write_pairs

CUSTOM_2D = {"VARIANT": "custom", "DEPTH": [1, 2, 1], "DIMS": [4, 8, 8],
             "POOL_OP_KERNEL_SIZES": [[2, 2], [1, 2]],
             "CONV_KERNEL_SIZES": [[3, 3], [5, 3], [1, 3]]}


def cfg(stunet=None, ndim=2, **model):
    return config_from_dict({"PROBLEM": {"NDIM": f"{ndim}D"},
                             "MODEL": {"ARCHITECTURE": "stunet", "STUNET": stunet or {}, **model},
                             "DATA": {"PATCH_SIZE": [16, 16] if ndim == 2 else [16, 16, 16]}})


def test_outputs_equal_biapy_with_its_weights():
    """BiaPy 3.7.1's STUNet with random weights (data/make_stunet_biapy.py), loaded here by
    state-dict order: the same layers, the same output."""
    saved = torch.load(Path(__file__).parent / "data" / "stunet_biapy.pt", weights_only=True)
    models = {"2d": build_stunet(2, 2, [1, 2], "custom", [1, 2, 1], [4, 8, 8],
                                 [[2, 2], [1, 2]], [[3, 3], [5, 3], [1, 3]]),
              "3d": build_stunet(3, 1, 2, "custom", [2, 1], [4, 6], [[1, 2, 2]],
                                 [[1, 3, 3], [3, 3, 3]])}
    for name, model in models.items():
        own = model.state_dict()
        model.load_state_dict(dict(zip(own, saved[name]["state"], strict=True)))
        with torch.no_grad():
            y = model.eval()(saved[name]["x"])
        assert torch.allclose(y, saved[name]["y"], atol=1e-6)


# BiaPy 3.7.1's counts (its build_stunet, 1 -> 1 channel); base is in test_models.py.
@pytest.mark.parametrize(("variant", "ndim", "count"), [
    ("small", 2, 5116099), ("small", 3, 14544355), ("large", 2, 150931459),
    ("large", 3, 440093827)])
def test_variants_have_biapy_sizes(variant, ndim, count):
    with torch.device("meta"):
        model = build_model("stunet", ndim, 1, 1, stunet_variant=variant)
    assert count_parameters(model) == count and model.divisor == (16,) * ndim


def test_keys_reach_the_network():
    spec = model_spec(cfg(CUSTOM_2D), 2, 3)
    assert spec.stunet_variant == "custom" and spec.stunet_dims == [4, 8, 8]
    assert spec.stunet_pool_op_kernel_sizes == [[2, 2], [1, 2]]
    model = build_model(spec)
    assert model.divisor == (2, 4) and model.encoders[1][0].conv1.kernel_size == (5, 3)
    assert model.encoders[2][0].conv1.stride == (1, 2) and len(model.encoders[1]) == 2
    assert count_parameters(model) == count_parameters(
        build_stunet(2, 2, 3, "custom", [1, 2, 1], [4, 8, 8], [[2, 2], [1, 2]],
                     [[3, 3], [5, 3], [1, 3]]))
    with torch.no_grad():
        assert model(torch.randn(1, 2, 8, 12)).shape == (1, 3, 8, 12)
    assert model.last_layer() is model.heads[-1].weight
    flat = build_model(model_spec(cfg({**CUSTOM_2D, "POOL_OP_KERNEL_SIZES": [[1, 2, 2]],
                                       "CONV_KERNEL_SIZES": [[1, 3, 3], [3, 3, 3]],
                                       "DEPTH": [1, 1], "DIMS": [4, 8]}, ndim=3), 1, 1))
    assert flat.divisor == (1, 2, 2) and flat.halo[0] < flat.halo[1] == flat.halo[2]


def test_presets_ignore_the_lists_as_biapy():
    spec = model_spec(cfg({"VARIANT": "SMALL", "DIMS": [1, 2]}), 1, 1)
    assert spec.stunet_variant == "small" and spec.stunet_dims == []
    assert stunet_layout(2, "small").dims == (16, 32, 64, 128, 256, 256)
    with pytest.raises(ValueError, match="stunet_dims is only used with stunet_variant"):
        build_model("stunet", 2, 1, 1, stunet_dims=[4, 8])


@pytest.mark.parametrize(("stunet", "ndim", "key"), [
    ({"PRETRAINED": True}, 2, "MODEL.STUNET.PRETRAINED"),
    ({"VARIANT": "huge"}, 2, "MODEL.STUNET.VARIANT"),
    ({**CUSTOM_2D, "DIMS": [4]}, 2, "MODEL.STUNET.DIMS"),
    ({**CUSTOM_2D, "DEPTH": [1, 1]}, 2, "MODEL.STUNET.DEPTH"),
    ({**CUSTOM_2D, "DEPTH": [1, 0, 1]}, 2, "MODEL.STUNET.DEPTH"),
    ({**CUSTOM_2D, "CONV_KERNEL_SIZES": [[3, 3]] * 2}, 2, "MODEL.STUNET.CONV_KERNEL_SIZES"),
    ({**CUSTOM_2D, "CONV_KERNEL_SIZES": [[3, 3], [4, 3], [3, 3]]}, 2,
     "MODEL.STUNET.CONV_KERNEL_SIZES"),
    ({**CUSTOM_2D, "POOL_OP_KERNEL_SIZES": [[2, 2]] * 3}, 2,
     "MODEL.STUNET.POOL_OP_KERNEL_SIZES"),
    ({"VARIANT": "custom"}, 2, "MODEL.STUNET.POOL_OP_KERNEL_SIZES"),  # BiaPy's 3D defaults
    ({**CUSTOM_2D, "POOL_OP_KERNEL_SIZES": [[2, 0], [1, 2]]}, 2,
     "MODEL.STUNET.POOL_OP_KERNEL_SIZES"),
])
def test_refusals_name_the_key(stunet, ndim, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        cfg(stunet, ndim)


def test_pretrained_refusal_says_why_and_checkpoints_skip_it_as_biapy():
    with pytest.raises(ConfigError, match="downloads"):
        cfg({"PRETRAINED": True})
    assert cfg({"PRETRAINED": True}, LOAD_CHECKPOINT=True).model.stunet.pretrained
    assert cfg({"VARIANT": "custom"}, ndim=3).model.stunet.variant == "custom"  # BiaPy's lists


def test_model_errors_name_the_field():
    with pytest.raises(ValueError, match="stunet_conv_kernel_sizes"):
        build_stunet(2, 1, 1, "custom", [1, 1], [4, 8], [[2, 2]], [[3, 3]])
    with pytest.raises(ValueError, match="stunet_variant"):
        build_stunet(2, 1, 1, "huge")
    with pytest.raises(ValueError, match="multiple"):
        build_stunet(2, 1, 1, "custom", [1, 1], [4, 8], [[2, 2]],
                     [[3, 3]] * 2)(torch.randn(1, 1, 8, 9))


# nafnet with BiaPy's GENERATOR_BACKBONE stunet: the STU-Net sizes the GAN's generator.
STUNET_GAN = {"MODEL": {"ARCHITECTURE": "nafnet", "NAFNET": {"GENERATOR_BACKBONE": "stunet"}},
              "LOSS": {"TYPE": ["MAE", "BCE"], "WEIGHTS": [1.0, 0.1]},
              "TRAIN": {"OPTIMIZER": ["ADAMW", "ADAMW"], "LR": [1.0e-4, 1.0e-4]}}


@pytest.mark.parametrize(("extra", "side"), [({"MODEL": {"ARCHITECTURE": "stunet"}}, 24),
                                             (STUNET_GAN, 40)])
def test_a_patch_off_the_presets_divisor_is_refused_before_training(extra, side, tmp_path,
                                                                    capsys):
    write_pairs(tmp_path / "data", "train", 2, (side, side), seed=0)
    config = {"PROBLEM": {"TYPE": "IMAGE_TO_IMAGE", "NDIM": "2D"},
              "DATA": {"PATCH_SIZE": [side, side, 1],
                       "TRAIN": {"PATH": str(tmp_path / "data/train/x"),
                                 "GT_PATH": str(tmp_path / "data/train/y")}},
              "TEST": {"ENABLE": False}, **extra}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    code = main(["--config", str(tmp_path / "c.yaml"), "--result_dir", str(tmp_path / "out"),
                 "--name", "s", "--gpu", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "must be a multiple of (16, 16)" in err, err
    assert "MODEL.STUNET.VARIANT / MODEL.STUNET.POOL_OP_KERNEL_SIZES" in err
    assert not list((tmp_path / "out").rglob("*.pth"))
