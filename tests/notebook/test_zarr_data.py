"""The data step and "predict your own images" with ``.zarr`` folders."""

import numpy as np
import torch

from i2i_nb.config import config_from_dict
from i2i_nb.data.io import read_image, read_pixel_size
from i2i_nb.experiment import run
from i2i_nb.notebook import predict_step
from i2i_nb.notebook.data_step import check_rows, training_pairs
from i2i_nb.notebook.settings import notebook_config
from tests.integration.formats import SIZE, convert


def test_data_step_checks_and_shows_zarr_pairs(demo_2d):
    data = convert(demo_2d, "ome")
    cfg = notebook_config(2, data, "", "", "", "", (64, 64), "unet", 1, 8, 1e-3, "percentile", 0)
    rows = check_rows(cfg)
    assert [row[1] for row in rows if row[0] == "train"][:2] == [
        "train-0000.ome.zarr", "train-0001.ome.zarr"]
    assert not [row for row in rows if row[-1]]
    name, (x, y) = training_pairs(cfg, n=1)[0]
    assert name == "train-0000.ome.zarr" and x.shape[:-1] == y.shape[:-1]


def test_predict_own_zarr_folder_and_single_store(demo_2d, cfg_2d, tmp_path):
    data = convert(demo_2d, "ome")
    cfg = config_from_dict({"TRAIN": {"EPOCHS": 1}, "TEST": {"ENABLE": False}}, cfg_2d)
    trained = run(cfg, tmp_path / "train", "t", 1, torch.device("cpu"))
    checkpoint = str(trained.paths.checkpoint("best"))
    folder = predict_step.predict_own(str(data / "test" / "x"), checkpoint, trained, cfg,
                                      str(tmp_path / "out"), "nb", 1, "cpu")
    single = predict_step.predict_own(str(data / "test" / "x" / "test-0001.ome.zarr"),
                                      checkpoint, trained, cfg, str(tmp_path / "out"), "nb", 2,
                                      "cpu")
    out = sorted(p.name for p in folder.paths.sub("per_image").iterdir())
    assert out == ["test-0000.zarr", "test-0001.zarr"]
    one = single.paths.sub("per_image") / "test-0001.zarr"
    np.testing.assert_array_equal(read_image(one, 2),
                                  read_image(folder.paths.sub("per_image") / out[1], 2))
    assert read_pixel_size(one, 2).sizes == SIZE.sizes
    predict_step.show_own(single, cfg, n=1)


def test_quality_control_figures_and_tree_of_zarr_predictions(demo_2d, tmp_path):
    from i2i_nb.notebook import results

    data = convert(demo_2d, "ome")
    cfg = config_from_dict({"TRAIN": {"EPOCHS": 1}}, notebook_config(
        2, data, "", "", "", "", (64, 64), "unet", 1, 8, 1e-3, "percentile", 0))
    result = run(cfg, tmp_path / "out", "qc", 1, torch.device("cpu"))
    rows = results.prediction_rows(result, cfg, n=1)
    assert [name for name, _ in rows] == ["test-0000.ome.zarr"]
    prediction, target, error = rows[0][1][1:]
    np.testing.assert_allclose(error[3], np.abs(prediction[3] - target[3]))
    tree = results.results_tree(result)
    assert "test-0000.zarr/  (" in tree and ".zarray" not in tree
