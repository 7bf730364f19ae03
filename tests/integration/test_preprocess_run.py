"""DATA.PREPROCESS and DATA.*.FILTER_SAMPLES through the whole engine."""

import warnings

import numpy as np
import pytest
import tifffile
import torch

from i2i_nb import inference
from i2i_nb.checkpoint import load_checkpoint
from i2i_nb.data.io import read_image
from i2i_nb.data.preprocess import Preprocessor
from i2i_nb.errors import DataError
from i2i_nb.experiment import run
from tests.integration.conftest import tiny_config, write_pairs

CPU = torch.device("cpu")
DARK = {"ENABLE": True, "PROPS": [["max"]], "VALUES": [[0]], "SIGNS": [["le"]]}


def _darken(path, region=(slice(None), slice(None)), value=0):
    image = tifffile.imread(path)
    image[region] = value
    tifffile.imwrite(path, image)


@pytest.fixture
def data(tmp_path):
    root = tmp_path / "data"
    write_pairs(root, "train", 4, (40, 36), seed=1)
    write_pairs(root, "val", 2, (40, 36), seed=3)
    write_pairs(root, "test", 2, (50, 44), seed=2)
    return root


def _config(root, data_keys, **sections):
    d = {"PATCH_SIZE": [16, 16],
         "TRAIN": {"PATH": str(root / "train/x"), "GT_PATH": str(root / "train/y")},
         "VAL": {"FROM_TRAIN": False, "PATH": str(root / "val/x"), "GT_PATH": str(root / "val/y")},
         "TEST": {"PATH": str(root / "test/x"), "GT_PATH": str(root / "test/y")}}
    for key, value in data_keys.items():
        d[key] = {**d.get(key, {}), **value} if isinstance(value, dict) else value
    return tiny_config(root, DATA=d, **{"TRAIN": {"EPOCHS": 1}, **sections})


