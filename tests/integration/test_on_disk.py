"""Training from images left on disk and prediction from disk to disk, against in memory."""

import numpy as np
import pytest
import tifffile
import torch

from i2i_nb import inference
from i2i_nb.checkpoint import load_checkpoint
from i2i_nb.experiment import run
from tests.integration.conftest import tiny_config, write_pairs

CPU = torch.device("cpu")


@pytest.mark.parametrize("ndim", [2, 3])
def test_training_from_disk_equals_training_in_memory(tmp_path, ndim):
    root = tmp_path / "data"
    shape = (40, 36) if ndim == 2 else (8, 24, 24)
    write_pairs(root, "train", 4, shape, seed=1)
    write_pairs(root, "test", 1, shape, seed=2)
    runs = [run(tiny_config(root, ndim, DATA={"TRAIN": {
        "PATH": str(root / "train/x"), "GT_PATH": str(root / "train/y"), "IN_MEMORY": flag}}),
        tmp_path / str(flag), "job", 1, CPU) for flag in (True, False)]
    assert [r["loss"] for r in runs[0].history] == [r["loss"] for r in runs[1].history]
    weights = [load_checkpoint(r.paths.checkpoint("last"))["model"] for r in runs]
    for key in weights[0]:
        torch.testing.assert_close(weights[0][key], weights[1][key], rtol=0, atol=0)


@pytest.mark.parametrize("ndim", [2, 3])
def test_prediction_from_disk_to_disk_equals_in_memory(tmp_path, ndim):
    root = tmp_path / "data"
    write_pairs(root, "train", 3, (40, 36) if ndim == 2 else (8, 24, 24), seed=3)
    write_pairs(root, "test", 2, (50, 44) if ndim == 2 else (10, 30, 26), seed=4)
    trained = run(tiny_config(root, ndim, TEST={"ENABLE": False}), tmp_path / "out", "job", 1,
                  CPU)
    outputs = {}
    cases = [(False, "float32"), (True, "uint16")]
    tiles = {"PATH": str(root / "test/x"), "GT_PATH": str(root / "test/y"),
             "TILE_SHAPE": [32, 32] if ndim == 2 else [8, 32, 32]}  # deeper than the patch
    for mode in ("never", "always"):
        for tta, dtype in cases:
            cfg = tiny_config(root, ndim, TRAIN={"ENABLE": False}, DATA={"TEST": tiles},
                              MODEL={"LOAD_CHECKPOINT": True},
                              PATHS={"CHECKPOINT_FILE": str(trained.paths.checkpoint("best"))},
                              TEST={"ON_DISK": mode, "AUGMENTATION": tta,
                                    "OUTPUT_DTYPE": dtype})
            result = run(cfg, tmp_path / "out", f"{mode}-{tta}-{dtype}", 1, CPU)
            image = tifffile.imread(result.paths.sub("per_image") / "img-001.tif")
            outputs[mode, tta, dtype] = image, result.test_rows[1]
    for tta, dtype in cases:
        memory, row_m = outputs["never", tta, dtype]
        disk, row_d = outputs["always", tta, dtype]
        assert disk.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(disk, memory)
        assert row_d["psnr"] == pytest.approx(row_m["psnr"], rel=1e-9)
        assert row_d["mae"] == pytest.approx(row_m["mae"], rel=1e-9)
        assert row_d["ssim"] == pytest.approx(row_m["ssim"], rel=1e-9)
    assert not list((tmp_path / "out").rglob("*.tmp"))


def test_auto_goes_to_disk_when_memory_is_short(dataset_2d, tmp_path, monkeypatch):
    on_disk = []
    real = inference._predict_on_disk
    monkeypatch.setattr(inference, "_predict_on_disk",
                        lambda *args: on_disk.append(args[3]) or real(*args))
    trained = run(tiny_config(dataset_2d), tmp_path / "out", "job", 1, CPU)
    assert on_disk == []  # plenty of memory: in memory
    monkeypatch.setattr(inference, "available_memory", lambda: 1 << 10)
    cfg = tiny_config(dataset_2d, TRAIN={"ENABLE": False}, MODEL={"LOAD_CHECKPOINT": True},
                      PATHS={"CHECKPOINT_FILE": str(trained.paths.checkpoint("best"))})
    again = run(cfg, tmp_path / "out", "job", 2, CPU)
    assert [path.name for path in on_disk] == ["img-000.tif", "img-001.tif"]
    assert again.test_rows[0]["ssim"] == pytest.approx(trained.test_rows[0]["ssim"], rel=1e-9)
    np.testing.assert_array_equal(
        tifffile.imread(again.paths.sub("per_image") / "img-000.tif"),
        tifffile.imread(trained.paths.sub("per_image") / "img-000.tif"))
