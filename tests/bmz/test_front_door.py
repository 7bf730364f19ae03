"""i2i_nb.Model: numpy in (2D/3D, with or without channels), numpy out; the CLI's export."""

import numpy as np
import pytest
import tifffile
import yaml

import i2i_nb
from i2i_nb.cli import main
from i2i_nb.errors import DataError


def test_model_is_exported_from_the_package():
    from i2i_nb.model import Model

    assert i2i_nb.Model is Model


def test_predict_keeps_the_callers_axes(run_2d, model_3d, data_2d, data_3d):
    _, result, _ = run_2d
    model_2d = i2i_nb.Model.load(result.paths.checkpoint("best"))
    for model, data in ((model_2d, data_2d), (model_3d, data_3d)):
        image = tifffile.imread(data / "test/x/img-000.tif")
        plain = model.predict(image)
        assert plain.shape == image.shape and plain.dtype == np.float32
        channels = model.predict(image[..., None])
        assert channels.shape == (*image.shape, 1)
        np.testing.assert_array_equal(channels[..., 0], plain)
        with pytest.raises(DataError, match="channel-last"):
            model.predict(np.stack([image, image], axis=-1))
    with pytest.raises(DataError, match="2D model"):
        model_2d.predict(np.zeros((4, 32, 32, 1), np.float32))


def test_predict_with_each_tta_group(run_2d, data_2d):
    """The front door's test-time augmentation over BiaPy's TEST.AUGMENTATION_GROUP."""
    from i2i_nb.tta import tta_variants

    _, result, _ = run_2d
    model = i2i_nb.Model.load(result.paths.checkpoint("best"))
    image = tifffile.imread(data_2d / "test/x/img-000.tif")
    plain = model.predict(image)
    np.testing.assert_array_equal(model.predict(image, tta=True, tta_group="none"), plain)
    flips, full = (model.predict(image, tta=True, tta_group=g) for g in ("flips", "full"))
    np.testing.assert_array_equal(model.predict(image, tta=True), full)
    assert not np.array_equal(flips, full) and not np.array_equal(flips, plain)
    assert len(tta_variants(2, "flips")) == 4 and len(tta_variants(2, "full")) == 8
    with pytest.raises(ValueError, match="AUGMENTATION_GROUP"):
        model.predict(image, tta=True, tta_group="rotations")


def test_cli_exports_a_checkpoint(run_2d, data_2d, tmp_path, capsys):
    _, result, _ = run_2d
    info = tmp_path / "info.yaml"
    info.write_text(yaml.safe_dump({"MODEL_NAME": "from the CLI", "LICENSE": "MIT"}))
    out = tmp_path / "cli_package"
    status = main(["export-bmz", str(result.paths.checkpoint("best")), str(out),
                   "--image", str(data_2d / "test/x/img-000.tif"),
                   "--target", str(data_2d / "test/y/img-000.tif"),
                   "--info", str(info), "--no-validate"])
    assert status == 0
    rdf = yaml.safe_load((out / "rdf.yaml").read_text())
    assert rdf["name"] == "from the CLI" and rdf["license"] == "MIT"
    assert f"package: {out}" in capsys.readouterr().out
    assert main(["export-bmz", str(tmp_path / "missing.pth"), str(out), "--image",
                 str(data_2d / "test/x/img-000.tif")]) == 2


def test_train_from_a_config_returns_the_best_model(data_2d, tmp_path):
    from tests.integration.conftest import tiny_config

    cfg = tiny_config(data_2d, 2, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False})
    model = i2i_nb.Model.train(cfg, result_dir=tmp_path, name="front", device="cpu")
    assert model.run is not None and len(model.run.history) == 1
    assert model.source == str(model.run.paths.checkpoint("best"))
    assert model.predict(np.zeros((20, 24), np.float32)).shape == (20, 24)


def test_reuse_bmz_config_takes_the_packages_own_description(run_2d):
    from i2i_nb.bmz.load import load_package
    from i2i_nb.bmz.runs import package_info
    from i2i_nb.config import config_from_dict

    _, _, package = run_2d
    cfg = config_from_dict({"MODEL": {"SOURCE": "bmz", "BMZ": {
        "SOURCE_MODEL_ID": str(package), "EXPORT": {"ENABLE": True, "REUSE_BMZ_CONFIG": True}}}})
    info = package_info(cfg, load_package(package))
    assert info.name == "tiny denoiser 2D" and info.authors == [{"name": "Ada"}]
    assert "denoising" in info.tags
