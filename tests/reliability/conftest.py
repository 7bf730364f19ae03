"""Tiny models run fastest on one thread; on a busy 2-core runner two threads can take
ten times longer (they wait for each other)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from tests.integration.conftest import write_pairs

SHAPE = (24, 24)  # as tests/reliability/test_bad_input.py


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A small 2D training and test set shared by the reliability tests."""
    root = tmp_path / "data"
    write_pairs(root, "train", 4, SHAPE, seed=1)
    write_pairs(root, "test", 2, SHAPE, seed=2)
    return root
