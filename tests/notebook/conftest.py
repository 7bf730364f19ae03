"""Shared fixtures of the notebook-layer tests."""

from pathlib import Path

import pytest

from i2i_nb.demo import demo_config, make_demo_data


@pytest.fixture(scope="session")
def demo_2d(tmp_path_factory) -> Path:
    """The 2D demo data tree, written once per session (tests must not modify it)."""
    return make_demo_data(tmp_path_factory.mktemp("demo_2d"), 2)


@pytest.fixture
def cfg_2d(demo_2d):
    return demo_config(demo_2d, 2)


@pytest.fixture(scope="session")
def short_run(demo_2d, tmp_path_factory):
    """A 2-epoch 2D run through the notebook's training call: (cfg, result)."""
    import asyncio

    from i2i_nb.config import config_from_dict
    from i2i_nb.notebook.training import train

    cfg = config_from_dict({"TRAIN": {"EPOCHS": 2}}, base=demo_config(demo_2d, 2))
    result_dir = tmp_path_factory.mktemp("results")
    return cfg, asyncio.run(train(cfg, result_dir, "short", device="cpu"))
