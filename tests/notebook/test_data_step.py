"""The data check table, the pair figures and the parameters cell's config."""

import shutil

import numpy as np
import pytest
import tifffile

from i2i_nb.errors import ConfigError
from i2i_nb.notebook.data_step import PAIR_COLUMNS, check_rows, check_table, training_pairs
from i2i_nb.notebook.figures import grid_figure, plane
from i2i_nb.notebook.settings import notebook_config


def test_check_table_of_good_data(cfg_2d):
    table = check_table(cfg_2d).data
    assert "All image pairs are readable and consistent" in table
    assert table.count("<tr>") == 1 + 6 + 2  # header, train and test pairs
    assert "train-0000.tif" in table and "1 -&gt; 1" in table and "uint16 / uint16" in table


def test_check_table_shows_problems(demo_2d, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(demo_2d, data)
    (data / "test" / "y" / "test-0001.tif").unlink()
    tifffile.imwrite(data / "train" / "x" / "train-0002.tif", np.zeros((8, 8), np.uint16))
    (data / "train" / "x" / "notes.txt").write_text("not an image")
    cfg = notebook_config(2, data, "", "", "", "", (64, 64), "unet", 1, 8, 1e-3, "percentile", 0)
    rows = check_rows(cfg)
    problems = {row[0]: row[-1] for row in rows if row[-1] and "warning" not in row[-1]}
    assert "train-0002.tif has spatial shape (8, 8)" in problems["train"]
    assert "has 2 images but" in problems["test"] and "test-0001.tif" in problems["test"]
    assert any("notes.txt" in row[-1] for row in rows if row[-1].startswith("warning"))
    assert "2 split(s) with problems" in check_table(cfg).data


def test_pair_figure_2d(cfg_2d):
    rows = training_pairs(cfg_2d, n=2)
    assert [name for name, _ in rows] == ["train-0000.tif", "train-0001.tif"]
    fig = grid_figure(rows, PAIR_COLUMNS)
    assert len(fig.axes) == 4
    assert fig.axes[1].get_title().startswith("target")


def test_plane_of_a_volume():
    volume = np.arange(5 * 2 * 3 * 2).reshape(5, 2, 3, 2)
    assert np.array_equal(plane(volume), volume[2, ..., 0])
    assert np.array_equal(plane(volume, 9), volume[4, ..., 0])
    assert np.array_equal(plane(volume[0]), volume[0, ..., 0])


def test_notebook_config(tmp_path):
    cfg = notebook_config(3, tmp_path, "", str(tmp_path / "gt"), "", "", (8, 32, 32),
                          "resunet", 4, 2, 1e-4, "zero_mean_unit_variance", 0.25)
    assert cfg.ndim == 3 and cfg.data.patch_size == (8, 32, 32)
    assert cfg.data.train.path == str(tmp_path / "train" / "x")
    assert cfg.data.train.gt_path == str(tmp_path / "gt")
    assert cfg.data.test.gt_path == str(tmp_path / "test" / "y")
    assert cfg.data.test.overlap == (0.25, 0.25, 0.25)
    assert (cfg.model.architecture, cfg.train.epochs, cfg.train.batch_size) == ("resunet", 4, 2)
    assert cfg.data.normalization.type == "zero_mean_unit_variance"
    assert notebook_config(2, tmp_path, "", "", "", "", (64, 64), "unet", 1, 8, 1e-3,
                           "percentile", 0).data.test.overlap == ()
    with pytest.raises(ConfigError, match="MODEL.ARCHITECTURE"):
        notebook_config(2, tmp_path, "", "", "", "", (64, 64), "vgg", 1, 8, 1e-3, "none", 0)


def test_show_volumes_with_a_z_slider(monkeypatch):
    from i2i_nb.notebook import figures

    shown, sliders = [], []
    monkeypatch.setattr(figures, "display", shown.append)
    monkeypatch.setattr("ipywidgets.interact", lambda draw, z: sliders.append((draw, z)))
    rows = [("a.tif", [np.zeros((5, 8, 8, 1)), np.ones((5, 8, 8, 1))]),
            ("b.tif", [np.zeros((9, 8, 8, 1)), np.ones((9, 8, 8, 1))])]
    figures.show(rows, PAIR_COLUMNS, interactive=False)
    assert len(shown) == 1 and not sliders
    figures.show(rows, PAIR_COLUMNS, interactive=True)
    (draw, slider), = sliders
    assert (slider.min, slider.max, slider.value) == (0, 8, 4)
    draw(7)
    assert len(shown) == 2 and shown[-1].data.startswith(b"\x89PNG")
