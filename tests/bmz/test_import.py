"""Packages back in: BiaPy's MODEL.SOURCE: bmz predicts with and fine-tunes a package this
tool exported; other packages are refused with the reason; nothing is downloaded or run."""

import shutil
import zipfile

import numpy as np
import pytest
import tifffile
import torch
import yaml

from i2i_nb.bmz.load import load_package
from i2i_nb.errors import ConfigError
from i2i_nb.experiment import run
from i2i_nb.model import Model
from tests.integration.conftest import tiny_config


def test_package_predicts_as_its_checkpoint(run_2d, data_2d):
    _, result, package = run_2d
    image = tifffile.imread(data_2d / "test/x/img-000.tif")
    from_zoo = Model.from_bmz(package).predict(image)
    from_checkpoint = Model.from_checkpoint(result.paths.checkpoint("best")).predict(image)
    np.testing.assert_array_equal(from_zoo, from_checkpoint)


def test_source_bmz_predicts_and_fine_tunes(run_2d, data_2d, tmp_path):
    _, _, package = run_2d
    bmz = {"SOURCE": "bmz", "BMZ": {"SOURCE_MODEL_ID": str(package)}}
    predict_only = tiny_config(data_2d, 2, TRAIN={"ENABLE": False}, MODEL=bmz)
    rows = run(predict_only, tmp_path, "predict", 1).test_rows
    assert len(rows) == 2 and all(np.isfinite(row["psnr"]) for row in rows)

    # a different FEATURE_MAPS in the config: the package's network is the one fine-tuned
    tune = tiny_config(data_2d, 2, TRAIN={"EPOCHS": 1}, MODEL={**bmz, "FEATURE_MAPS": [8, 16]})
    tuned = run(tune, tmp_path, "tune", 1)
    start, end = load_package(package), torch.load(
        tuned.paths.checkpoint("best"), weights_only=True)
    assert end["meta"]["model_kwargs"] == start["meta"]["model_kwargs"]
    assert end["meta"]["input_normalization"] == start["meta"]["input_normalization"]
    assert end["meta"]["target_scaler"] == start["meta"]["target_scaler"]
    assert end["model"].keys() == start["model"].keys()
    assert any(not torch.equal(end["model"][k], start["model"][k]) for k in start["model"])


def _folder(package, tmp_path):
    folder = tmp_path / "package"
    if package.suffix == ".zip":
        with zipfile.ZipFile(package) as archive:
            archive.extractall(folder)
    else:
        shutil.copytree(package, folder)
    return folder


def _edit(folder, change):
    rdf = folder / "rdf.yaml"
    content = yaml.safe_load(rdf.read_text())
    change(content)
    rdf.write_text(yaml.safe_dump(content))


def test_foreign_networks_are_refused_without_running_code(package_3d, tmp_path):
    folder = _folder(package_3d, tmp_path)
    (folder / "i2i_nb_network.py").write_text("raise SystemExit('package code was run')\n")

    def foreign(rdf):
        rdf["weights"]["pytorch_state_dict"]["architecture"]["callable"] = "UNet3D"
        rdf["config"] = {}

    _edit(folder, foreign)
    with pytest.raises(ConfigError, match="never runs a package's Python code"):
        Model.from_bmz(folder)
    _edit(folder, lambda rdf: rdf["weights"].pop("pytorch_state_dict"))
    with pytest.raises(ConfigError, match="no pytorch_state_dict weights"):
        Model.from_bmz(folder)


def test_damaged_or_remote_packages_are_refused(package_3d, tmp_path):
    folder = _folder(package_3d, tmp_path)
    weights = folder / "weights.pt"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ConfigError, match="sha256"):
        Model.from_bmz(folder)
    with pytest.raises(ConfigError, match="never downloads"):
        Model.from_bmz("10.5281/zenodo.5764892")
    with pytest.raises(ConfigError, match="never downloads"):
        Model.from_bmz("affable-shark")
    with pytest.raises(ConfigError, match="not a bioimage.io package"):
        Model.from_bmz(tmp_path)


def test_package_of_other_dimensionality_is_refused(package_3d, data_2d, tmp_path):
    cfg = tiny_config(data_2d, 2, TRAIN={"ENABLE": False},
                      MODEL={"SOURCE": "bmz", "BMZ": {"SOURCE_MODEL_ID": str(package_3d)}})
    with pytest.raises(ConfigError, match="PROBLEM.NDIM"):
        run(cfg, tmp_path, "predict", 1)
