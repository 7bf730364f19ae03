"""The guard fires on a run made to fail; metric keys reach the logs and the metrics CSV."""

import csv
import json

import numpy as np
import pytest
import tifffile
import torch

from i2i_nb.config import config_from_dict
from i2i_nb.errors import ConfigError
from i2i_nb.experiment import run
from tests.integration.conftest import tiny_config, write_pairs

CPU = torch.device("cpu")


def _noise_targets(root, count, shape, seed):
    """Inputs with structure, targets of pure noise: nothing to learn."""
    rng = np.random.default_rng(seed)
    for split, n in (("train", count), ("test", 1)):
        for i in range(n):
            for folder, image in (("x", rng.random(shape, np.float32)),
                                  ("y", (1000 + 100 * rng.random(shape)).astype(np.uint16))):
                (root / split / folder).mkdir(parents=True, exist_ok=True)
                tifffile.imwrite(root / split / folder / f"img-{i:03d}.tif", image)


def test_guard_fires_when_the_model_cannot_beat_the_baselines(tmp_path, capsys):
    root = tmp_path / "data"
    _noise_targets(root, 4, (32, 32), seed=0)
    cfg = tiny_config(root, TRAIN={"EPOCHS": 1, "LR": 1e-6})
    result = run(cfg, tmp_path / "out", "job", 1, CPU)
    out = capsys.readouterr().out
    assert "WARNING: on the validation patches the model" in out
    assert "What usually helps: more training images" in out
    checks = json.loads((result.paths.run_dir / "quality_check.json").read_text())
    assert checks["validation"]["passed"] is False and checks["test"]["passed"] is False
    assert not result.checks["validation"].passed
    with (result.paths.run_dir / "test_metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows[-1]["file"] == "mean" and rows[0]["identity"] == "input"
    assert float(rows[0]["constant_psnr"]) > float(rows[0]["psnr"])


def test_metric_keys_reach_log_csv_and_scores(tmp_path):
    root = tmp_path / "data"
    write_pairs(root, "train", 3, (32, 32), seed=1)
    write_pairs(root, "test", 1, (40, 40), seed=2)
    cfg = tiny_config(root, TRAIN={"EPOCHS": 2, "METRICS": ["PSNR", "ssim", "pcc", "mae"]},
                      TEST={"METRICS": ["psnr", "nrmse"], "EVAL_BORDER_CROP": [4, 4]},
                      DATA={"VAL": {"SPLIT_TRAIN": 0.25, "SPLIT_BY": "region"}})
    result = run(cfg, tmp_path / "out", "job", 1, CPU)
    log = result.paths.sub("train_logs") / "job_1_log.csv"
    with log.open() as handle:
        header = next(csv.reader(handle))
    assert header == ["epoch", "loss", "val_loss", "val_psnr", "val_ssim", "val_pcc", "val_mae",
                      "lr", "seconds"]
    assert all(np.isfinite(result.history[-1][k]) for k in header[3:7])
    row = result.test_rows[0]
    assert {"psnr", "nrmse", "input_psnr", "constant_nrmse"} <= set(row) and "ssim" not in row
    prediction = tifffile.imread(result.paths.sub("per_image") / "img-000.tif")
    target = tifffile.imread(root / "test/y/img-000.tif").astype(np.float64)
    mse = np.mean((prediction[4:-4, 4:-4] - target[4:-4, 4:-4]) ** 2)
    assert row["psnr"] == pytest.approx(10 * np.log10(target[4:-4, 4:-4].max() ** 2 / mse),
                                        rel=1e-5)


@pytest.mark.parametrize(("values", "message"), [
    ({"TEST": {"METRICS": ["fid"]}}, "TEST.METRICS: 'fid' needs the pretrained Inception-v3"),
    ({"TEST": {"METRICS": ["lpips"]}}, "downloaded at run time"),
    ({"TRAIN": {"METRICS": ["iou"]}}, "TRAIN.METRICS: 'iou' is not one of psnr"),
    ({"TEST": {"EVAL_BORDER_CROP": [1, 2, 3]}}, "TEST.EVAL_BORDER_CROP: needs 2 values"),
    ({"TEST": {"EVAL_BORDER_CROP": [1, -2]}}, "must not be negative"),
    ({"DATA": {"VAL": {"SPLIT_BY": "pixel"}}}, "DATA.VAL.SPLIT_BY"),
])
def test_metric_keys_refused_with_the_key_named(values, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(values)
