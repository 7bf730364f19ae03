"""CPU settings: subnormals flushed in every intra-op thread and DataLoader worker; the
thread budget from SYSTEM.NUM_CPUS, the affinity mask and the cgroup CPU quota."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch.utils.data import Dataset

from i2i_nb import resources
from i2i_nb.cpu import flush_denormals
from i2i_nb.resources import cgroup_cpu_quota, cpu_budget
from i2i_nb.train import make_loader

ROOT = Path(__file__).resolve().parents[2]


def test_flush_reaches_threads_that_already_exist() -> None:
    """torch's flag set after the OpenMP team exists reaches the calling thread only;
    flush_denormals reaches them all (checked in a fresh process, two threads)."""
    script = textwrap.dedent("""
        import torch
        from i2i_nb.cpu import denormals_flushed, flush_denormals
        torch.set_num_threads(2)
        torch.ones(1 << 20) * 2  # creates the OpenMP team
        torch.set_flush_denormal(True)
        print(denormals_flushed(), flush_denormals(), denormals_flushed())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=ROOT, env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "2"},
                         check=True).stdout.split()
    assert out == ["False", "True", "True"]


class _Tiny(Dataset):
    """Items computed in the worker: 1e-20 squared is subnormal unless flushed."""

    def __len__(self) -> int:
        return 2

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.tensor([1e-20]) * torch.tensor([1e-20])


def test_loader_workers_flush_subnormals() -> None:
    assert flush_denormals()
    batches = list(make_loader(_Tiny(), 1, torch.device("cpu"), num_workers=1))
    assert [b.item() for b in batches] == [0.0, 0.0]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cgroup_v2_quota_strictest_of_group_and_parents(tmp_path: Path) -> None:
    proc = tmp_path / "cgroup"
    _write(proc, "0::/job/step\n")
    _write(tmp_path / "sys" / "job" / "cpu.max", "150000 100000\n")
    _write(tmp_path / "sys" / "job" / "step" / "cpu.max", "max 100000\n")
    assert cgroup_cpu_quota(proc, tmp_path / "sys") == pytest.approx(1.5)
    _write(tmp_path / "sys" / "job" / "cpu.max", "max 100000\n")
    assert cgroup_cpu_quota(proc, tmp_path / "sys") is None


def test_cgroup_v1_quota(tmp_path: Path) -> None:
    proc = tmp_path / "cgroup"
    _write(proc, "4:memory:/x\n2:cpu,cpuacct:/x\n")
    group = tmp_path / "sys" / "cpu,cpuacct" / "x"
    _write(group / "cpu.cfs_quota_us", "300000\n")
    _write(group / "cpu.cfs_period_us", "100000\n")
    assert cgroup_cpu_quota(proc, tmp_path / "sys") == pytest.approx(3.0)
    _write(group / "cpu.cfs_quota_us", "-1\n")
    assert cgroup_cpu_quota(proc, tmp_path / "sys") is None


def test_cpu_budget_takes_the_tightest_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources, "affinity_cpus", lambda: 8)
    monkeypatch.setattr(resources, "cgroup_cpu_quota", lambda: 2.5)
    assert cpu_budget().threads == 3  # quota rounded up
    assert cpu_budget(2).threads == 2  # SYSTEM.NUM_CPUS
    assert cpu_budget(0).threads == 1  # as BiaPy: anything but -1 counts, at least one
    assert cpu_budget(-1, processes=2).threads == 1
    monkeypatch.setattr(resources, "cgroup_cpu_quota", lambda: None)
    budget = cpu_budget(-1, processes=3)
    assert budget.threads == 2
    assert "2 CPU threads" in budget.describe() and "affinity 8" in budget.describe()
    assert cpu_budget(start=1).threads == 1  # never above torch's own count


def test_set_threads_lowers_and_restores(monkeypatch: pytest.MonkeyPatch) -> None:
    from i2i_nb.cpu import set_threads

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    monkeypatch.setattr(resources, "affinity_cpus", lambda: 8)
    monkeypatch.setattr(resources, "cgroup_cpu_quota", lambda: None)
    try:
        assert set_threads(1).threads == 1 and torch.get_num_threads() == 1
        assert set_threads(-1).threads == 2 and torch.get_num_threads() == 2  # back to 2
        assert set_threads(-1).threads == 2  # never above torch's own 2
    finally:
        torch.set_num_threads(before)