def test_preprocess_filters_and_median_padding_change_what_is_run(data, tmp_path, capsys,
                                                                  monkeypatch):
    _darken(data / "train/x/img-000.tif")
    _darken(data / "val/x/img-001.tif")
    _darken(data / "test/x/img-001.tif")
    seen, padding = [], []
    original = Preprocessor.input
    monkeypatch.setattr(Preprocessor, "input",
                        lambda self, x: seen.append(x.shape) or original(self, x))
    predict = inference.predict_image
    monkeypatch.setattr(inference, "predict_image", lambda *a, **k: padding.append(
        k.get("median_padding", False)) or predict(*a, **k))
    cfg = _config(data, {
        "SAVE_FILTERED_IMAGES": True, "SAVE_FILTERED_IMAGES_NUM": 2,
        "TRAIN": {"FILTER_SAMPLES": DARK}, "VAL": {"FILTER_SAMPLES": DARK},
        "TEST": {"FILTER_SAMPLES": DARK, "MEDIAN_PADDING": True},
        "PREPROCESS": {"TRAIN": True, "VAL": True, "TEST": True,
                       "RESIZE": {"ENABLE": True, "OUTPUT_SHAPE": [24, 20]},
                       "GAUSSIAN_BLUR": {"ENABLE": True}}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the darkened images are constant
        result = run(cfg, tmp_path / "out", "p", 1, CPU)
    out = capsys.readouterr().out
    assert "DATA.TRAIN.FILTER_SAMPLES: 3 of 4 images kept" in out
    assert "DATA.VAL.FILTER_SAMPLES: 1 of 2 images kept" in out
    assert "DATA.TEST.FILTER_SAMPLES: 1 of 2 test images kept" in out
    shown = result.paths.run_dir / "filtering_information"
    assert sorted(p.name for p in (shown / "train/filtered").iterdir()) == ["img-000.tif"]
    assert sorted(p.name for p in (shown / "train/not-filtered").iterdir()) == [
        "img-001.tif", "img-002.tif"]
    assert sorted(p.name for p in (shown / "val/filtered").iterdir()) == ["img-001.tif"]
    # pre-processed: 3 training, 1 validation and the 1 test image kept
    assert seen == [(40, 36, 1)] * 4 + [(50, 44, 1)]
    per_image = sorted((result.paths.run_dir / "per_image").iterdir())
    assert [p.name for p in per_image] == ["img-000.tif"]
    assert tifffile.imread(per_image[0]).shape == (50, 44)  # written at the input's size
    assert [row["file"] for row in result.test_rows] == ["img-000.tif"]
    assert np.isfinite(result.test_rows[0]["psnr"])
    assert padding == [True]  # DATA.TEST.MEDIAN_PADDING reaches the tiler


def test_patch_filter_drops_grid_patches_one_by_one(data, tmp_path, capsys):
    _darken(data / "train/x/img-000.tif", (slice(0, 20), slice(0, 18)), 100)
    bright = {"ENABLE": True, "PROPS": [["min"]], "VALUES": [[50]], "SIGNS": [["ge"]]}
    cfg = _config(data, {"TRAIN": {"FILTER_SAMPLES": bright, "EXTRACT_RANDOM_PATCH": False},
                         "SAVE_FILTERED_IMAGES": True, "SAVE_FILTERED_IMAGES_NUM": 1},
                  TEST={"ENABLE": False})
    result = run(cfg, tmp_path / "out", "g", 1, CPU)
    assert "DATA.TRAIN.FILTER_SAMPLES: 35 of 36 patches kept" in capsys.readouterr().out
    example = read_image(result.paths.run_dir / "filtering_information/train/img-000.tif", 2)
    # grid corners y 0, 12, 24 and x 0, 10, 20: the patch at (0, 0), all 100, is dropped;
    # only its part no kept patch overlaps stays black
    assert not example[:12, :10].any()
    assert (example[12:20, :18] == 100).all() and example[20:, 18:].all()


def test_filters_that_drop_everything_are_refused_naming_the_key(data, tmp_path):
    every = {"ENABLE": True, "PROPS": [["max"]], "VALUES": [[-1e9]], "SIGNS": [["gt"]]}
    cfg = _config(data, {"TRAIN": {"FILTER_SAMPLES": every}}, TEST={"ENABLE": False})
    with pytest.raises(DataError, match="DATA.TRAIN.FILTER_SAMPLES"):
        run(cfg, tmp_path / "out", "e", 1, CPU)


@pytest.mark.parametrize("on_disk", ["never", "always"])
def test_force_rgb_and_roi_mask(data, tmp_path, on_disk):
    coarse = np.array([[1, 0], [1, 0]], np.uint8)  # the left half of any image
    tifffile.imwrite(tmp_path / "roi.tif", coarse)
    cfg = _config(data, {"FORCE_RGB": True, "TEST": {
        "ROI_MASK": {"ENABLE": True, "PATH": str(tmp_path / "roi.tif")}}},
        TEST={"ON_DISK": on_disk})
    result = run(cfg, tmp_path / "out", "rgb", 1, CPU)
    meta = load_checkpoint(result.paths.checkpoint("best"))["meta"]
    assert (meta["in_channels"], meta["out_channels"]) == (3, 3)
    prediction = read_image(result.paths.run_dir / "per_image" / "img-000.tif", 2)
    assert prediction.shape == (50, 44, 3)
    assert not prediction[:, 22:].any() and prediction[:, :22].all()
    assert len(result.test_rows) == 2


def test_resolution_norm_rescales_the_training_images(data, tmp_path, capsys):
    names = [f"img-{i:03d}.tif" for i in range(4)]
    (data / "train" / "resolution.json").write_text(
        "{" + ", ".join(f'"{n}": [1, 0.5, 0.5]' for n in names[:3]) + "}")
    cfg = _config(data, {"RESOLUTION_NORM": {"ENABLE": True,
                                             "TARGET_RESOLUTION": [1, 0.25, 0.25]}},
                  TEST={"ENABLE": False})
    run(cfg, tmp_path / "out", "r", 1, CPU)
    out = capsys.readouterr().out
    assert "DATA.RESOLUTION_NORM: 3 of 4 image(s) have a resolution" in out  # training
    # validation has no resolution.json of its own: the training one, by file name (BiaPy)
    assert "DATA.RESOLUTION_NORM: 2 of 2 image(s) have a resolution" in out


def test_validation_from_training_images_follows_preprocess_train(dataset_2d, tmp_path,
                                                                  monkeypatch):
    seen = []
    original = Preprocessor.input
    monkeypatch.setattr(Preprocessor, "input",
                        lambda self, x: seen.append(x.shape) or original(self, x))
    cfg = tiny_config(dataset_2d, DATA={
        "PATCH_SIZE": [16, 16], "PREPROCESS": {"TRAIN": True, "VAL": False,
                                               "GAUSSIAN_BLUR": {"ENABLE": True}},
        "TRAIN": {"PATH": str(dataset_2d / "train/x"), "GT_PATH": str(dataset_2d / "train/y")},
        "VAL": {"SPLIT_TRAIN": 0.25}}, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False})
    run(cfg, tmp_path / "out", "v", 1, CPU)
    assert len(seen) == 4  # 3 training and 1 validation image, as BiaPy
