"""U-NeXt V1/V2: BiaPy's keys reach the layers, stochastic depth only in training, refusals."""

import numpy as np
import pytest
import torch

from i2i_nb.config import config_from_dict
from i2i_nb.errors import ConfigError
from i2i_nb.model_spec import model_spec
from i2i_nb.models import build_model, count_parameters
from i2i_nb.models.unext import ConvNeXtBlock, GlobalResponseNorm
from i2i_nb.predict import predict_image


def tiny(arch="unext_v1", ndim=2, **kw):
    torch.manual_seed(0)
    kw.setdefault("feature_maps", [4, 8, 16])
    return build_model(arch, ndim, 1, 1, **kw)


def blocks(model):
    return [m for m in model.modules() if isinstance(m, ConvNeXtBlock)]


def test_stochastic_depth_rises_to_the_key_and_is_off_in_eval():
    model = tiny(conv_layers=[1, 2, 3], convnext_sd_prob=0.5)
    rates = [b.drop.p for b in blocks(model.encoders) + blocks(model.bottleneck)]
    assert rates == pytest.approx([0.5 * j / 5 for j in range(6)])
    assert [b.drop.p for b in model.decoders[0][1].blocks] == pytest.approx([0.2, 0.1])
    x = torch.randn(4, 1, 16, 16)
    with torch.no_grad():
        whole = model.eval()(x)
        for b in blocks(model):
            b.drop.p = 0.0
        assert torch.equal(model(x), whole)  # eval: no stochastic depth
        for b in blocks(model):
            b.drop.p = 1.0
        dropped = model.train()(x)  # training: every branch dropped
        for b in blocks(model):
            b.pwconv2.weight.zero_()
            b.pwconv2.bias.zero_()
        assert torch.allclose(dropped, model.eval()(x), atol=1e-6)


def test_versions_differ_by_grn_and_layer_scale():
    v1, v2 = tiny("unext_v1"), tiny("unext_v2")
    assert all(b.layer_scale is not None and isinstance(b.grn, torch.nn.Identity)
               for b in blocks(v1))
    assert all(b.layer_scale is None and isinstance(b.grn, GlobalResponseNorm)
               for b in blocks(v2))
    assert float(blocks(v1)[0].layer_scale.detach()[0]) == pytest.approx(1e-6)
    no_scale = tiny("unext_v1", convnext_layer_scale=0)
    assert all(b.layer_scale is None for b in blocks(no_scale))
    assert count_parameters(v1) - count_parameters(no_scale) == sum(
        b.pwconv2.out_features for b in blocks(v1))


def test_stem_isotropy_and_down_sampling_in_3d():
    model = tiny(ndim=3, z_down=[1, 2], isotropy=[False, True, True], convnext_stem_k_size=4)
    assert model.divisor == (8, 16, 16)  # stem 4 (z too), then 1 x 2 in z
    assert model.stem[0].kernel_size == (4, 4, 4) and model.downs[0][1].stride == (1, 2, 2)
    assert blocks(model.encoders[0])[0].dwconv.kernel_size == (1, 7, 7)
    assert blocks(model.encoders[1])[0].dwconv.kernel_size == (7, 7, 7)
    assert model.decoders[0][0].blocks[0].dwconv.kernel_size == (1, 7, 7)
    assert model.halo[0] < model.halo[1] == model.halo[2]
    one = tiny(ndim=3, z_down=[2, 1], convnext_stem_k_size=1)  # BiaPy: stem pools z by Z_DOWN[0]
    assert one.stem[0].kernel_size == (2, 1, 1) and one.divisor == (4, 4, 4)
    with torch.no_grad():
        assert one.eval()(torch.randn(1, 1, 8, 8, 8)).shape == (1, 1, 8, 8, 8)


def test_upsampling_heads_and_separated_decoders():
    model = build_model("unext_v2", 2, 1, 3, feature_maps=[4, 8, 16], upsample_layer="upsampling",
                        heads=[1, 2], separated_decoders=True, divide_feature_maps=True)
    assert isinstance(model.decoders[0][0].up[1][0], torch.nn.Upsample)
    assert len(model.decoders) == 2 and model.heads[1].in_channels == 2
    with torch.no_grad():
        assert model.eval()(torch.randn(1, 1, 16, 16)).shape == (1, 3, 16, 16)


