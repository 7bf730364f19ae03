"""BiaPy's training and test keys change what they say, through the whole engine."""

from pathlib import Path

import numpy as np
import pytest
import torch

from i2i_nb.cli import main
from i2i_nb.config import config_from_dict
from i2i_nb.data.grid import GridPatchDataset, grid_starts
from i2i_nb.data.split import validation_split
from i2i_nb.errors import DataError
from i2i_nb.experiment import run
from i2i_nb.tta import predict_tta
from tests.integration.conftest import tiny_config, write_pairs

CPU = torch.device("cpu")


def test_patience_minus_one_never_stops_early(dataset_2d, tmp_path):
    cfg = tiny_config(dataset_2d, TRAIN={"EPOCHS": 5, "PATIENCE": -1, "LR": 1e-6},
                      TEST={"ENABLE": False})
    assert len(run(cfg, tmp_path / "out", "p", 1, CPU).history) == 5


def test_grid_patches_cover_each_image_once_per_epoch():
    assert grid_starts(100, 32) == [0, 23, 45, 68]
    half = grid_starts(100, 32, 0.5)
    assert half[0] == 0 and half[-1] == 68 and max(np.diff(half)) <= 16
    image = np.arange(64 * 48, dtype=np.float32).reshape(64, 48, 1)
    data = GridPatchDataset([(image, image)], (32, 16), None, seed=0, replicate=1)
    assert len(data) == 2 * 2 * 3
    corners = {(int(x[0, 0, 0]) // 48, int(x[0, 0, 0]) % 48) for x, _ in data}
    assert corners == {(y, x) for y in (0, 32) for x in (0, 16, 32)}


def test_extract_random_patch_false_trains_on_the_grid(dataset_2d, tmp_path):
    cfg = tiny_config(dataset_2d, DATA={"PATCH_SIZE": [16, 16], "TRAIN": {
        "PATH": str(dataset_2d / "train/x"), "GT_PATH": str(dataset_2d / "train/y"),
        "EXTRACT_RANDOM_PATCH": False, "REPLICATE": 1}}, TRAIN={"EPOCHS": 1},
        TEST={"ENABLE": False})
    assert run(cfg, tmp_path / "out", "g", 1, CPU).history[0]["loss"] > 0


def test_validation_split_random_false_takes_the_last_and_cross_val_folds():
    pairs = list(range(10))
    val = config_from_dict({"DATA": {"VAL": {"RANDOM": False, "SPLIT_TRAIN": 0.2}}}).data.val
    assert validation_split(pairs, val, 0) == (list(range(8)), [8, 9])
    folds = config_from_dict({"DATA": {"VAL": {"CROSS_VAL": True, "CROSS_VAL_NFOLD": 5,
                                               "CROSS_VAL_FOLD": 2, "RANDOM": False}}}).data.val
    assert validation_split(pairs, folds, 0)[1] == [2, 3]
    seen = set()
    for fold in range(1, 6):
        folds.cross_val_fold = fold
        seen.update(validation_split(pairs, folds, 0)[1])
    assert seen == set(pairs)


def test_use_val_as_test_scores_the_validation_fold(tmp_path):
    root = tmp_path / "data"
    write_pairs(root, "train", 4, (32, 32), seed=1)
    cfg = tiny_config(root, DATA={"PATCH_SIZE": [16, 16], "TRAIN": {
        "PATH": str(root / "train/x"), "GT_PATH": str(root / "train/y")},
        "VAL": {"CROSS_VAL": True, "CROSS_VAL_NFOLD": 2, "CROSS_VAL_FOLD": 1, "RANDOM": False},
        "TEST": {"USE_VAL_AS_TEST": True, "PATH": str(tmp_path / "nowhere")}},
        TRAIN={"EPOCHS": 1})
    result = run(cfg, tmp_path / "out", "v", 1, CPU)
    assert [r["file"] for r in result.test_rows] == ["img-000.tif", "img-001.tif"]
    assert (result.paths.run_dir / "test_metrics.csv").is_file()


def test_reflect_to_complete_shape_false_refuses_small_images(tmp_path):
    root = tmp_path / "data"
    write_pairs(root, "train", 2, (12, 40), seed=1)
    cfg = tiny_config(root, DATA={"PATCH_SIZE": [16, 16], "REFLECT_TO_COMPLETE_SHAPE": False,
                                  "TRAIN": {"PATH": str(root / "train/x"),
                                            "GT_PATH": str(root / "train/y")}},
                      TEST={"ENABLE": False})
    with pytest.raises(DataError, match=r"img-00[01]\.tif \(12, 40\)"):
        run(cfg, tmp_path / "out", "r", 1, CPU)


class _Ramp(torch.nn.Module):
    """Adds a 0..1 ramp along the last axis of whatever orientation it is shown."""

    ndim, divisor, halo, receptive_field = 2, (1, 1), (0, 0), (0, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ramp = torch.linspace(0, 1, x.shape[-1]).expand_as(x)
        return x + ramp


@pytest.mark.parametrize("mode", ["mean", "min", "max"])
def test_test_time_augmentation_modes(mode):
    image = np.zeros((8, 8, 1), np.float32)
    out = predict_tta(_Ramp().eval(), image, 2, mode=mode, tile_shape=None, overlap=None,
                      batch_size=1, device=CPU, amp=False)
    expected = {"mean": 0.5, "min": 0.0, "max": 1.0}[mode]
    assert out[0, 0, 0] == pytest.approx(expected, abs=1e-6)


def test_save_ckpt_freq_keeps_every_nth_epoch_and_training_resumes_from_a_checkpoint(
        dataset_2d, tmp_path):
    cfg = tiny_config(dataset_2d, TRAIN={"EPOCHS": 4}, MODEL={"FEATURE_MAPS": [4, 8],
                                                              "SAVE_CKPT_FREQ": 2},
                      TEST={"ENABLE": False})
    first = run(cfg, tmp_path / "out", "c", 1, CPU)
    kept = sorted(p.name for p in (tmp_path / "out" / "c" / "checkpoints").glob("*-[0-9].pth"))
    assert kept == ["c_1-checkpoint-2.pth", "c_1-checkpoint-4.pth"]
    last = first.paths.checkpoint("last")
    finetune = tiny_config(dataset_2d, TRAIN={"EPOCHS": 6}, TEST={"ENABLE": False}, MODEL={
        "LOAD_CHECKPOINT": True, "FEATURE_MAPS": [4, 8],
        "ITEMS_TO_LOAD_FROM_CHECKPOINT": ["weights", "norm", "model_arch", "optimizer",
                                          "epoch"]}, PATHS={"CHECKPOINT_FILE": str(last)})
    history = run(finetune, tmp_path / "out", "f", 1, CPU).history
    assert [row["epoch"] for row in history] == [5, 6]
    mismatch = tiny_config(dataset_2d, TEST={"ENABLE": False}, MODEL={
        "LOAD_CHECKPOINT": True, "FEATURE_MAPS": [8, 16],
        "ITEMS_TO_LOAD_FROM_CHECKPOINT": ["weights"]}, PATHS={"CHECKPOINT_FILE": str(last)})
    from i2i_nb.errors import ConfigError

    with pytest.raises(ConfigError, match="do not fit the network"):
        run(mismatch, tmp_path / "out", "m", 1, CPU)


def test_biapy_command_line_flags(tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["-v"])
    assert done.value.code == 0 and "i2i-nb" in capsys.readouterr().out
    root = tmp_path / "data"
    write_pairs(root, "train", 2, (32, 32), seed=1)
    config = tmp_path / "c.yaml"
    config.write_text(f"DATA:\n  PATCH_SIZE: (16, 16, 1)\n  TRAIN:\n    PATH: {root}/train/x\n"
                      f"    GT_PATH: {root}/train/y\nMODEL:\n  FEATURE_MAPS: [4, 8]\n"
                      "TRAIN:\n  EPOCHS: 1\n  PATCHES_PER_EPOCH: 8\n  BATCH_SIZE: 4\n"
                      "TEST:\n  ENABLE: False\n")
    args = ["-cfg", str(config), "-rdir", str(tmp_path / "out"), "-name", "d", "-rid", "1",
            "-gpu", "cpu", "--world_size", "1", "--local_rank", "-1", "--dist_url", "env://",
            "--dist_backend", "gloo"]
    assert main(args) == 0
    assert main(args[:-2] + ["--dist_backend", "nccl", "--world_size", "2"]) == 2
    assert "nccl needs CUDA" in capsys.readouterr().err
    assert Path(tmp_path / "out" / "d" / "checkpoints" / "d_1-checkpoint-best.pth").is_file()


def test_output_channel_act_bounds_the_prediction(dataset_2d, tmp_path):
    """A sigmoid on the output keeps every prediction inside the targets' normalised
    [0, 1] range, mapped back to target units; the checkpoint rebuilds it."""
    import tifffile

    from i2i_nb.checkpoint import load_checkpoint, model_from_checkpoint

    cfg = tiny_config(dataset_2d, TRAIN={"EPOCHS": 1},
                      PROBLEM={"IMAGE_TO_IMAGE": {"OUTPUT_CHANNEL_ACT": ["sigmoid"]}})
    result = run(cfg, tmp_path / "out", "a", 1, CPU)
    payload = load_checkpoint(result.paths.checkpoint("best"))
    scaler = payload["meta"]["target_scaler"]
    low, high = scaler["offset"][0], scaler["offset"][0] + scaler["scale"][0]
    pred = tifffile.imread(result.paths.sub("per_image") / "img-000.tif")
    assert low - 1e-3 <= pred.min() and pred.max() <= high + 1e-3
    model = model_from_checkpoint(payload)
    assert model(torch.randn(1, 1, 16, 16) * 100).abs().max() <= 1


def test_charts_hold_the_model_plot_and_one_chart_per_logged_value(dataset_2d, tmp_path):
    from i2i_nb.model_plot import trace_blocks

    result = run(tiny_config(dataset_2d, TRAIN={"EPOCHS": 2}, TEST={"ENABLE": False}),
                 tmp_path / "out", "m", 3, CPU)
    charts = {p.name for p in result.paths.sub("charts").glob("*.png")}
    assert {"model_plot_m_3.png", "m_3_loss.png", "m_3_val_psnr.png", "m_3_lr.png"} <= charts
    from i2i_nb.models import build_model

    blocks = trace_blocks(build_model("unet", 2, 1, 1, [4, 8]), 1, (16, 16))
    names = [b.name for b in blocks]
    assert names[0] == "encoders.0" and names[-1] == "heads.0"
    assert "ups.0.0" in names and "decoders.0.0" in names
    assert dict((b.name, b.shape) for b in blocks)["encoders.1"] == (8, 8, 8)
