"""Zarr, OME-Zarr (NGFF 0.4 and 0.5) and HDF5 reading, pixel sizes in and out."""

import h5py
import numpy as np
import pytest
import tifffile
import zarr

from i2i_nb.data.io import (
    AxesOrder,
    DiskImage,
    PixelSize,
    container_members,
    read_image,
    read_pixel_size,
    write_image,
)
from i2i_nb.data.normalize import channel_values
from i2i_nb.errors import DataError

RNG = np.random.default_rng(0)
VOLUME = RNG.random((6, 20, 18, 2)).astype(np.float32)  # (z, y, x, c)


def _ngff05(path, data, scale, units):
    """An NGFF 0.5 image (Zarr v3, metadata under ``ome``), written with zarr only."""
    group = zarr.open_group(str(path), mode="w", zarr_format=3)
    names = "czyx"[-data.ndim:]
    group.attrs["ome"] = {"version": "0.5", "multiscales": [{
        "axes": [{"name": n, "type": "channel" if n == "c" else "space",
                  **({"unit": units} if n != "c" else {})} for n in names],
        "datasets": [{"path": "s0", "coordinateTransformations": [
            {"type": "scale", "scale": [1.0, *scale]}]}]}]}
    group.create_array("s0", data=data, chunks=(1, 3, 10, 10))
    group.create_array("s1", data=data[:, :, ::2, ::2], chunks=(1, 3, 10, 10))


def test_ome_zarr_round_trip_keeps_values_axes_and_pixel_sizes(tmp_path):
    size = PixelSize.of([2.0, 0.5, 0.25], "um")
    write_image(tmp_path / "a.zarr", VOLUME, 3, size)
    view = read_image(tmp_path / "a.zarr", 3, memmap=True)
    assert view.shape == VOLUME.shape
    np.testing.assert_array_equal(np.asarray(view), VOLUME)
    np.testing.assert_array_equal(view[1:4, 3:9, 2:, 1:], VOLUME[1:4, 3:9, 2:, 1:])
    np.testing.assert_array_equal(view[2], VOLUME[2])
    assert np.max(view) == VOLUME.max() and np.min(view) == VOLUME.min()
    np.testing.assert_array_equal(channel_values(view, 100), channel_values(VOLUME, 100))
    found = read_pixel_size(tmp_path / "a.zarr", 3)
    assert found.sizes == (2.0, 0.5, 0.25) and found.units == ("micrometer",) * 3


def test_napari_reader_sees_the_written_scale_and_axes(tmp_path):
    """ome-zarr-py is the reader of napari-ome-zarr."""
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    write_image(tmp_path / "a.zarr", VOLUME, 3, PixelSize.of([2.0, 0.5, 0.25], "nm"))
    node = next(iter(Reader(parse_url(str(tmp_path / "a.zarr")))()))
    assert node.metadata["coordinateTransformations"][0] == [
        {"type": "scale", "scale": [1.0, 2.0, 0.5, 0.25]}]
    assert [a["name"] for a in node.metadata["axes"]] == ["c", "z", "y", "x"]
    assert node.metadata["axes"][1]["unit"] == "nanometer"
    np.testing.assert_array_equal(np.asarray(node.data[0]), np.moveaxis(VOLUME, -1, 0))


def test_ngff_05_level_0_with_its_axes_and_scale(tmp_path):
    _ngff05(tmp_path / "b.zarr", np.moveaxis(VOLUME, -1, 0), [3.0, 0.1, 0.1], "micrometer")
    image = read_image(tmp_path / "b.zarr", 3)
    np.testing.assert_array_equal(image, VOLUME)
    assert read_pixel_size(tmp_path / "b.zarr", 3).sizes == (3.0, 0.1, 0.1)


def test_plain_zarr_v2_and_v3_with_the_axes_order_key(tmp_path):
    for fmt in (2, 3):
        zarr.save_array(str(tmp_path / f"v{fmt}.zarr"), np.moveaxis(VOLUME, -1, 0),
                        zarr_format=fmt)
        order = AxesOrder(tiff="ZYXC", container="CZYX")  # the container key wins
        np.testing.assert_array_equal(read_image(tmp_path / f"v{fmt}.zarr", 3, order), VOLUME)
    # BiaPy's default order, with one time point
    zarr.save_array(str(tmp_path / "t.zarr"), np.moveaxis(VOLUME, -1, 0)[np.newaxis])
    np.testing.assert_array_equal(read_image(tmp_path / "t.zarr", 3, "TCZYX"), VOLUME)
    zarr.save_array(str(tmp_path / "t2.zarr"), np.stack([VOLUME[..., 0]] * 2))
    with pytest.raises(DataError, match="t2.zarr.*T axis has 2 time points"):
        read_image(tmp_path / "t2.zarr", 3, "TZYX")


