"""Baselines beside every score, the validation guard, and the region split."""

import pickle

import numpy as np
import pytest
import tifffile
import torch
from torch import nn

from i2i_nb.baselines import QualityCheck, check_on_test, score_image
from i2i_nb.data.io import DiskImage
from i2i_nb.data.regions import DiskRegion, split_regions
from i2i_nb.guard import validation_check
from i2i_nb.metrics import image_metrics

CPU = torch.device("cpu")


def test_score_image_names_and_scores_both_baselines():
    rng = np.random.default_rng(0)
    signal = rng.random((20, 24))
    raw = np.stack([rng.random((20, 24)), 10 + 5 * signal], axis=-1)  # ch 2 informative
    target = (1000 + 300 * signal)[..., None]
    pred = target + rng.normal(0, 3, target.shape)
    row = score_image(pred, raw, target, ("psnr", "si_psnr"), (2, 3), [1100.0])
    assert row["identity"] == "input ch 2 (affine fit)"
    assert row["input_psnr"] > 100  # an exact affine relation
    cropped = target[2:-2, 3:-3]
    assert row["psnr"] == pytest.approx(image_metrics(pred[2:-2, 3:-3], cropped, ("psnr",))
                                        ["psnr"])
    flat = np.full(cropped.shape, 1100.0)
    assert row["constant_psnr"] == pytest.approx(image_metrics(flat, cropped, ("psnr",))["psnr"])
    same = score_image(pred, target, target, ("psnr",))
    assert same["identity"] == "input" and "constant_psnr" not in same
    with pytest.raises(ValueError, match="leaves nothing"):
        score_image(pred, raw, target, ("psnr",), (10, 0))


def test_quality_check_verdicts():
    good = QualityCheck("test images", 30.0, 20.0, 25.0)
    assert good.passed and good.baseline[1] == 25.0 and good.gain == 5.0
    assert good.message().startswith("Quality check")
    bad = QualityCheck("validation patches", 15.0, 15.8, 15.8, "input ch 1 (affine fit)")
    assert not bad.passed and bad.message().startswith("WARNING")
    assert "more epochs" in bad.message() and "DATA.PATCH_SIZE" in bad.message()
    assert bad.to_dict()["passed"] is False
    check = check_on_test({"psnr": 22.0, "input_psnr": 21.5, "constant_psnr": 18.0,
                        "identity": "input"})
    assert check is not None and not check.passed
    assert check_on_test({"psnr": float("nan")}) is None


class _Affine(nn.Module):
    def __init__(self, gain: float, offset: float) -> None:
        super().__init__()
        self.gain, self.offset = gain, offset

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gain * x[:, 1:2] + self.offset


def _patches(noise: float) -> list[tuple[torch.Tensor, torch.Tensor]]:
    rng = np.random.default_rng(1)
    items = []
    for _ in range(6):
        x = rng.normal(size=(2, 8, 8)).astype(np.float32)
        y = (0.5 * x[1:2] + rng.normal(0, noise, (1, 8, 8))).astype(np.float32)
        items.append((torch.from_numpy(x), torch.from_numpy(y)))
    return items


def test_validation_check_against_baselines():
    data = _patches(noise=0.3)
    # the affine fit of input channel 2 is the best one can do: no margin over it
    check = validation_check(_Affine(0.5, 0.0), data, [0.0], CPU, batch_size=4)
    assert check.identity == "input ch 2 (affine fit)"
    assert not check.passed and abs(check.gain) < 0.2
    # a constant prediction equals the constant baseline
    flat = validation_check(_Affine(0.0, 0.0), data, [0.0], CPU, batch_size=4)
    assert flat.model_psnr == pytest.approx(flat.constant_psnr)
    assert not flat.passed


def test_split_regions_in_memory_and_on_disk(tmp_path):
    x, y = np.zeros((40, 100, 2)), np.ones((40, 100, 1))
    train, val = split_regions([(x, y)], 0.1, (16, 16))
    assert train[0][0].shape == (40, 84, 2) and val[0][1].shape == (40, 16, 1)
    assert split_regions([(x[:20, :20], y[:20, :20])], 0.1, (16, 16)) is None  # < 2 patches
    tifffile.imwrite(tmp_path / "x.tif", np.arange(40 * 100, dtype=np.uint16).reshape(40, 100))
    disk = DiskImage(tmp_path / "x.tif", 2)
    train, val = split_regions([(disk, disk)], 0.25, (16, 16))
    assert isinstance(val[0][0], DiskRegion) and val[0][0].shape == (40, 25, 1)
    again = pickle.loads(pickle.dumps(val[0][0]))
    np.testing.assert_array_equal(again[:, :3], np.asarray(disk)[:, 75:78])


@pytest.mark.parametrize(("values", "expected"), [
    ({"SPLIT_BY": "region"}, True), ({"SPLIT_BY": "image"}, False),
    ({"SPLIT_BY": "region", "SPLIT_TRAIN": 0.0}, False),
    ({"SPLIT_BY": "region", "CROSS_VAL": True}, False)])
def test_region_split_chosen(values, expected):
    from i2i_nb.config import config_from_dict
    from i2i_nb.data.regions import region_split_chosen

    cfg = config_from_dict({"DATA": {"VAL": values}})
    assert region_split_chosen(cfg.data.val) is expected


def test_report_shows_model_and_both_baselines_and_the_verdict():
    from i2i_nb.report import report

    rows = [{"file": "a.tif", "psnr": 15.0, "si_psnr": 21.6, "input_psnr": 15.8,
             "input_si_psnr": 21.7, "constant_psnr": 15.8, "constant_si_psnr": 21.8,
             "identity": "input ch 2 (affine fit)"}]
    text = report(rows)
    assert "identity baseline: input ch 2 (affine fit)" in text and "SI-PSNR" in text
    assert "WARNING: on the test images the model scores 15.00 dB" in text
    only_mae = report([{"file": "a.tif", "mae": 1.0, "input_mae": 2.0, "constant_mae": 3.0}])
    assert "MAE" in only_mae and "WARNING" not in only_mae
    assert report([{"file": "a.tif"}]) == ""