def cfg(model, ndim=3, patch=(8, 16, 16)):
    return config_from_dict({"PROBLEM": {"NDIM": f"{ndim}D"}, "MODEL": model,
                             "DATA": {"PATCH_SIZE": list(patch)}})


def test_config_keys_reach_the_network():
    c = cfg({"ARCHITECTURE": "unext_v1", "CONVNEXT_SD_PROB": 0.2, "CONVNEXT_LAYER_SCALE": "1e-5",
             "CONVNEXT_STEM_K_SIZE": 1, "CONVNEXT_LAYERS": [3], "NORMALIZATION": "bn"})
    spec = model_spec(c, 1, 1)
    assert (spec.convnext_sd_prob, spec.convnext_layer_scale) == (0.2, 1e-5)
    assert spec.convnext_stem_k_size == 1 and spec.conv_layers == [3] * 4
    # automatic Z_DOWN counts the stem, which pools z by Z_DOWN[0] when its size is 1
    assert spec.z_down == [1, 1, 1]  # 8 slices: 2 x 2 would leave 2
    spec16 = model_spec(cfg({"ARCHITECTURE": "unext_v1", "CONVNEXT_STEM_K_SIZE": 1},
                            patch=(16, 16, 16)), 1, 1)
    assert spec16.z_down == [2, 1, 1]  # stem and first level by 2: 4 slices
    assert model_spec(cfg({"ARCHITECTURE": "unext_v2"}, patch=(16, 16, 16)), 1,
                      1).z_down == [2, 1, 1]  # stem 2, then 8 -> 4


@pytest.mark.parametrize(("model", "key"), [
    ({"CONVNEXT_SD_PROB": 1.5}, "MODEL.CONVNEXT_SD_PROB"),
    ({"CONVNEXT_LAYER_SCALE": -1}, "MODEL.CONVNEXT_LAYER_SCALE"),
    ({"CONVNEXT_STEM_K_SIZE": 0}, "MODEL.CONVNEXT_STEM_K_SIZE"),
])
def test_refusals_name_the_key(model, key):
    for arch in ("unext_v1", "unext_v2"):
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            cfg({"ARCHITECTURE": arch, **model}, ndim=2, patch=(16, 16))


@pytest.mark.parametrize(("model", "key"), [
    ({"DROPOUT_VALUES": [0.1, 0.1, 0.1, 0.1]}, "MODEL.DROPOUT_VALUES"),
    ({"LARGER_IO": True}, "MODEL.LARGER_IO"),
    ({"KERNEL_SIZE": 5}, "MODEL.KERNEL_SIZE"),
])
def test_keys_unext_lacks_warn_as_biapy_ignores_them(model, key):
    """BiaPy accepts these with unext and builds the network without them."""
    for arch in ("unext_v1", "unext_v2"):
        with pytest.warns(UserWarning, match=key.replace(".", r"\.") + ".*no effect"):
            cfg({"ARCHITECTURE": arch, **model}, ndim=2, patch=(16, 16))


def test_3d_tiled_along_x_equals_whole():
    """The shared tiling test tiles every axis by 4 px steps; with 7x7x7 kernels that takes
    minutes in 3D, so here the tiles span z and y and step along x only."""
    model = tiny(ndim=3, feature_maps=[2, 4], conv_layers=[1, 1], z_down=[2],
                 convnext_stem_k_size=1).eval()
    overlap = tuple(4 * h for h in model.halo)
    shape = (8, 16, 60)
    tile = tuple(-(-(n + o) // d) * d for n, o, d in zip(shape, overlap, model.divisor,
                                                          strict=True))
    tile = (*tile[:2], -(-(overlap[2] + 4) // model.divisor[2]) * model.divisor[2])
    assert tile[2] < shape[2] + overlap[2]  # more than one tile along x
    image = np.random.default_rng(1).random((*shape, 1), dtype=np.float32)
    whole = predict_image(model, image, tile_shape=None, overlap=overlap)
    tiled = predict_image(model, image, tile_shape=tile, overlap=overlap)
    assert float(np.abs(tiled - whole).max()) <= 1e-4
