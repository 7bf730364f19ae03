import numpy as np
import pytest
import torch
from torch import nn

from i2i_nb.models import build_model
from i2i_nb.predict import plan_tiles, predict_image

RNG = np.random.default_rng(0)


class Identity(nn.Module):
    """1x1 convolution with identity weights, with the tiling attributes of i2i_nb models."""

    def __init__(self, ndim, channels, divisor, halo):
        super().__init__()
        conv = nn.Conv2d if ndim == 2 else nn.Conv3d
        self.conv = conv(channels, channels, 1, bias=False)
        self.conv.weight.data = torch.eye(channels).reshape(channels, channels, *(1,) * ndim)
        self.ndim, self.divisor, self.halo = ndim, divisor, halo

    def forward(self, x):
        return self.conv(x)


def _image(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _net(arch, ndim, feature_maps, z_down=None):
    torch.manual_seed(0)
    return build_model(arch, ndim, 1, 2, feature_maps=feature_maps, z_down=z_down).eval()


# Tiled == whole image: the default overlap (2 * halo) gives every pixel >= halo context in
# the tiles that dominate its blend, and tiles sit on the pooling grid, so the only
# difference is the (tiny) influence beyond the halo.  Measured: 1.0e-4 to 2.3e-4 of the
# output std; asserted < 1e-3.
@pytest.mark.parametrize("arch", ["unet", "resunet", "attention_unet"])
def test_tiled_equals_whole_2d(arch):
    model = _net(arch, 2, (8, 16, 32))
    image = _image(203, 229, 1)
    plan = plan_tiles(image.shape[:-1], (80, 80), None, model.divisor, model.halo)
    assert plan.overlap == (40, 40) and min(len(s) for s in plan.starts) >= 4
    whole = predict_image(model, image, None)
    tiled = predict_image(model, image, (80, 80))
    assert whole.shape == tiled.shape == (203, 229, 2) and tiled.dtype == np.float32
    assert np.abs(tiled - whole).max() < 1e-3 * whole.std()


def test_tiled_equals_whole_3d():
    model = _net("resunet", 3, (4, 8, 16), z_down=[1, 2])
    image = _image(40, 71, 83, 1)
    plan = plan_tiles(image.shape[:-1], (48, 80, 80), None, model.divisor, model.halo)
    assert all(len(s) >= 2 for s in plan.starts)
    whole = predict_image(model, image, None)
    tiled = predict_image(model, image, (48, 80, 80), batch_size=8)
    assert np.abs(tiled - whole).max() < 1e-3 * whole.std()


@pytest.mark.parametrize(("shape", "tile", "divisor"), [
    ((203, 229, 3), (64, 64), (8, 8)),
    ((37, 41, 2), (16, 24), (4, 8)),
    ((10, 11, 1), (64, 64), (8, 8)),  # image smaller than a tile
    ((9, 50, 43, 2), (8, 32, 32), (2, 8, 8)),
])
def test_identity_is_reproduced_exactly(shape, tile, divisor):
    ndim = len(shape) - 1
    model = Identity(ndim, shape[-1], divisor, halo=(6,) * ndim).eval()
    image = _image(*shape)
    for tiles in (tile, None):
        np.testing.assert_allclose(predict_image(model, image, tiles), image, atol=1e-6)


def test_out_memmap_and_batch_size(tmp_path):
    model = _net("unet", 2, (4, 8))
    image = _image(50, 61, 1)
    reference = predict_image(model, image, (32, 32), batch_size=1)
    out = np.lib.format.open_memmap(tmp_path / "out.npy", "w+", np.float32, (50, 61, 2))
    out[...] = 7.0
    result = predict_image(model, image, (32, 32), batch_size=5, out=out)
    assert result is out
    np.testing.assert_allclose(out, reference, atol=1e-5)
    with pytest.raises(ValueError, match="out must be"):
        predict_image(model, image, (32, 32), out=np.zeros((50, 61, 1), np.float32))


def test_plan_geometry():
    plan = plan_tiles((203, 229), (60, 64), None, (8, 8), (37, 37))
    assert plan.tile == (64, 64) and plan.overlap == (32, 32)  # rounded up; capped at half
    for n, t, o, pad, size, starts in zip((203, 229), plan.tile, plan.overlap, plan.pad_before,
                                          plan.padded, plan.starts, strict=True):
        assert pad == -(-o // 2 // 8) * 8 and size >= n + 2 * pad and size % 8 == 0
        assert all(s % 8 == 0 for s in starts) and starts[-1] == size - t
        assert all(b - a <= t - o for a, b in zip(starts, starts[1:], strict=False))
    assert plan.n_tiles == len(plan.starts[0]) * len(plan.starts[1])
    assert plan.computed_voxels == plan.n_tiles * 64 * 64
    whole = plan_tiles((203, 229), None, None, (8, 8), (5, 5))
    assert whole.n_tiles == 1 and whole.tile == whole.padded == (224, 248)  # 203 + 2 * 8


def test_training_mode_warns_and_wrong_ndim_refused():
    model = _net("unet", 2, (4, 8)).train()
    with pytest.warns(UserWarning, match="training mode"):
        predict_image(model, _image(16, 16, 1), None)
    assert model.training
    with pytest.raises(ValueError, match="channel-last"):
        predict_image(model.eval(), _image(4, 16, 16, 1), None)


def test_memmap_and_float64_inputs_give_the_same_prediction(tmp_path):
    model = Identity(3, 2, (2, 8, 8), halo=(3, 6, 6)).eval()
    image = _image(9, 50, 43, 2)
    reference = predict_image(model, image, (8, 32, 32), batch_size=3)
    mapped = np.lib.format.open_memmap(tmp_path / "in.npy", "w+", np.float64, image.shape)
    mapped[...] = image
    result = predict_image(model, mapped, (8, 32, 32), batch_size=3)
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, reference)
