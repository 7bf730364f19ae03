"""Every network trains one epoch and predicts through the CLI on tiny data."""

import pytest
import yaml

from i2i_nb.checkpoint import load_checkpoint
from i2i_nb.cli import main
from i2i_nb.models import ARCHITECTURES
from tests.integration.conftest import write_pairs

# Tiny sizes keep each run to seconds; the keys are BiaPy's.
TINY = {"FEATURE_MAPS": [4, 8], "RCAN_RG_BLOCK_NUM": 1, "RCAN_RCAB_BLOCK_NUM": 2,
        "RCAN_CONV_FILTERS": 8, "RCAN_REDUCTION_RATIO": 4}
# resunet++ needs 3 levels; multiresunet has BiaPy's fixed sizes (FEATURE_MAPS would be
# warned about as having no effect).
ARCH_KEYS = {"resunet++": {"FEATURE_MAPS": [4, 8, 16]}, "multiresunet": {"FEATURE_MAPS": None}}
CASES = [(a, 2) for a in ARCHITECTURES] + [(a, 3) for a in ("unet", "resunet_se", "resunet++",
                                                             "rcan")]


@pytest.mark.parametrize(("arch", "ndim"), CASES)
def test_one_epoch_through_the_cli(arch, ndim, tmp_path):
    root = tmp_path / "data"
    shape = (24, 28) if ndim == 2 else (6, 20, 20)
    write_pairs(root, "train", 2, shape, seed=3)
    write_pairs(root, "test", 1, shape, seed=4)
    config = {
        "PROBLEM": {"TYPE": "IMAGE_TO_IMAGE", "NDIM": f"{ndim}D"},
        "DATA": {"PATCH_SIZE": [16, 16, 1] if ndim == 2 else [4, 16, 16, 1],
                 "TRAIN": {"PATH": str(root / "train/x"), "GT_PATH": str(root / "train/y")},
                 "TEST": {"PATH": str(root / "test/x"), "GT_PATH": str(root / "test/y")},
                 "VAL": {"SPLIT_TRAIN": 0.5}},
        "MODEL": {k: v for k, v in {"ARCHITECTURE": arch, **TINY,
                                    **ARCH_KEYS.get(arch, {})}.items() if v is not None},
        "TRAIN": {"EPOCHS": 1, "BATCH_SIZE": 2, "PATCHES_PER_EPOCH": 2},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    args = ["--config", str(path), "--result_dir", str(tmp_path / "out"), "--name", arch,
            "--run_id", "1", "--gpu", "cpu"]
    assert main(args) == 0
    run_dir = tmp_path / "out" / arch / "results" / f"{arch}_1"
    assert (run_dir / "per_image" / "img-000.tif").is_file()
    best = tmp_path / "out" / arch / "checkpoints" / f"{arch}_1-checkpoint-best.pth"
    ckpt = load_checkpoint(best)
    assert ckpt["meta"]["architecture"] == arch
