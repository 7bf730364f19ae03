"""Both notebooks run headless with papermill, as a user would run them."""

import csv
import time
from pathlib import Path

import nbformat
import papermill
import pytest
from jupyter_client.kernelspec import KernelSpecManager

from i2i_nb.demo import make_demo_data

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture(scope="module")
def kernel_name():
    if "python3" not in KernelSpecManager().find_kernel_specs():
        pytest.skip("no python3 kernel: python -m ipykernel install --user --name python3")
    return "python3"


def _execute(notebook, tmp_path, kernel_name, **parameters):
    out = tmp_path / notebook
    began = time.perf_counter()
    papermill.execute_notebook(NOTEBOOKS / notebook, out, parameters=parameters,
                               kernel_name=kernel_name, cwd=str(tmp_path), progress_bar=False)
    print(f"{notebook}: {time.perf_counter() - began:.1f} s")
    executed = nbformat.read(out, as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    return executed


def _dead_widget_views(executed):
    """Widget views in the saved outputs whose model is not in the saved widget state:
    what a reload shows as "Error displaying widget: model not found"."""
    state = executed.metadata.get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state", {})
    views = [o.data["application/vnd.jupyter.widget-view+json"]["model_id"]
             for c in executed.cells if c.cell_type == "code" for o in c.outputs
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert views, "the notebook shows widgets (the form, the upload buttons)"
    return [view for view in views if view not in state]


def _cell_outputs(executed, start):
    cell = next(c for c in executed.cells if c.source.startswith(start))
    return cell.outputs


def _metrics(run_dir, inputs):
    inputs = sorted(p.name for p in inputs)
    with open(run_dir / "test_metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["file"] for row in rows] == inputs + ["mean"]
    assert sorted(p.name for p in (run_dir / "per_image").glob("*.tif")) == inputs
    return rows[-1]


@pytest.mark.slow
def test_2d_defaults_beat_the_identity_baseline(tmp_path, kernel_name):
    executed = _execute("i2i_2d.ipynb", tmp_path, kernel_name)
    run_dir = tmp_path / "i2i_results" / "i2i_2d" / "results" / "i2i_2d_1"
    mean = _metrics(run_dir, (tmp_path / "i2i_data_2d" / "test" / "x").glob("*.tif"))
    print(f"2D defaults: PSNR {float(mean['psnr']):.2f} dB, identity "
          f"{float(mean['input_psnr']):.2f} dB")
    assert float(mean["psnr"]) > float(mean["input_psnr"]) + 3.0
    assert (run_dir / "BMZ_files" / "i2i_2d_1.zip").is_file()  # the export section
    chart = _cell_outputs(executed, "result = await training.train")
    assert sum("image/png" in o.get("data", {}) for o in chart) == 1  # redrawn in place
    widgets = [o.data["text/plain"] for o in chart
               if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert all(w.startswith("Predicting") for w in widgets), widgets  # headless: no Stop
    # button; the epochs' progress is text
    assert "Training finished after epoch" in "".join(o.get("text", "") for o in chart)
    assert _dead_widget_views(executed) == []
    triplet = _cell_outputs(executed, "results.show_training_images")
    assert "image/png" in triplet[-1].data
    assert "All image pairs" in _cell_outputs(executed, "data_step.check_table")[0].data[
        "text/html"]
    assert (tmp_path / "i2i_results" / "i2i_2d.zip").is_file()
    own = tmp_path / "i2i_results" / "i2i_2d_predictions" / "results" / "i2i_2d_predictions_1"
    assert sorted(p.name for p in (own / "per_image").glob("*.tif")) == sorted(
        p.name for p in (tmp_path / "i2i_data_2d" / "test" / "x").glob("*.tif"))
    assert not (own / "test_metrics.csv").exists()  # no targets, no metrics


def test_3d_on_a_data_folder(tmp_path, kernel_name):
    data = make_demo_data(tmp_path / "volumes", 3)
    executed = _execute("i2i_3d.ipynb", tmp_path, kernel_name, data_source="folder",
                        data_dir=str(data), epochs=3, result_dir=str(tmp_path / "out"),
                        name="vol", run_id=2)
    assert _dead_widget_views(executed) == []
    run_dir = tmp_path / "out" / "vol" / "results" / "vol_2"
    _metrics(run_dir, (data / "test" / "x").glob("*.tif"))
    assert (tmp_path / "out" / "vol" / "checkpoints" / "vol_2-checkpoint-best.pth").is_file()
    own = tmp_path / "out" / "vol_predictions" / "results" / "vol_predictions_2" / "per_image"
    assert len(list(own.glob("*.tif"))) == 2
