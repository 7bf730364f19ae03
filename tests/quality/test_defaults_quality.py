"""The engine's defaults beat trivial baselines on real-image tasks (bench/quality_tasks.py).

Small budgets (64 steps of a half-width U-Net on 32x32 patches, one test image, one
thread) keep these well under a minute on 2 CPU cores; every other training setting is
the engine's default (the test tile is enlarged to 128 px only to save inference time).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import quality  # noqa: E402
from quality_tasks import TASKS  # noqa: E402

BUDGET = quality.Budget(epochs=8, patches_per_epoch={2: 64, 3: 16}, batch={2: 8, 3: 2})
MARGIN_DB = 2.0  # PSNR and SI-PSNR must beat the better of identity and constant by this


@pytest.fixture(autouse=True)
def _one_thread():
    """One intra-op thread: these small steps gain little from more, and on a busy machine
    threads waiting on each other cost far more CPU time than they save."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _run(name: str, root: Path) -> quality.TaskResult:
    task = TASKS[name]()
    task.patch, task.test = (32, 32), task.test[:1]
    overrides = {"DATA": {"TEST": {"TILE_SHAPE": [128, 128]}}}
    return quality.run_task(task, root, BUDGET, "bench", torch.device("cpu"), overrides)


@pytest.mark.parametrize("name", ["denoise_pg", "deblur"])
def test_defaults_beat_identity_and_constant(name: str, tmp_path: Path) -> None:
    r = _run(name, tmp_path)
    for baseline in (r.identity, r.constant):
        assert r.model.psnr >= baseline.psnr + MARGIN_DB, quality.table([r])
        assert r.model.si_psnr >= baseline.si_psnr + MARGIN_DB, quality.table([r])


def test_prediction_in_target_units(tmp_path: Path) -> None:
    """Inputs are 8-bit (mean ~90), targets uint16 with an offset (mean ~10,000)."""
    r = _run("gain_offset", tmp_path)
    assert abs(r.input_mean - r.target_mean) > 0.5 * r.target_mean
    assert abs(r.pred_mean - r.target_mean) <= 0.1 * r.target_mean, quality.table([r])