def test_hdf5_by_key_and_lazily_in_workers(tmp_path):
    import pickle

    path = tmp_path / "c.h5"
    with h5py.File(path, "w") as handle:
        handle["volumes/raw"] = VOLUME[..., 0]
        handle["volumes/gt"] = VOLUME[..., 1]
    for key in ("volumes/raw", "volumes.raw"):
        np.testing.assert_array_equal(read_image(path / key, 3), VOLUME[..., :1])
    disk = DiskImage(path / "volumes/gt", 3)
    again = pickle.loads(pickle.dumps(disk))
    np.testing.assert_array_equal(again[2:4, :5], VOLUME[2:4, :5, :, 1:])
    with pytest.raises(DataError, match="c.h5.*no dataset 'volumes/nope'"):
        read_image(path / "volumes/nope", 3)
    with pytest.raises(DataError, match="c.h5.*holds no dataset at its top"):
        read_image(path, 3)


def test_containers_of_several_images_list_their_members(tmp_path):
    group = zarr.open_group(str(tmp_path / "many.zarr"), mode="w")
    for name in ("b", "a"):
        group.create_array(name, data=VOLUME[..., 0])
    assert [p.name for p in container_members(tmp_path / "many.zarr")] == ["a", "b"]
    with pytest.raises(DataError, match="many.zarr: a Zarr group, not an image.*a, b"):
        read_image(tmp_path / "many.zarr", 3)
    np.testing.assert_array_equal(read_image(tmp_path / "many.zarr/b", 3), VOLUME[..., :1])
    write_image(tmp_path / "one.zarr", VOLUME, 3)
    assert container_members(tmp_path / "one.zarr") == []


def test_tiff_pixel_sizes_read_back_as_fiji_reads_them(tmp_path):
    """ImageJ hyperstack metadata: resolution tags for x/y, ``spacing`` and ``unit``."""
    write_image(tmp_path / "p.tif", VOLUME, 3, PixelSize.of([2.0, 0.5, 0.25], "micrometer"))
    with tifffile.TiffFile(tmp_path / "p.tif") as tif:
        assert tif.is_imagej and tif.series[0].axes == "ZCYX"
        assert tif.imagej_metadata["spacing"] == 2.0 and tif.imagej_metadata["unit"] == "um"
        x_res = tif.pages[0].tags["XResolution"].value
        y_res = tif.pages[0].tags["YResolution"].value
    assert x_res[1] / x_res[0] == pytest.approx(0.25) and y_res[1] / y_res[0] == 0.5
    assert read_pixel_size(tmp_path / "p.tif", 3).sizes == pytest.approx((2.0, 0.5, 0.25))


def test_ome_tiff_pixel_sizes_are_read(tmp_path):
    tifffile.imwrite(tmp_path / "o.ome.tif", VOLUME[..., 0], ome=True, metadata={
        "axes": "ZYX", "PhysicalSizeX": 0.2, "PhysicalSizeY": 0.3, "PhysicalSizeZ": 1.5,
        "PhysicalSizeXUnit": "nm", "PhysicalSizeYUnit": "nm", "PhysicalSizeZUnit": "nm"})
    found = read_pixel_size(tmp_path / "o.ome.tif", 3)
    assert found.sizes == (1.5, 0.3, 0.2) and found.unit == "nm"
    assert not read_pixel_size(tmp_path / "missing.tif", 3).known


def test_containers_of_several_images_pair_by_name(tmp_path):
    from i2i_nb.data.pairs import check_pairs, find_pairs, is_single_image

    for role in ("x", "y"):
        with h5py.File(tmp_path / f"{role}.h5", "w") as handle:
            for name in ("img1", "img0"):
                handle[name] = VOLUME[..., 0]
    pairs = find_pairs(tmp_path / "x.h5", tmp_path / "y.h5")
    assert [(p.inputs[0].name, p.target.name) for p in pairs] == [("img0", "img0"),
                                                                  ("img1", "img1")]
    rows = check_pairs(pairs, 3)
    assert rows[0]["input"] == "x.h5/img0" and rows[0]["shape"] == VOLUME.shape[:-1]
    assert is_single_image(tmp_path / "x.h5/img0") and not is_single_image(tmp_path / "x.h5")
    write_image(tmp_path / "z.zarr", VOLUME, 3)
    assert is_single_image(tmp_path / "z.zarr")
    pairs = find_pairs(tmp_path, None)  # a folder: each container is one entry
    assert [p.inputs[0].name for p in pairs] == ["x.h5", "y.h5", "z.zarr"]
