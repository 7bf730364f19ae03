"""torchrun with 2 CPU processes (gloo) against a single process with the same global batch."""

import csv
import subprocess
import sys

import numpy as np
import pytest
import tifffile

from i2i_nb.config import save_config
from tests.integration.conftest import tiny_config, write_pairs


def _cli(config, result_dir, processes):
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                f"--nproc_per_node={processes}"] if processes > 1 else [sys.executable]
    done = subprocess.run(
        [*launcher, "-m", "i2i_nb", "--config", str(config), "--result_dir", str(result_dir),
         "--name", "job", "--gpu", "cpu", "--dist_timeout", "60"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return result_dir / "job" / "results" / "job_1"


def _losses(run_dir):
    with open(run_dir / "train_logs" / "job_1_log.csv") as handle:
        return np.array([[float(r["loss"]), float(r["val_loss"])] for r in csv.DictReader(handle)])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    write_pairs(tmp / "data", "train", 5, (40, 36), seed=1)
    write_pairs(tmp / "data", "test", 3, (50, 44), seed=2)
    config = tmp / "cfg.yaml"
    # float32 (TRAIN.AMP: False): with bfloat16 on a CPU that has it, the ranks' half
    # batches round differently and the outputs differ by bf16's ~2e-3, not the sums' order
    save_config(tiny_config(tmp / "data", TRAIN={"EPOCHS": 3, "BATCH_SIZE": 4, "AMP": False}),
                config)
    return _cli(config, tmp / "one", 1), _cli(config, tmp / "two", 2)


def test_two_processes_follow_the_single_process_trajectory(runs):
    one, two = runs
    # Same patches per step (ranks take alternate items of the same seeded sequence) and
    # DDP averages gradients, so only the order of floating-point sums differs.
    np.testing.assert_allclose(_losses(two), _losses(one), rtol=1e-3)


def test_two_processes_write_one_complete_results_tree(runs):
    one, two = runs
    names = sorted(p.name for p in (one / "per_image").iterdir())
    assert names == sorted(p.name for p in (two / "per_image").iterdir())
    assert len(names) == 3
    for name in names:
        np.testing.assert_allclose(tifffile.imread(two / "per_image" / name),
                                   tifffile.imread(one / "per_image" / name), rtol=1e-3,
                                   atol=1e-2)
    with open(two / "test_metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["file"] for r in rows] == names + ["mean"]
    assert len(list((two.parents[1] / "checkpoints").iterdir())) == 2


def test_a_dead_rank_stops_the_job(tmp_path):
    import os
    import signal
    import time

    write_pairs(tmp_path / "data", "train", 4, (40, 36), seed=1)
    write_pairs(tmp_path / "data", "test", 1, (40, 36), seed=2)
    config = tmp_path / "cfg.yaml"
    save_config(tiny_config(tmp_path / "data", TRAIN={"EPOCHS": 10000}), config)
    job = subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "-m", "i2i_nb", "--config", str(config), "--result_dir", str(tmp_path / "out"),
         "--name", "job", "--gpu", "cpu", "--dist_timeout", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    last = tmp_path / "out" / "job" / "checkpoints" / "job_1-checkpoint-last.pth"
    deadline = time.monotonic() + 120
    while not last.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert last.exists(), "training never wrote a checkpoint"
    workers = [int(pid) for pid in os.listdir("/proc") if pid.isdigit()
               and _parent(int(pid)) == job.pid]
    assert len(workers) == 2
    os.kill(workers[1], signal.SIGKILL)
    _, stderr = job.communicate(timeout=90)
    assert job.returncode != 0
    assert "i2i_nb" in stderr and "FAILED" in stderr.upper()


def _parent(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None
