"""A long run: 1,000+ training steps, then inference over 200 images without memory growth."""

import numpy as np
import pytest
import tifffile
import torch

import i2i_nb.inference as inference
from i2i_nb.experiment import run
from tests.integration.conftest import tiny_config, write_pairs


def _rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096 / 2**20


@pytest.mark.slow
def test_long_training_then_200_images(tmp_path, monkeypatch):
    root = tmp_path / "data"
    write_pairs(root, "train", 4, (40, 36), seed=1)
    rng = np.random.default_rng(3)
    (root / "test" / "x").mkdir(parents=True)
    for i in range(200):
        tifffile.imwrite(root / "test" / "x" / f"t-{i:03d}.tif",
                         rng.random((48, 40), np.float32))
    rss = []
    write = inference.write_image
    monkeypatch.setattr(inference, "write_image",
                        lambda *args: (write(*args), rss.append(_rss_mib())))
    cfg = tiny_config(root, TRAIN={"EPOCHS": 63, "PATCHES_PER_EPOCH": 64, "BATCH_SIZE": 4},
                      DATA={"PATCH_SIZE": [16, 16], "TEST": {"PATH": str(root / "test/x"),
                                                            "LOAD_GT": False}})
    result = run(cfg, tmp_path / "out", "soak", 1, torch.device("cpu"))
    assert len(result.history) * 64 // 4 >= 1000
    assert all(np.isfinite(r["loss"]) for r in result.history)
    assert len(list(result.paths.sub("per_image").iterdir())) == 200
    assert len(rss) == 200
    growth = rss[-1] - rss[49]
    print(f"RSS after image 50: {rss[49]:.1f} MiB, after 200: {rss[-1]:.1f} MiB")
    assert growth < 20, f"memory grew by {growth:.1f} MiB over 150 images"
