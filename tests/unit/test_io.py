"""Tests of TIFF reading and writing."""

import os
import stat

import numpy as np
import pytest
import tifffile

from i2i_nb.data.io import dtype_max, read_image, write_image
from i2i_nb.errors import DataError


def _write(path, array, **kwargs):
    tifffile.imwrite(path, array, **kwargs)
    return path


def test_read_2d_gray_adds_channel(tmp_path):
    data = np.arange(20 * 30, dtype=np.uint16).reshape(20, 30)
    image = read_image(_write(tmp_path / "a.tif", data), 2)
    assert image.shape == (20, 30, 1) and image.dtype == np.uint16
    np.testing.assert_array_equal(image[..., 0], data)


def test_read_2d_channel_last(tmp_path):
    data = np.random.default_rng(0).random((20, 30, 5)).astype(np.float64)
    image = read_image(_write(tmp_path / "a.tif", data), 2)
    assert image.dtype == np.float64
    np.testing.assert_array_equal(image, data)


def test_read_3d_stack(tmp_path):
    data = np.random.default_rng(0).integers(0, 255, (6, 20, 30), dtype=np.uint8)
    image = read_image(_write(tmp_path / "a.tif", data, photometric="minisblack"), 3)
    np.testing.assert_array_equal(image, data[..., None])


def test_read_channel_first_3d_with_axes(tmp_path):
    data = np.random.default_rng(0).random((2, 6, 20, 30)).astype(np.float32)
    path = _write(tmp_path / "a.tif", data, photometric="minisblack")
    image = read_image(path, 3, axes="czyx")
    assert image.shape == (6, 20, 30, 2)
    np.testing.assert_array_equal(image, np.moveaxis(data, 0, -1))


def test_read_imagej_axes_from_metadata(tmp_path):
    data = np.random.default_rng(0).random((6, 2, 20, 30)).astype(np.float32)
    path = _write(tmp_path / "a.tif", data, imagej=True, metadata={"axes": "ZCYX"})
    np.testing.assert_array_equal(read_image(path, 3), np.moveaxis(data, 1, -1))


@pytest.mark.parametrize(
    ("shape", "ndim", "match"),
    [
        ((40, 30, 20), 2, "3D stack"),
        ((3, 30, 20), 2, "channel-first.*'CYX'"),
        ((2, 6, 30, 20), 3, "channel-first.*'CZYX'"),
        ((30, 20), 3, "is a 2D image"),
        ((30, 20, 3), 3, "2D multi-channel.*'ZYX'"),
        ((2, 3, 4, 30, 20), 3, r"\(2, 3, 4, 30, 20\)"),
    ],
)
def test_read_wrong_dimensions(tmp_path, shape, ndim, match):
    path = _write(tmp_path / "odd_name.tif", np.zeros(shape, np.uint8),
                  photometric="minisblack")
    with pytest.raises(DataError, match=f"odd_name.tif.*{match}"):
        read_image(path, ndim)


@pytest.mark.parametrize(("axes", "match"), [("YX", "2 letters"), ("QYX", "letters"),
                                             ("ZYX", "must hold YX"), ("CYY", "repeat")])
def test_read_bad_axes(tmp_path, axes, match):
    path = _write(tmp_path / "img.tif", np.zeros((3, 20, 30), np.uint8),
                  photometric="minisblack")
    with pytest.raises(DataError, match=f"img.tif.*'{axes}'.*{match}"):
        read_image(path, 2, axes=axes)


def test_read_corrupt_file(tmp_path):
    path = tmp_path / "broken.tif"
    path.write_bytes(np.random.default_rng(0).bytes(500))
    with pytest.raises(DataError, match="broken.tif.*corrupt"):
        read_image(path, 2)


def test_read_truncated_file(tmp_path):
    full = _write(tmp_path / "full.tif", np.ones((8, 2, 30, 30), np.float32), imagej=True,
                  metadata={"axes": "ZCYX"})
    path = tmp_path / "cut.tif"
    path.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(DataError, match="cut.tif.*(corrupt|truncated)"):
        read_image(path, 3)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.int16, np.float64])
@pytest.mark.parametrize("shape", [(20, 30, 1), (20, 30, 3), (5, 20, 30, 1), (5, 20, 30, 2)])
def test_write_read_round_trip(tmp_path, shape, dtype):
    ndim = len(shape) - 1
    image = (np.random.default_rng(0).random(shape) * 100).astype(dtype)
    path = tmp_path / "out" / "sub" / "pred.tif"
    write_image(path, image, ndim)
    result = read_image(path, ndim)
    assert result.dtype == dtype
    np.testing.assert_array_equal(result, image)
    assert [p.name for p in path.parent.iterdir()] == ["pred.tif"]  # no temp file left


def test_dtype_max():
    assert dtype_max(np.uint8) == 255 and dtype_max(np.uint16) == 65535
    assert dtype_max(np.int16) == 32767 and dtype_max(np.float32) is None


def test_written_image_gets_the_umask_permissions(tmp_path):
    path = tmp_path / "pred.tif"
    write_image(path, np.zeros((4, 5, 1), np.float32), 2)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # not mkstemp's private 0600


@pytest.mark.parametrize(("dtype", "value"), [(np.uint32, 4_000_000_000), (np.float64, 1e200),
                                              (np.int32, -2_000_000_000), (np.int64, 2**40)])
def test_read_wide_dtypes_exactly(tmp_path, dtype, value):
    data = np.full((6, 7), value, dtype)
    data[0, 0] = 0
    image = read_image(_write(tmp_path / "a.tif", data), 2)
    assert image.dtype == dtype
    np.testing.assert_array_equal(image[..., 0], data)
