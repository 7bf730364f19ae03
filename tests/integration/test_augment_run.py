"""One CLI epoch with every BiaPy augmentation on, and the aug/ folder it leaves."""

import numpy as np
import pytest
import yaml

from i2i_nb.data.io import read_image
from tests.integration.conftest import write_pairs
from tests.unit.test_augment import ALL


@pytest.mark.parametrize("ndim", [2, 3])
def test_one_cli_epoch_with_every_augmentation(tmp_path, ndim):
    from i2i_nb.cli import main

    root = tmp_path / "data"
    shape = (40, 40) if ndim == 2 else (8, 32, 32)
    write_pairs(root, "train", 3, shape, seed=8, in_channels=3)
    write_pairs(root, "test", 1, shape, seed=9, in_channels=3)
    augmentor = {key: True for key in ALL}
    augmentor.update({"MS_DISPLACEMENT": 4, "AUG_NUM_SAMPLES": 3, "COUT_APPLY_TO_MASK": True})
    config = {
        "PROBLEM": {"TYPE": "IMAGE_TO_IMAGE", "NDIM": f"{ndim}D"},
        "DATA": {"PATCH_SIZE": [16, 16, 3] if ndim == 2 else [8, 16, 16, 3],
                 "NORMALIZATION": {"TYPE": "percentile"},  # GAMMA_CONTRAST, POISSON_NOISE
                 "TRAIN": {"PATH": str(root / "train/x"), "GT_PATH": str(root / "train/y")},
                 "TEST": {"PATH": str(root / "test/x"), "GT_PATH": str(root / "test/y")}},
        "AUGMENTOR": augmentor,
        "MODEL": {"FEATURE_MAPS": [4, 8]},
        "TRAIN": {"EPOCHS": 1, "BATCH_SIZE": 4, "PATCHES_PER_EPOCH": 8},
    }
    path = tmp_path / "all_aug.yaml"
    path.write_text(yaml.safe_dump(config))
    args = ["--config", str(path), "--result_dir", str(tmp_path / "out"), "--name", "aug",
            "--run_id", "1", "--gpu", "cpu"]
    assert main(args) == 0
    aug = tmp_path / "out" / "aug" / "results" / "aug_1" / "aug"
    names = sorted(p.name for p in aug.iterdir())
    assert names == ["applied.txt"] + [f"{kind}_{i:02d}_{xy}.tif" for kind in ("aug", "orig")
                                       for i in range(3) for xy in "xy"]
    lines = (aug / "applied.txt").read_text().splitlines()
    assert len(lines) == 3 and all(line.startswith(f"{i:02d}: ") for i, line in enumerate(lines))
    fired = {key for line in lines for key in line.split(": ")[1].split(", ")}
    assert fired <= set(ALL) and len(fired) > 5
    orig = read_image(aug / "orig_00_x.tif", ndim)
    assert orig.shape[-1] == 3 and np.isfinite(read_image(aug / "aug_00_x.tif", ndim)).all()
    # DRAW_GRID: every 3rd row of the original patch (16 // 5) at the channel's maximum
    assert np.allclose(orig[..., ::3, :, 0], orig[..., 0].max())
    assert (tmp_path / "out" / "aug" / "results" / "aug_1" / "per_image" / "img-000.tif"
            ).is_file()
