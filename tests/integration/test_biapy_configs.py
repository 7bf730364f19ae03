"""BiaPy's own image-to-image configs (tests/biapy_configs/) run through the command line,
unchanged but for their data paths and --set overrides that shrink them for CI."""

from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml

from i2i_nb.checkpoint import load_checkpoint
from i2i_nb.cli import main
from tests.integration.conftest import write_pairs

CONFIGS = Path(__file__).parents[1] / "biapy_configs"
# The LightMyCells configs' unetr, narrower for CI: their 32-pixel tokens, 12 blocks and skip
# connections every 3 blocks, kernel 9, at a 64x64 patch (2x2 tokens) instead of 1024x1024,
# 16-wide embedding of 2 heads instead of 768 of 12, 2 decoder filters instead of 32.
SMALL_UNETR = ["DATA.PATCH_SIZE=(64, 64, 1)", "MODEL.VIT_EMBED_DIM=16",
               "MODEL.VIT_NUM_HEADS=2", "MODEL.UNETR_VIT_NUM_FILTERS=2"]


def _run(config: Path, result_dir: Path, name: str, sets: list[str]) -> int:
    args = ["--config", str(config), "--result_dir", str(result_dir), "--name", name,
            "--run_id", "1", "--gpu", "cpu"]
    return main(args + [a for s in sets for a in ("--set", s)])


def _configured(tmp_path: Path, template: str, replace: dict[str, str]) -> Path:
    text = (CONFIGS / template).read_text()
    for old, new in replace.items():
        text = text.replace(old, new)
    config = tmp_path / template
    config.write_text(text)
    return config


@pytest.mark.parametrize(("template", "shape", "patch"), [
    ("2d_image-to-image.yaml", (48, 40), "(32, 32, 1)"),
    ("3d_image-to-image.yaml", (6, 36, 40), "(4, 32, 32, 1)"),
])
def test_biapy_templates_run_unchanged(tmp_path, template, shape, patch):
    """The templates as BiaPy ships them (attention U-Net; in 3D Z_DOWN [1,1,1,1] with
    FEATURE_MAPS left out, which BiaPy reads as its 5-level default)."""
    root = tmp_path / "data"
    write_pairs(root, "train", 4, shape, seed=1)
    write_pairs(root, "test", 1, shape, seed=2)
    config = _configured(tmp_path, template, {"/path/to/data": str(root)})
    assert _run(config, tmp_path / "out", "t", ["TRAIN.EPOCHS=1", f"DATA.PATCH_SIZE={patch}",
                                                "TRAIN.PATCHES_PER_EPOCH=12"]) == 0
    run_dir = tmp_path / "out" / "t" / "results" / "t_1"
    assert (run_dir / "per_image" / "img-000.tif").is_file()
    assert (run_dir / "test_metrics.csv").is_file()
    saved = yaml.safe_load((tmp_path / "out" / "t" / "config_files" / template).read_text())
    assert saved["MODEL"]["ARCHITECTURE"] == "attention_unet"
    assert saved["TRAIN"]["OPTIMIZER"] == "ADAMW" and saved["TRAIN"]["LR"] == 1e-4
    if "3d" in template:  # 5 levels, as BiaPy's default FEATURE_MAPS
        assert saved["MODEL"]["FEATURE_MAPS"] == [16, 32, 64, 128, 256]
        assert saved["MODEL"]["Z_DOWN"] == [1, 1, 1, 1]


def _multiple_raw(root: Path, split: str, samples: int, raws: int, shape: tuple[int, ...],
                  seed: int, targets: bool = True) -> None:
    """``x/<sample>/raw-k.tif`` (several noisy versions) with ``y/<sample>.tif``."""
    rng = np.random.default_rng(seed)
    for s in range(samples):
        clean = rng.random(shape).astype(np.float32)
        folder = root / f"{split}x" / f"sample{s}"
        folder.mkdir(parents=True)
        for k in range(raws):
            noisy = clean + rng.normal(0, 0.2, shape).astype(np.float32)
            tifffile.imwrite(folder / f"raw-{k}.tif", (1000 * noisy).astype(np.uint16))
        if targets:
            (root / f"{split}y").mkdir(exist_ok=True)
            tifffile.imwrite(root / f"{split}y" / f"sample{s}.tif",
                             (3000 * clean).astype(np.uint16))


@pytest.mark.parametrize("organelle", ["actin", "mito", "nucleus", "tubulin"])
def test_lightmycells_configs_predict_with_a_checkpoint(tmp_path, organelle):
    """The LightMyCells tutorial configs predict (TRAIN.ENABLE False, MODEL.LOAD_CHECKPOINT
    True) with a checkpoint, here one trained first from the same config."""
    root = tmp_path / organelle
    _multiple_raw(root, "", 3, 2, (40, 48), seed=3)
    _multiple_raw(root, "val_", 2, 2, (40, 48), seed=4)
    config = _configured(tmp_path, f"lightmycells_{organelle}.yaml", {
        f"/path/{organelle}/x": str(root / "x"), f"/path/{organelle}/y": str(root / "y"),
        f"/path/{organelle}/val_x": str(root / "val_x"),
        f"/path/{organelle}/val_y": str(root / "val_y"),
        f"/path/checkpoints/lightmycells_{organelle}.pth": str(
            tmp_path / "out" / "train" / "checkpoints" / "train_1-checkpoint-best.pth")})
    assert _run(config, tmp_path / "out", "train",
                ["TRAIN.ENABLE=True", "MODEL.LOAD_CHECKPOINT=False", "TRAIN.EPOCHS=1",
                 "TEST.ENABLE=False", *SMALL_UNETR]) == 0
    assert _run(config, tmp_path / "out", "predict", SMALL_UNETR) == 0
    meta = load_checkpoint(tmp_path / "out" / "train" / "checkpoints" /
                           "train_1-checkpoint-best.pth")["meta"]
    assert meta["architecture"] == "unetr"
    given = yaml.safe_load(config.read_text())["MODEL"]
    assert meta["model_kwargs"]["vit_token_size"] == given["VIT_TOKEN_SIZE"] == 32
    assert meta["model_kwargs"]["kernel_size"] == given["UNETR_DEC_KERNEL_SIZE"]
    assert meta["model_kwargs"]["activation"] == given["UNETR_DEC_ACTIVATION"]
    per_image = tmp_path / "out" / "predict" / "results" / "predict_1" / "per_image"
    written = sorted(p.relative_to(per_image).as_posix() for p in per_image.rglob("*.tif"))
    assert written == [f"sample{s}/raw-{k}.tif" for s in range(2) for k in range(2)]
