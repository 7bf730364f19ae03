"""Quality control and results of a run."""

import math
import sys
import types
import zipfile

import numpy as np

from i2i_nb.experiment import RunResult
from i2i_nb.notebook.figures import grid_figure
from i2i_nb.notebook.results import (
    PREDICTION_COLUMNS,
    download_link,
    download_results,
    metrics_table,
    prediction_rows,
    results_tree,
    show_training_images,
    training_images,
)


def test_metrics_table(short_run):
    _, result = short_run
    table = metrics_table(result).data
    assert "test-0000.tif" in table and "test-0001.tif" in table and "<b>mean</b>" in table
    assert "PSNR (dB) identity" in table and "SI-PSNR (dB) constant" in table
    mean = result.test_mean
    assert f"{mean['psnr']:.2f}" in table and f"{mean['input_psnr']:.2f}" in table
    assert f"{mean['constant_psnr']:.2f}" in table and "better trivial baseline" in table
    assert "No test results" in metrics_table(RunResult(result.paths)).data


def test_prediction_figure(short_run):
    cfg, result = short_run
    rows = prediction_rows(result, cfg, n=1)
    assert [name for name, _ in rows] == ["test-0000.tif"]
    inputs, prediction, target, error = rows[0][1]
    assert prediction.shape == target.shape == inputs.shape
    assert math.isclose(float(error.max()), float(abs(prediction - target).max()))
    fig = grid_figure(rows, PREDICTION_COLUMNS)
    panels, bars = fig.axes[:4], fig.axes[4:]
    assert [ax.get_title().split("\n")[0] for ax in panels] == [
        "input", "prediction", "target", "|prediction - target|"]
    assert len(bars) == 1  # the error map's colour bar, its scale readable
    assert bars[0].get_ylim()[0] == 0.0 and bars[0].get_ylim()[1] > 0


def test_volume_figures_name_the_slice():
    volume = np.zeros((9, 8, 8, 1), np.float32)
    fig = grid_figure([("vol.tif", [volume, volume])], PREDICTION_COLUMNS[:2], z=2)
    assert fig.axes[0].get_title() == "input\nvol.tif\nz-slice 2 (of 0-8)"
    middle = grid_figure([("vol.tif", [volume, volume])], PREDICTION_COLUMNS[:2])
    assert "z-slice 4 (of 0-8)" in middle.axes[1].get_title()


def test_tensorboard_triplets_shown_inline(short_run, monkeypatch):
    _, result = short_run
    images = training_images(result)
    assert [epoch for epoch, _ in images] == [1, 2]  # one per epoch
    assert all(png.startswith(b"\x89PNG") for _, png in images)
    shown = []
    monkeypatch.setattr("i2i_nb.notebook.results.display", shown.append)
    show_training_images(result)
    assert "Epoch 2" in shown[0].data and "tensorboard --logdir" in shown[0].data
    assert shown[1].data == images[-1][1]


def test_download_link_is_relative_to_the_notebook(tmp_path, monkeypatch):
    archive = tmp_path / "out" / "run.zip"
    archive.parent.mkdir()
    archive.write_bytes(b"zip")
    monkeypatch.chdir(tmp_path)
    link = download_link(archive).data
    assert 'href="out/run.zip"' in link and 'download="run.zip"' in link
    monkeypatch.chdir(archive.parent)
    assert download_link(tmp_path / "elsewhere.zip") is None


def test_results_tree(short_run):
    _, result = short_run
    tree = results_tree(result)
    lines = tree.splitlines()
    assert lines[0] == f"{result.paths.root.absolute()}/"
    for name in ("checkpoints/", "per_image/", "test-0000.tif", "test_metrics.csv",
                 "short_1-checkpoint-best.pth"):
        assert any(line.strip().startswith(name) for line in lines), name
    assert "KB)" in tree


def test_download_zips_and_calls_colab(short_run, monkeypatch, capsys):
    _, result = short_run
    downloaded = []
    colab = types.ModuleType("google.colab")
    colab.files = types.SimpleNamespace(download=downloaded.append)
    if "google" not in sys.modules:
        monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    archive = download_results(result)
    assert archive == result.paths.root.with_suffix(".zip")
    assert downloaded == [str(archive)]
    names = zipfile.ZipFile(archive).namelist()
    assert "short/results/short_1/test_metrics.csv" in names
    assert "results zipped to" in capsys.readouterr().out


def test_metrics_table_shows_a_failed_guard(tmp_path):
    from i2i_nb.baselines import QualityCheck
    from i2i_nb.experiment import RunPaths

    row = {"file": "a.tif", "psnr": 15.0, "input_psnr": 15.8, "constant_psnr": 15.8,
           "si_psnr": 21.6, "constant_si_psnr": 21.8, "identity": "input ch 1 (affine fit)"}
    result = RunResult(RunPaths(tmp_path, "job", 1), test_rows=[row],
                       checks={"validation": QualityCheck("validation patches", 15.0, 15.8,
                                                          15.8, "input ch 1 (affine fit)")})
    table = metrics_table(result).data
    assert "<b>WARNING: on the validation patches the model scores 15.00 dB" in table
    assert "Identity: input ch 1 (affine fit)" in table and "21.80" in table
