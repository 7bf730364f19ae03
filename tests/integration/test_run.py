"""The engine end to end on tiny data: results tree, resume, reproducibility, errors."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

from i2i_nb.checkpoint import load_checkpoint
from i2i_nb.errors import ConfigError, DataError
from i2i_nb.experiment import run
from i2i_nb.train import TrainingDivergedError
from tests.integration.conftest import tiny_config, write_pairs

CPU = torch.device("cpu")


def listing(root):
    return sorted((p, os.path.getmtime(os.path.join(p, f)), f)
                  for p, _, files in os.walk(root) for f in files)


def test_run_writes_tree_and_predicts_in_target_units(dataset_2d, tmp_path):
    before = listing(dataset_2d)
    result = run(tiny_config(dataset_2d), tmp_path / "out", "job", 3, CPU)
    assert listing(dataset_2d) == before
    paths = result.paths
    assert paths.checkpoint("best").is_file() and paths.checkpoint("last").is_file()
    assert (paths.root / "config_files" / "config.yaml").is_file()
    assert len(result.history) == 4
    prediction = tifffile.imread(paths.sub("per_image") / "img-000.tif")
    target = tifffile.imread(dataset_2d / "test/y/img-000.tif")
    assert prediction.shape == target.shape and prediction.dtype == np.float32
    # inputs are around 0.25, targets around 2500: predictions must land in target units
    assert 1000 < prediction.mean() < 4000
    assert len(result.test_rows) == 2 and np.isfinite(result.test_mean["psnr"])
    record = json.loads((paths.run_dir / "run_record.json").read_text())
    assert record["seed"] == 0 and record["config"]["TRAIN"]["EPOCHS"] == 4
    assert torch.__version__.startswith(record["versions"]["torch"])
    files = {Path(f["path"]).name for f in record["data_files"]}
    assert len(record["data_files"]) == 12 and "img-003.tif" in files
    assert all(len(f["sha256"]) == 64 for f in record["data_files"])


def test_same_seed_same_numbers(dataset_2d, tmp_path):
    a = run(tiny_config(dataset_2d), tmp_path / "a", "job", 1, CPU)
    b = run(tiny_config(dataset_2d), tmp_path / "b", "job", 1, CPU)
    assert [r["loss"] for r in a.history] == [r["loss"] for r in b.history]
    pa = tifffile.imread(a.paths.sub("per_image") / "img-001.tif")
    pb = tifffile.imread(b.paths.sub("per_image") / "img-001.tif")
    np.testing.assert_array_equal(pa, pb)


def test_interrupted_then_resumed_equals_uninterrupted(dataset_2d, tmp_path):
    cfg = tiny_config(dataset_2d, TEST={"ENABLE": False})
    straight = run(cfg, tmp_path / "a", "job", 1, CPU)
    epochs_done = []
    run(cfg, tmp_path / "b", "job", 1, CPU, on_epoch=epochs_done.append,
        stop_requested=lambda: len(epochs_done) == 2)
    assert len(epochs_done) == 2
    resumed = run(cfg, tmp_path / "b", "job", 1, CPU, resume=True)
    assert [r["loss"] for r in resumed.history] == [r["loss"] for r in straight.history]
    wa = load_checkpoint(straight.paths.checkpoint("last"))["model"]
    wb = load_checkpoint(resumed.paths.checkpoint("last"))["model"]
    for key in wa:
        torch.testing.assert_close(wa[key], wb[key], rtol=0, atol=0)


def test_predict_only_from_checkpoint_matches_test_phase(dataset_2d, tmp_path):
    trained = run(tiny_config(dataset_2d), tmp_path / "out", "job", 1, CPU)
    cfg = tiny_config(dataset_2d, TRAIN={"ENABLE": False},
                      MODEL={"LOAD_CHECKPOINT": True},
                      PATHS={"CHECKPOINT_FILE": str(trained.paths.checkpoint("best"))})
    again = run(cfg, tmp_path / "out", "job", 2, CPU)
    for name in ("img-000.tif", "img-001.tif"):
        np.testing.assert_array_equal(tifffile.imread(trained.paths.sub("per_image") / name),
                                      tifffile.imread(again.paths.sub("per_image") / name))


def test_channels_differ_and_uint16_output(tmp_path):
    root = tmp_path / "data"
    write_pairs(root, "train", 3, (32, 32), seed=3, in_channels=2, out_channels=1)
    write_pairs(root, "test", 1, (40, 40), seed=4, in_channels=2, out_channels=1)
    result = run(tiny_config(root, TEST={"OUTPUT_DTYPE": "uint16"}), tmp_path / "out", "j", 1, CPU)
    prediction = tifffile.imread(result.paths.sub("per_image") / "img-000.tif")
    assert prediction.shape == (40, 40) and prediction.dtype == np.uint16
    row = result.test_rows[0]  # identity: the best input channel after an affine fit
    assert row["identity"] == "input ch 1 (affine fit)" and np.isfinite(row["input_psnr"])
    assert np.isfinite(row["constant_psnr"]) and np.isfinite(row["si_psnr"])


def test_3d_run(tmp_path):
    root = tmp_path / "data"
    write_pairs(root, "train", 3, (8, 24, 24), seed=5)
    write_pairs(root, "test", 1, (10, 30, 26), seed=6)
    result = run(tiny_config(root, ndim=3), tmp_path / "out", "j", 1, CPU)
    prediction = tifffile.imread(result.paths.sub("per_image") / "img-000.tif")
    assert prediction.shape == (10, 30, 26)


def test_multiple_raw_one_target(tmp_path):
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for sample in ("a", "b"):
            (root / split / "x" / sample).mkdir(parents=True)
            (root / split / "y").mkdir(parents=True, exist_ok=True)
            tifffile.imwrite(root / split / "y" / f"{sample}.tif",
                             rng.random((32, 32), np.float32))
            for k in range(3):  # the same raw names in every sample folder
                tifffile.imwrite(root / split / "x" / sample / f"raw{k}.tif",
                                 rng.random((32, 32), np.float32))
    cfg = tiny_config(root, PROBLEM={"NDIM": "2D",
                                     "IMAGE_TO_IMAGE": {"MULTIPLE_RAW_ONE_TARGET_LOADER": True}})
    result = run(cfg, tmp_path / "out", "j", 1, CPU)
    assert len(result.history) == 4
    written = sorted(p.relative_to(result.paths.sub("per_image")).as_posix()
                     for p in result.paths.sub("per_image").rglob("*.tif"))
    assert written == [f"{s}/raw{k}.tif" for s in "ab" for k in range(3)]
    assert [row["file"] for row in result.test_rows] == written


def test_bad_data_is_refused_before_training(dataset_2d, tmp_path):
    (dataset_2d / "train/y/img-003.tif").unlink()
    before = listing(dataset_2d)
    with pytest.raises(DataError, match="without a partner"):
        run(tiny_config(dataset_2d), tmp_path / "out", "job", 1, CPU)
    assert listing(dataset_2d) == before
    assert not (tmp_path / "out" / "job" / "checkpoints").exists()


def test_test_data_checked_before_training(dataset_2d, tmp_path):
    tifffile.imwrite(dataset_2d / "test/y/img-001.tif", np.zeros((7, 7), np.uint16))
    with pytest.raises(DataError, match="img-001.tif"):
        run(tiny_config(dataset_2d), tmp_path / "out", "job", 1, CPU)
    assert not (tmp_path / "out" / "job" / "checkpoints").exists()


def test_result_dir_inside_data_is_refused(dataset_2d):
    with pytest.raises(ConfigError, match="inside the data folder"):
        run(tiny_config(dataset_2d), dataset_2d / "train" / "x", "job", 1, CPU)


def test_patch_not_divisible_is_refused(dataset_2d, tmp_path):
    cfg = tiny_config(dataset_2d, DATA={"PATCH_SIZE": [17, 17]})
    with pytest.raises(ConfigError, match="DATA.PATCH_SIZE"):
        run(cfg, tmp_path / "out", "job", 1, CPU)


def test_diverging_loss_stops_with_message(dataset_2d, tmp_path):
    cfg = tiny_config(dataset_2d, TRAIN={"LR": 1e12, "LR_SCHEDULER": {"NAME": "none"},
                                         "OPTIMIZER": "SGD"})
    with pytest.raises(TrainingDivergedError, match="TRAIN.LR"):
        run(cfg, tmp_path / "out", "job", 1, CPU)


def test_early_stopping_when_validation_stalls(dataset_2d, tmp_path, monkeypatch):
    monkeypatch.setattr("i2i_nb.train.evaluate", lambda *args: (1.0, {"psnr": 10.0}))
    cfg = tiny_config(dataset_2d, TRAIN={"EPOCHS": 10, "PATIENCE": 2}, TEST={"ENABLE": False})
    result = run(cfg, tmp_path / "out", "job", 1, CPU)
    assert len(result.history) == 3  # best at epoch 1, then two epochs without improvement


@pytest.mark.parametrize("ndim", [2, 3])
def test_biapy_style_config_through_cli(tmp_path, ndim, capsys):
    from i2i_nb.cli import main
    from tests.unit.test_config import BIAPY_STYLE_2D, BIAPY_STYLE_3D

    root = tmp_path / "data"
    shape = (40, 40) if ndim == 2 else (8, 32, 32)
    write_pairs(root, "train", 3, shape, seed=8)
    write_pairs(root, "test", 1, shape, seed=9)
    text = (BIAPY_STYLE_2D if ndim == 2 else BIAPY_STYLE_3D).replace("/data/", f"{root}/")
    paths = {"TRAIN.PATH": "train/x", "TRAIN.GT_PATH": "train/y", "TEST.PATH": "test/x",
             "TEST.GT_PATH": "test/y"}  # the 3D template leaves them at their defaults
    config = tmp_path / f"{ndim}d_image-to-image.yaml"
    config.write_text(text)
    sets = ["TRAIN.EPOCHS=1", "TRAIN.PATCHES_PER_EPOCH=8", "TRAIN.BATCH_SIZE=4",
            f"DATA.PATCH_SIZE={[16, 16] if ndim == 2 else [8, 16, 16]}"]
    if ndim == 3:
        sets += [f"DATA.{k}={root / v}" for k, v in paths.items()]
    args = ["--config", str(config), "--result_dir", str(tmp_path / "out"), "--name", "biapy",
            "--run_id", "1", "--gpu", "cpu"] + [a for s in sets for a in ("--set", s)]
    assert main(args) == 0
    assert "CPU threads (SYSTEM.NUM_CPUS all" in capsys.readouterr().out  # the choice, logged
    run_dir = tmp_path / "out" / "biapy" / "results" / "biapy_1"
    assert (run_dir / "per_image" / "img-000.tif").is_file()
    assert any((run_dir / "tensorboard").iterdir())  # opened after the first epoch
    assert (tmp_path / "out" / "biapy" / "config_files" / config.name).is_file()


def _predict_only(root, checkpoint, **overrides):
    return tiny_config(root, TRAIN={"ENABLE": False}, MODEL={"LOAD_CHECKPOINT": True},
                       PATHS={"CHECKPOINT_FILE": str(checkpoint)}, **overrides)


def test_predict_without_targets_and_single_file(dataset_2d, tmp_path):
    trained = run(tiny_config(dataset_2d, TEST={"ENABLE": False}), tmp_path / "out", "j", 1, CPU)
    best = trained.paths.checkpoint("best")
    new = tmp_path / "new"
    write_pairs(new, "test", 2, (61, 47), seed=11)
    (new / "test" / "y").rename(tmp_path / "elsewhere")  # no targets at all
    cfg = _predict_only(new, best, DATA={"PATCH_SIZE": [16, 16], "TEST": {
        "PATH": str(new / "test/x"), "LOAD_GT": False}})
    result = run(cfg, tmp_path / "out", "j", 2, CPU)
    assert [r["file"] for r in result.test_rows] == ["img-000.tif", "img-001.tif"]
    assert "psnr" not in result.test_rows[0]
    assert not (result.paths.run_dir / "test_metrics.csv").exists()
    assert tifffile.imread(result.paths.sub("per_image") / "img-001.tif").shape == (61, 47)

    single = _predict_only(new, best, DATA={"PATCH_SIZE": [16, 16], "TEST": {
        "PATH": str(new / "test/x/img-001.tif"), "LOAD_GT": False}})
    one = run(single, tmp_path / "out", "j", 3, CPU)
    np.testing.assert_array_equal(tifffile.imread(one.paths.sub("per_image") / "img-001.tif"),
                                  tifffile.imread(result.paths.sub("per_image") / "img-001.tif"))


def test_checkpoint_disagreeing_with_data_or_config(dataset_2d, tmp_path):
    trained = run(tiny_config(dataset_2d, TEST={"ENABLE": False}), tmp_path / "out", "j", 1, CPU)
    best = trained.paths.checkpoint("best")
    with pytest.raises(ConfigError, match="PROBLEM.NDIM"):
        run(_predict_only(dataset_2d, best, PROBLEM={"NDIM": "3D"},
                          DATA={"PATCH_SIZE": [4, 16, 16]}), tmp_path / "out", "j", 2, CPU)
    two = tmp_path / "two"
    write_pairs(two, "test", 1, (32, 32), seed=12, in_channels=2)
    with pytest.raises(DataError, match="img-000.tif.*2 channel"):
        run(_predict_only(two, best), tmp_path / "out", "j", 3, CPU)


def test_tta_matches_plain_prediction_for_an_equivariant_model(dataset_2d, tmp_path):
    from i2i_nb.predict import predict_image
    from i2i_nb.tta import predict_tta

    model = torch.nn.Conv2d(1, 1, 1)  # a 1x1 convolution commutes with flips and rotations
    model.ndim, model.divisor, model.halo = 2, (1, 1), (0, 0)
    image = np.random.default_rng(0).random((20, 28, 1), np.float32)
    plain = predict_image(model.eval(), image, None)
    np.testing.assert_allclose(predict_tta(model, image, 2, tile_shape=None), plain, atol=1e-6)


def test_out_of_memory_retries_with_smaller_tiles():
    from i2i_nb.inference import predict_with_retry
    from i2i_nb.models import build_model

    model = build_model("unet", 2, 1, 1, feature_maps=(4, 8)).eval()
    forward, seen = model.forward, []

    def limited(x):  # a device that cannot hold a tile larger than 32x32
        seen.append(tuple(x.shape[2:]))
        if x.shape[2] * x.shape[3] > 32 * 32:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return forward(x)

    model.forward = limited
    image = np.random.default_rng(0).random((100, 90, 1), np.float32)
    with pytest.warns(UserWarning, match="retrying with tiles of"):
        out = predict_with_retry(model, image, 2, False, tile_shape=(128, 128), overlap=None,
                                 batch_size=1, device="cpu")
    assert out.shape == (100, 90, 1) and max(h * w for h, w in seen[-3:]) <= 32 * 32
    model.forward = forward
    whole = predict_with_retry(model, image, 2, False, tile_shape=None, overlap=None,
                               batch_size=1, device="cpu")
    assert np.abs(out - whole).max() < 0.05 * whole.std()


def test_compiled_training_matches_eager(dataset_2d, tmp_path):
    """TRAIN.COMPILE trains through torch.compile, to the same losses as eager mode."""
    cfg = tiny_config(dataset_2d, TRAIN={"EPOCHS": 2, "BATCH_SIZE": 4, "PATCHES_PER_EPOCH": 8},
                      TEST={"ENABLE": False})
    eager = run(cfg, tmp_path / "eager", "job", 1, CPU)
    compiled = run(tiny_config(dataset_2d, TRAIN={"EPOCHS": 2, "BATCH_SIZE": 4,
                                                  "PATCHES_PER_EPOCH": 8, "COMPILE": True},
                               TEST={"ENABLE": False}), tmp_path / "compiled", "job", 1, CPU)
    np.testing.assert_allclose([r["loss"] for r in compiled.history],
                               [r["loss"] for r in eager.history], rtol=1e-3)
