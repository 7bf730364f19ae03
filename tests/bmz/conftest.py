"""Tiny trained models (1 epoch) and the zoo packages exported from them, made once."""

from pathlib import Path

import pytest
import tifffile

from i2i_nb.experiment import run
from i2i_nb.model import Model
from tests.integration.conftest import tiny_config, write_pairs

SHAPES = {2: ((40, 36), (50, 44)), 3: ((12, 40, 36), (20, 48, 44))}


def _data(root: Path, ndim: int) -> Path:
    train, test = SHAPES[ndim]
    write_pairs(root, "train", 4, train, seed=1)
    write_pairs(root, "test", 2, test, seed=2)
    return root


@pytest.fixture(scope="session")
def data_2d(tmp_path_factory) -> Path:
    return _data(tmp_path_factory.mktemp("bmz_data_2d"), 2)


@pytest.fixture(scope="session")
def data_3d(tmp_path_factory) -> Path:
    return _data(tmp_path_factory.mktemp("bmz_data_3d"), 3)


@pytest.fixture(scope="session")
def run_2d(data_2d, tmp_path_factory):
    """A 2D run that exports at its end with BiaPy's keys: (cfg, result, package path)."""
    out = tmp_path_factory.mktemp("bmz_export_2d")
    cfg = tiny_config(data_2d, 2, TRAIN={"EPOCHS": 1}, PATHS={"BMZ_EXPORT_PATH": str(out)},
                      MODEL={"FEATURE_MAPS": [4, 8], "BMZ": {"EXPORT": {
                          "ENABLE": True, "MODEL_NAME": "tiny denoiser 2D",
                          "DESCRIPTION": "a test package", "AUTHORS": [{"name": "Ada"}],
                          "TAGS": ["denoising"], "DATASET_INFO": [{"name": "synthetic"}]}}})
    result = run(cfg, tmp_path_factory.mktemp("bmz_results_2d"), "job", 1)
    return cfg, result, out / "job_1.zip"


@pytest.fixture(scope="session")
def model_3d(data_3d, tmp_path_factory) -> Model:
    cfg = tiny_config(data_3d, 3, TRAIN={"EPOCHS": 1})
    result = run(cfg, tmp_path_factory.mktemp("bmz_results_3d"), "job", 1)
    return Model.from_checkpoint(result.paths.checkpoint("best"))


@pytest.fixture(scope="session")
def package_3d(model_3d, data_3d, tmp_path_factory) -> Path:
    """A 3D package written through the front door, as a folder."""
    image = tifffile.imread(data_3d / "test/x/img-000.tif")
    target = tifffile.imread(data_3d / "test/y/img-000.tif")
    out = tmp_path_factory.mktemp("bmz_export_3d") / "package"
    model_3d.export(out, image, target)
    return out
