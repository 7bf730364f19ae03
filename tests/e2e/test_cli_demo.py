"""End to end: the CLI on the built-in demo data writes BiaPy's results tree and beats
the identity baseline, in 2D and 3D."""

import csv
import subprocess
import sys

import pytest
import tifffile

SETTINGS = {
    2: ["TRAIN.EPOCHS=30", "TRAIN.PATIENCE=0"],
    3: ["TRAIN.EPOCHS=20", "TRAIN.PATIENCE=0"],
}


@pytest.mark.parametrize("ndim", [2, 3])
def test_demo_cli(tmp_path, ndim):
    data_dir, result_dir = tmp_path / "data", tmp_path / "results"
    sets = [arg for s in SETTINGS[ndim] for arg in ("--set", s)]
    done = subprocess.run(
        [sys.executable, "-m", "i2i_nb", "demo", "--ndim", str(ndim), "--data_dir",
         str(data_dir), "--result_dir", str(result_dir), "--gpu", "cpu", *sets],
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "identity baseline" in done.stdout

    root = result_dir / f"demo_{ndim}d"
    run_dir = root / "results" / f"demo_{ndim}d_1"
    assert (root / "config_files" / f"demo_{ndim}d.yaml").is_file()
    assert (root / "checkpoints" / f"demo_{ndim}d_1-checkpoint-best.pth").is_file()
    assert (root / "checkpoints" / f"demo_{ndim}d_1-checkpoint-last.pth").is_file()
    for folder in ("aug", "charts", "per_image", "train_logs", "tensorboard"):
        assert any((run_dir / folder).iterdir()), folder
    assert (run_dir / "charts" / f"demo_{ndim}d_1_loss.png").is_file()

    test_inputs = sorted((data_dir / f"{ndim}d" / "test" / "x").iterdir())
    for path in test_inputs:
        prediction = tifffile.imread(run_dir / "per_image" / path.name)
        assert prediction.shape == tifffile.imread(path).shape
        assert prediction.dtype == "float32"

    with open(run_dir / "train_logs" / f"demo_{ndim}d_1_log.csv") as handle:
        log = list(csv.DictReader(handle))
    assert len(log) == int(SETTINGS[ndim][0].split("=")[1])
    assert set(log[0]) == {"epoch", "loss", "val_loss", "val_psnr", "lr", "seconds"}

    with open(run_dir / "test_metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["file"] for r in rows] == [p.name for p in test_inputs] + ["mean"]
    mean = rows[-1]
    print(f"{ndim}D demo: PSNR {float(mean['psnr']):.2f} dB vs identity "
          f"{float(mean['input_psnr']):.2f} dB")
    assert float(mean["psnr"]) > float(mean["input_psnr"]) + 3.0
    assert float(mean["ssim"]) > float(mean["input_ssim"])
    assert float(mean["psnr"]) > float(mean["constant_psnr"]) + 3.0
    assert "Quality check: on the validation patches" in done.stdout


def test_demo_tta_raises_psnr(tmp_path):
    """Train the 2D demo, then predict again from its checkpoint with test-time augmentation."""
    from i2i_nb.cli import main

    result_dir = tmp_path / "results"
    common = ["--result_dir", str(result_dir), "--gpu", "cpu"]
    assert main(["demo", "--data_dir", str(tmp_path / "data"), *common,
                 "--set", "TRAIN.PATIENCE=0"]) == 0
    run_dir = result_dir / "demo_2d" / "results" / "demo_2d_1"
    plain = _mean(run_dir / "test_metrics.csv")
    config = result_dir / "demo_2d" / "config_files" / "demo_2d.yaml"
    assert main(["--config", str(config), "--name", "demo_2d", "--run_id", "1", *common,
                 "--set", "TRAIN.ENABLE=False", "--set", "TEST.AUGMENTATION=True"]) == 0
    tta = _mean(run_dir / "test_metrics.csv")
    print(f"2D demo PSNR without TTA {plain['psnr']:.2f} dB, with TTA {tta['psnr']:.2f} dB")
    assert tta["psnr"] > plain["psnr"]


def _mean(path):
    with open(path) as handle:
        row = list(csv.DictReader(handle))[-1]
    return {k: float(v) for k, v in row.items() if k not in ("file", "identity")}
