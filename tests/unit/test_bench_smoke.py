"""The benchmark suite still runs (one section at a trivial size; no timing is checked)."""

import pytest
import torch

from bench import tiled
from bench.__main__ import SECTIONS
from bench.common import Sizes, default_model, table

TINY = Sizes(True, {2: (32, 32), 3: (4, 16, 16)}, {2: (48, 48), 3: (4, 24, 24)}, {2: 2, 3: 2},
             {2: (40, 40), 3: (4, 20, 20)}, {2: (40, 40), 3: (4, 20, 20)}, rounds=1, steps=1)


@pytest.fixture
def one_thread():
    """Tiny tensors on a busy 2-core machine: two threads only wait on each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_tiled_section_runs_and_tabulates(one_thread, monkeypatch):
    thin = (4, 8, 16, 32)  # the default depth (same tiles), a fraction of the cost
    monkeypatch.setattr(tiled, "default_model", lambda nd, patch: default_model(nd, patch, thin))
    rows = tiled.run(TINY)
    assert len(rows) == 4 and all(row.section == "tiled" for row in rows)
    assert all(float(row.value.split()[0]) > 0 for row in rows)
    text = table(rows)
    assert text.splitlines()[0].startswith("section") and len(text.splitlines()) == 6
    assert set(SECTIONS) == {"training", "tiled", "monai", "memory", "scaling"}
