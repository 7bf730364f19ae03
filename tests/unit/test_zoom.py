"""DATA.PREPROCESS.ZOOM: the lazy zoom equals scipy's, a zoomed block-wise prediction equals
predicting the zoomed input whole, and the refusals."""

import numpy as np
import pytest
import torch
import zarr
from scipy.ndimage import zoom as ndi_zoom

from i2i_nb.blockwise import BlockRecord, BlockSettings
from i2i_nb.config import config_from_dict
from i2i_nb.data.io import read_pixel_size, write_image
from i2i_nb.data.io.metadata import PixelSize
from i2i_nb.data.normalize import DatasetScaler, input_normalization
from i2i_nb.data.pairs import Pair
from i2i_nb.data.zoom import ZoomedView
from i2i_nb.errors import ConfigError, DataError
from i2i_nb.inference import predict_pairs
from i2i_nb.models import build_model


@pytest.mark.parametrize("factors", [(1, 2, 2), (1.5, 0.7, 3), (2, 1, 1)])
def test_the_view_equals_scipy_zoom_of_the_whole_image(factors):
    image = np.random.default_rng(0).random((7, 9, 11, 2)).astype(np.float32)
    reference = ndi_zoom(image, (*factors, 1), order=0, mode="nearest")
    view = ZoomedView(image, factors)
    assert view.shape == reference.shape
    np.testing.assert_array_equal(np.asarray(view), reference)
    np.testing.assert_array_equal(view[1:5, 2:9:2, 3], reference[1:5, 2:9:2, 3])
    np.testing.assert_array_equal(view[2, ..., 0:1], reference[2, ..., 0:1])
    points = (np.array([0, 3, 4]), np.array([1, 2, 0]), np.array([5, 5, 0]))
    np.testing.assert_array_equal(view[points], reference[points])
    assert view.max() == reference.max() and view.min() == reference.min()


def _meta():
    zmuv = "zero_mean_unit_variance"
    return {"ndim": 3, "out_channels": 1, "target_dtype": "float32",
            "target_scaler": DatasetScaler("percentile", [0.0], [2.0]).to_dict(),
            "input_normalization": input_normalization(zmuv, 1, 99.8, False, None)}


def test_zoomed_blocks_equal_the_zoomed_input_predicted_whole(tmp_path):
    torch.manual_seed(0)
    model = build_model("unet", 3, 1, 1, feature_maps=[4, 8]).eval()
    rng = np.random.default_rng(0)
    image = rng.random((6, 18, 14, 1)).astype(np.float32)
    target = rng.random((6, 18, 14, 1)).astype(np.float32)
    factors = (1, 2, 2)
    write_image(tmp_path / "in.tif", image, 3, PixelSize.of((2.0, 0.5, 0.5), "um"))
    write_image(tmp_path / "gt.tif", target, 3)
    zoomed = ndi_zoom(image, (*factors, 1), order=0, mode="nearest")
    write_image(tmp_path / "zin.tif", zoomed, 3)
    write_image(tmp_path / "zgt.tif", ndi_zoom(target, (*factors, 1), order=0, mode="nearest"), 3)
    settings = ((4, 16, 16), None, 2, torch.device("cpu"))
    whole = predict_pairs(model, _meta(), [Pair((tmp_path / "zin.tif",), tmp_path / "zgt.tif")],
                          tmp_path / "whole", *settings, output_format="zarr")
    pair = [Pair((tmp_path / "in.tif",), tmp_path / "gt.tif")]
    # two jobs, Z_START/Z_END in slices of the input (as BiaPy), then a rerun (all skipped)
    for z_start, z_end in ((0, 2), (2, -1), (-1, -1)):
        rows = predict_pairs(model, _meta(), pair, tmp_path / "blocks", *settings,
                             by_chunks=BlockSettings((4, 12, 20), z_start, z_end, zoom=factors))
    assert rows[0]["file"] == "in.zarr"
    reference = np.asarray(zarr.open_group(str(tmp_path / "whole/zin.zarr"))["0"])
    blocks = np.asarray(zarr.open_group(str(tmp_path / "blocks/in.zarr"))["0"])
    assert blocks.shape == (1, 6, 36, 28) == reference.shape  # round(shape * factor)
    # tolerance: float32 rounding of the same sums (the tiles are the same ones)
    np.testing.assert_allclose(blocks, reference, rtol=0, atol=1e-5)
    assert BlockRecord(tmp_path / "blocks/in.zarr").count() == 2 * 3 * 2
    for name in ("psnr", "ssim", "mae", "input_psnr"):  # scored against the zoomed target
        assert rows[0][name] == pytest.approx(whole[0][name], rel=1e-5)
    assert read_pixel_size(tmp_path / "blocks/in.zarr", 3).sizes == (2.0, 0.25, 0.25)


def test_a_target_of_another_size_is_refused(tmp_path):
    model = build_model("unet", 3, 1, 1, feature_maps=[4, 8]).eval()
    write_image(tmp_path / "in.tif", np.zeros((4, 16, 16, 1), np.float32), 3)
    write_image(tmp_path / "gt.tif", np.zeros((4, 32, 32, 1), np.float32), 3)
    with pytest.raises(DataError, match="DATA.PREPROCESS.ZOOM"):
        predict_pairs(model, _meta(), [Pair((tmp_path / "in.tif",), tmp_path / "gt.tif")],
                      tmp_path / "out", (4, 16, 16), None, 1, torch.device("cpu"),
                      by_chunks=BlockSettings(zoom=(1, 2, 2)))


def _config(zoom, axes="", by_chunks=True):
    return config_from_dict({
        "PROBLEM": {"NDIM": "3D"}, "DATA": {"PATCH_SIZE": [4, 16, 16, 1],
                                           "TEST": {"INPUT_IMG_AXES_ORDER": axes},
                                           "PREPROCESS": {"ZOOM": {"ENABLE": True,
                                                                   "ZOOM_FACTOR": zoom}}},
        "TEST": {"BY_CHUNKS": {"ENABLE": by_chunks}}})


def test_zoom_factors_follow_the_test_axes_order():
    cfg = _config([1, 2, 1, 3, 3])  # BiaPy's default TZCYX
    assert cfg.data.preprocess.zoom.spatial("TZCYX", 3) == (2.0, 3.0, 3.0)
    assert _config([1, 2, 2, 1], "ZYXC").data.preprocess.zoom.zoom_factor == (1, 2, 2, 1)


@pytest.mark.parametrize(("zoom", "axes", "by_chunks", "named"), [
    ([1, 1, 2, 2, 1], "", False, "DATA.PREPROCESS.ZOOM.ENABLE"),
    ([1, 2, 2, 1], "", True, "DATA.PREPROCESS.ZOOM.ZOOM_FACTOR.*TZCYX"),
    ([1, 2, 2], "ZYXC", True, "DATA.PREPROCESS.ZOOM.ZOOM_FACTOR.*INPUT_IMG_AXES_ORDER"),
    ([1, 2, 2, 3], "ZYXC", True, "DATA.PREPROCESS.ZOOM.ZOOM_FACTOR.*axis C"),
    ([1, 0, 2, 1], "ZYXC", True, "DATA.PREPROCESS.ZOOM.ZOOM_FACTOR.*> 0"),
])
def test_bad_zoom_settings_are_refused_naming_the_key(zoom, axes, by_chunks, named):
    with pytest.raises(ConfigError, match=named):
        _config(zoom, axes, by_chunks)
