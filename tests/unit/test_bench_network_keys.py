"""bench/quality.py --networks: every built network's keys form a valid config."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import quality  # noqa: E402

from i2i_nb.cli import parse_overrides  # noqa: E402
from i2i_nb.config import config_from_dict  # noqa: E402
from i2i_nb.config.validate_model import ARCHITECTURES  # noqa: E402

CPU = torch.device("cpu")


@pytest.mark.parametrize("network", ARCHITECTURES)
def test_network_keys_validate(network: str) -> None:
    """The keys --networks adds (with the bench width) give a config that validates."""
    base = config_from_dict({"PROBLEM": {"NDIM": "2D"}, "DATA": {"PATCH_SIZE": [64, 64, 1]},
                             "MODEL": {"FEATURE_MAPS": quality.BENCH_WIDTH}})
    cfg = config_from_dict(parse_overrides(quality.network_keys(network, "bench", CPU)),
                           base=base)
    assert cfg.model.architecture == network


def test_bench_sizes_only_with_bench_width() -> None:
    """BENCH_SIZES apply with the bench width only; --set items placed after them win."""
    assert "MODEL.HRNET.VARIANT=W18" in quality.network_keys("hrnet", "auto", CPU)
    assert quality.network_keys("hrnet", "default", CPU) == ["MODEL.ARCHITECTURE=hrnet"]
    assert set(quality.BENCH_SIZES) | set(quality.NETWORK_KEYS) <= set(ARCHITECTURES)
