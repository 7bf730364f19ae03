"""Each format trains (patches read lazily) and predicts through the engine; pixel sizes
survive into the predictions."""

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import tifffile
import torch

from i2i_nb.data.io import PixelSize, read_image, read_pixel_size, write_image
from i2i_nb.experiment import run
from tests.integration.conftest import tiny_config, write_pairs
from tests.integration.formats import SIZE, SIZE_3D, convert

CPU = torch.device("cpu")
AXES = {"INPUT_IMG_AXES_ORDER": "CYX", "INPUT_MASK_AXES_ORDER": "CYX"}


def _config(root, ndim=2, train=None, test=None, **sections):
    return tiny_config(root, ndim, DATA={
        "TRAIN": {"PATH": str(root / "train/x"), "GT_PATH": str(root / "train/y"),
                  "IN_MEMORY": False, **(train or {})},
        "TEST": {"PATH": str(root / "test/x"), "GT_PATH": str(root / "test/y"),
                 **(test or {})}}, **sections)


@pytest.fixture(scope="module")
def tiffs(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats") / "data"
    write_pairs(root, "train", 4, (40, 36), seed=1)
    write_pairs(root, "test", 2, (50, 44), seed=2)
    reference = run(_config(root), root.parent / "out", "tiff", 1, CPU)
    return root, reference


@pytest.mark.parametrize("fmt", ["ome", "zarr3", "h5"])
def test_each_format_trains_and_predicts_as_the_tiffs_do(tiffs, fmt):
    root, reference = tiffs
    data = convert(root, fmt)
    keys = AXES if fmt == "zarr3" else {}
    result = run(_config(data, train=keys, test=keys), data.parent / "out", fmt, 1, CPU)
    assert [r["loss"] for r in result.history] == [r["loss"] for r in reference.history]
    for mine, theirs in zip(result.test_rows, reference.test_rows, strict=True):
        assert mine["file"] == theirs["file"].replace(".tif", ".zarr")
        assert mine["psnr"] == pytest.approx(theirs["psnr"], rel=1e-6)
    out = result.paths.sub("per_image") / "img-001.zarr"
    expected = tifffile.imread(reference.paths.sub("per_image") / "img-001.tif")
    np.testing.assert_allclose(read_image(out, 2)[..., 0], expected, rtol=1e-6, atol=1e-6)
    assert read_pixel_size(out, 2) == (read_pixel_size(data / "test/x" / next(
        p.name for p in sorted((data / "test/x").iterdir()) if "001" in p.name), 2))
    if fmt == "ome":
        assert read_pixel_size(out, 2).sizes == SIZE.sizes
        record = json.loads((result.paths.run_dir / "run_record.json").read_text())
        names = {Path(f["path"]).name for f in record["data_files"]}
        assert names == {".zgroup", ".zattrs", ".zarray"}  # a store's metadata, not chunks


def test_one_container_holding_raw_and_target_with_biapy_keys(tmp_path):
    """``INPUT_ZARR_MULTIPLE_DATA``: each HDF5 file holds ``volumes/raw`` and ``volumes/gt``."""
    root = tmp_path / "data"
    write_pairs(root, "train", 3, (8, 24, 24), seed=1)
    write_pairs(root, "test", 1, (8, 24, 24), seed=2)
    data = tmp_path / "h5"
    for split in ("train", "test"):
        (data / split).mkdir(parents=True)
        for tif in sorted((root / split / "x").glob("*.tif")):
            with h5py.File(data / split / f"{tif.stem}.h5", "w") as handle:
                handle["volumes/raw"] = tifffile.imread(tif)
                handle["volumes/gt"] = tifffile.imread(root / split / "y" / tif.name)
    keys = {"INPUT_ZARR_MULTIPLE_DATA": True, "INPUT_ZARR_MULTIPLE_DATA_RAW_PATH": "volumes.raw",
            "INPUT_ZARR_MULTIPLE_DATA_GT_PATH": "volumes.gt"}
    cfg = tiny_config(data, 3, DATA={
        "TRAIN": {"PATH": str(data / "train"), "GT_PATH": "", **keys},
        "TEST": {"PATH": str(data / "test"), "GT_PATH": "", **keys}})
    result = run(cfg, tmp_path / "out", "job", 1, CPU)
    assert [r["file"] for r in result.test_rows] == ["img-000_volumes_raw.zarr"]
    assert result.test_rows[0]["psnr"] > 0
    assert (result.paths.sub("per_image") / "img-000_volumes_raw.zarr").is_dir()


def test_tiff_predictions_carry_the_input_pixel_size(tmp_path):
    root = tmp_path / "data"
    write_pairs(root, "train", 3, (8, 24, 24), seed=1)
    write_pairs(root, "test", 1, (8, 24, 24), seed=2)
    source = root / "test/x/img-000.tif"
    write_image(source, read_image(source, 3), 3, SIZE_3D)
    for fmt, name in (("auto", "img-000.tif"), ("zarr", "img-000.zarr")):
        result = run(_config(root, 3, TEST={"OUTPUT_FORMAT": fmt}), tmp_path / "out", fmt, 1, CPU)
        out = result.paths.sub("per_image") / name
        found = read_pixel_size(out, 3)
        assert found.sizes == pytest.approx(SIZE_3D.sizes)
        assert found.unit in ("um", "micrometer")
    with tifffile.TiffFile(tmp_path / "out/auto/results/auto_1/per_image/img-000.tif") as tif:
        assert tif.imagej_metadata["spacing"] == 2.0 and tif.imagej_metadata["unit"] == "um"


def test_a_single_zarr_image_as_the_test_path(tmp_path):
    root = tmp_path / "data"
    write_pairs(root, "train", 3, (40, 36), seed=1)
    write_pairs(root, "test", 1, (40, 36), seed=2)
    data = convert(root, "ome")
    cfg = _config(root, test={"PATH": str(data / "test/x/img-000.ome.zarr"),
                              "GT_PATH": str(data / "test/y/img-000.ome.zarr")})
    result = run(cfg, tmp_path / "out", "job", 1, CPU)
    assert [r["file"] for r in result.test_rows] == ["img-000.zarr"]
    assert read_pixel_size(result.paths.sub("per_image") / "img-000.zarr", 2) == PixelSize.of(
        SIZE.sizes, "micrometer")
