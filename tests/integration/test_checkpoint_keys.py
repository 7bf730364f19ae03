"""MODEL.SKIP_UNMATCHED_LAYERS and MODEL.OUT_CHECKPOINT_FORMAT through the whole engine."""

import numpy as np
import pytest
import tifffile
import torch
import yaml

from i2i_nb.checkpoint import load_checkpoint, save_checkpoint
from i2i_nb.cli import main
from i2i_nb.errors import ConfigError
from i2i_nb.experiment import run
from i2i_nb.model import Model
from tests.integration.conftest import tiny_config, write_pairs

CPU = torch.device("cpu")


def test_fine_tuning_another_head_needs_skip_unmatched_layers(dataset_2d, tmp_path, capsys):
    cfg = tiny_config(dataset_2d, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False})
    last = run(cfg, tmp_path / "out", "a", 1, CPU).paths.checkpoint("last")
    two = tmp_path / "two"
    write_pairs(two, "train", 4, (40, 36), seed=3, out_channels=2)
    write_pairs(two, "test", 1, (40, 36), seed=4, out_channels=2)
    model = {"LOAD_CHECKPOINT": True, "ITEMS_TO_LOAD_FROM_CHECKPOINT": ["weights"]}
    paths = {"CHECKPOINT_FILE": str(last)}
    refused = tiny_config(two, TRAIN={"EPOCHS": 1}, MODEL=model, PATHS=paths)
    with pytest.raises(ConfigError, match="SKIP_UNMATCHED_LAYERS"):
        run(refused, tmp_path / "out", "r", 1, CPU)
    tuned = tiny_config(two, TRAIN={"EPOCHS": 1}, PATHS=paths,
                        MODEL={**model, "SKIP_UNMATCHED_LAYERS": True})
    result = run(tuned, tmp_path / "out", "t", 1, CPU)
    assert "MODEL.SKIP_UNMATCHED_LAYERS: loaded" in capsys.readouterr().out
    assert len(result.history) == 1


def _cli(tmp_path, name: str, *sets: str, resume: bool = False) -> int:
    root = tmp_path / "data"
    if not root.exists():
        write_pairs(root, "train", 2, (24, 28), seed=3)
        write_pairs(root, "test", 1, (24, 28), seed=4)
    config = {
        "PROBLEM": {"TYPE": "IMAGE_TO_IMAGE", "NDIM": "2D"},
        "DATA": {"PATCH_SIZE": [16, 16, 1], "VAL": {"SPLIT_TRAIN": 0.5},
                 "TRAIN": {"PATH": str(root / "train/x"), "GT_PATH": str(root / "train/y")},
                 "TEST": {"PATH": str(root / "test/x"), "GT_PATH": str(root / "test/y")}},
        "MODEL": {"FEATURE_MAPS": [4, 8], "OUT_CHECKPOINT_FORMAT": "safetensors"},
        "TRAIN": {"EPOCHS": 1, "BATCH_SIZE": 2, "PATCHES_PER_EPOCH": 2},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    args = ["--config", str(path), "--result_dir", str(tmp_path / "out"), "--name", name,
            "--run_id", "1", "--gpu", "cpu", *(a for s in sets for a in ("--set", s))]
    return main(args + (["--resume"] if resume else []))


def test_safetensors_checkpoints_resume_and_predict_as_pth(tmp_path):
    assert _cli(tmp_path, "st") == 0
    folder = tmp_path / "out" / "st" / "checkpoints"
    assert sorted(p.name for p in folder.iterdir()) == [
        "st_1-checkpoint-best.safetensors", "st_1-checkpoint-last.safetensors"]
    last = load_checkpoint(folder / "st_1-checkpoint-last.safetensors")
    assert {"optimizer", "scheduler", "rng", "history"} <= set(last)
    assert _cli(tmp_path, "st", "TRAIN.EPOCHS=2", resume=True) == 0
    resumed = load_checkpoint(folder / "st_1-checkpoint-last.safetensors")
    assert [row["epoch"] for row in resumed["history"]] == [1, 2]
    best = folder / "st_1-checkpoint-best.safetensors"
    as_pth = tmp_path / "best.pth"
    save_checkpoint(as_pth, load_checkpoint(best))
    predictions = []
    for name, checkpoint in (("from_st", best), ("from_pth", as_pth)):
        assert _cli(tmp_path, name, "TRAIN.ENABLE=False", "MODEL.LOAD_CHECKPOINT=True",
                    f"PATHS.CHECKPOINT_FILE={checkpoint}") == 0
        run_dir = tmp_path / "out" / name / "results" / f"{name}_1"
        predictions.append(tifffile.imread(run_dir / "per_image" / "img-000.tif"))
    np.testing.assert_array_equal(predictions[0], predictions[1])
    image = tifffile.imread(tmp_path / "data" / "test" / "x" / "img-000.tif")
    np.testing.assert_allclose(Model.from_checkpoint(best).predict(image),
                               Model.from_checkpoint(as_pth).predict(image))
