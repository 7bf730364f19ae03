"""A real command-line training run, interrupted (SIGINT) or killed (SIGKILL) mid-way:
both checkpoints stay loadable (atomic writes) and ``--resume`` finishes the run."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from i2i_nb.checkpoint import load_checkpoint
from i2i_nb.cli import main
from i2i_nb.config import to_plain
from tests.integration.conftest import tiny_config, write_pairs

REPO = Path(__file__).resolve().parents[2]
EPOCHS = 12


@pytest.fixture
def job(tmp_path: Path) -> list[str]:
    """Command-line arguments of a tiny 2D training run of ``EPOCHS`` epochs."""
    write_pairs(tmp_path / "data", "train", 4, (24, 24), seed=1)
    cfg = tiny_config(tmp_path / "data", TRAIN={"EPOCHS": EPOCHS}, TEST={"ENABLE": False})
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(to_plain(cfg)))
    return ["--config", str(config), "--result_dir", str(tmp_path / "out"), "--name", "job",
            "--gpu", "cpu"]


def interrupt(args: list[str], tmp_path: Path, sig: signal.Signals) -> tuple[int, str]:
    """Start the run, send ``sig`` once the first last checkpoint exists; exit code, stderr."""
    last = tmp_path / "out/job/checkpoints/job_1-checkpoint-last.pth"
    log = tmp_path / "stderr.txt"
    with log.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "i2i_nb", *args], cwd=REPO,
                                   stdout=subprocess.DEVNULL, stderr=stderr,
                                   env={**os.environ, "OMP_NUM_THREADS": "1"})
        try:
            deadline = time.monotonic() + 60
            while not last.exists():
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "no checkpoint after 60 s"
                time.sleep(0.005)
            process.send_signal(sig)
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    return code, log.read_text()


def check_interrupted_then_resume(tmp_path: Path, args: list[str]) -> None:
    """Both checkpoints load and stop before the end; ``--resume`` completes every epoch."""
    checkpoints = tmp_path / "out/job/checkpoints"
    best = load_checkpoint(checkpoints / "job_1-checkpoint-best.pth")
    last = load_checkpoint(checkpoints / "job_1-checkpoint-last.pth")
    assert last["epoch"] < EPOCHS - 1, "the run ended before the signal"
    assert best["epoch"] <= last["epoch"] and len(last["history"]) == last["epoch"] + 1

    assert main([*args, "--resume"]) == 0
    last = load_checkpoint(checkpoints / "job_1-checkpoint-last.pth")
    assert last["epoch"] == EPOCHS - 1 and len(last["history"]) == EPOCHS
    with (tmp_path / "out/job/results/job_1/train_logs/job_1_log.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == list(range(1, EPOCHS + 1))
    assert all(r["loss"] and r["val_loss"] for r in rows)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sigint_keeps_checkpoints_and_resume_finishes(job, tmp_path, sig):
    code, stderr = interrupt(job, tmp_path, sig)
    assert code == 130, stderr
    assert "interrupted" in stderr and "--resume" in stderr
    assert "Traceback" not in stderr
    check_interrupted_then_resume(tmp_path, job)


def test_sigkill_keeps_checkpoints_and_resume_finishes(job, tmp_path):
    code, stderr = interrupt(job, tmp_path, signal.SIGKILL)
    assert code == -signal.SIGKILL, stderr
    check_interrupted_then_resume(tmp_path, job)
