"""The notebooks as a person meets them: JupyterLab on 127.0.0.1 in headless Chromium.

Run with ``python -m pytest -m browser tests/browser`` (``scripts/test.sh`` does); needs
Debian's ``chromium`` and the ``playwright`` package (it drives the system's browser,
nothing is downloaded). Screenshots go to ``output/ci-screenshots/``.
"""

import csv
import re
from pathlib import Path

import pytest
import yaml

from tests.browser.lab import CHROMIUM, Notebook, dead_widget_views, start_lab, write_notebook

pytestmark = pytest.mark.browser

SECTIONS_2D = [("Paired image-to-image", "2d_0_title.png"), ("1. Set-up", "2d_1_setup.png"),
               ("2. Parameters", "2d_2_parameters.png"), ("3. Data", "2d_3_data.png"),
               ("4. Parameter form", "2d_4_form.png"), ("5. Training", "2d_5_training.png"),
               ("6. Quality control", "2d_6_quality_control.png"),
               ("7. Results and download", "2d_7_results.png"),
               ("8. Predict your own images", "2d_8_predict_own.png")]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM)")
    root = tmp_path_factory.mktemp("lab") / "root"
    root.mkdir()
    server = start_lab(root, root.parent / "jupyterlab.log")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def page(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1400, "height": 1300},
                                      accept_downloads=True)
        yield context.new_page()
        browser.close()


def _epochs_trained(log: Path) -> list[int]:
    with log.open() as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def test_2d_run_all_form_stop_and_reload(lab, page):
    write_notebook("i2i_2d.ipynb", lab.root, epochs=2)
    notebook = Notebook(page, lab, "i2i_2d.ipynb")
    notebook.open()
    notebook.menu("Run", "Run All Cells")
    notebook.wait_ran("own_archive = results.download_results", 420)
    assert notebook.panel.locator(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
        has_text="Traceback").count() == 0
    assert notebook.widget_errors() == 0
    training = notebook.cell("result = await training.train")
    assert training.get_by_role("button", name="Training ended after epoch 2").is_visible()
    assert "Training finished after epoch 2 of 2" in training.inner_text()
    assert training.locator("img").count() == 1  # the chart, drawn in place
    assert notebook.cell("results.show_predictions").locator(
        ".jp-OutputArea-output img").count() == 1
    run = lab.root / "i2i_results" / "i2i_2d" / "results" / "i2i_2d_1"
    assert _epochs_trained(run / "train_logs" / "i2i_2d_1_log.csv") == [1, 2]
    assert "written to" in notebook.cell("own = predict_step.predict_own").inner_text()
    link = notebook.cell("archive = results.download_results").get_by_role(
        "link", name=re.compile("Download i2i_2d.zip"))
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "i2i_2d.zip"
    for heading, file in SECTIONS_2D:
        notebook.screenshot(heading, file)

    # Section 4: change one field of the form, save the YAML, train from the form.
    form = notebook.cell("parameter_form = form.ParameterForm")
    form.get_by_text("Training", exact=True).click()
    epochs = form.locator(".widget-inline-hbox", has=page.locator(
        ".widget-label", has_text=re.compile("^epochs$"))).locator("input")
    epochs.fill("40")
    epochs.press("Enter")
    form.get_by_role("button", name="Save YAML").click()
    form.get_by_text("saved to").wait_for()
    saved = yaml.safe_load((lab.root / "i2i_results" / "i2i_2d.yaml").read_text())
    assert saved["TRAIN"]["EPOCHS"] == 40
    notebook.screenshot("4. Parameter form", "2d_4_form_changed.png")
    notebook.run_from("cfg = parameter_form.config()", 3)  # read the form, (text), train

    # Section 5: the Stop button ends training after the epoch; the test follows.
    stop = training.get_by_role("button", name="Stop after this epoch")
    stop.wait_for(timeout=60_000)
    training.locator("img").wait_for(timeout=180_000)  # the first epoch's chart
    notebook.screenshot("5. Training", "2d_5_training_live.png")
    stop.click()
    training.get_by_role("button", name=re.compile("Stopped after epoch")).wait_for(
        timeout=180_000)
    notebook.wait_idle(300)
    summary = re.search(r"stopped on request after epoch (\d+) of 40", training.inner_text())
    assert summary, training.inner_text()
    trained = _epochs_trained(run / "train_logs" / "i2i_2d_1_log.csv")
    assert trained == list(range(1, int(summary.group(1)) + 1)) and len(trained) < 40
    notebook.screenshot("5. Training", "2d_5_training_stopped.png")

    # Saved and reloaded: every widget view still has its model.
    notebook.save()
    views, dead = dead_widget_views(lab.root / "i2i_2d.ipynb")
    assert views >= 4 and dead == []
    page.reload()
    notebook.panel.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    notebook.cell("parameter_form = form.ParameterForm").get_by_role(
        "button", name="Save YAML").wait_for(timeout=60_000)  # widgets drawn from the kernel
    page.wait_for_timeout(2000)
    assert notebook.widget_errors() == 0
    notebook.screenshot("5. Training", "2d_5_training_after_reload.png")


def test_3d_opens_runs_data_and_form_steps(lab, page):
    write_notebook("i2i_3d.ipynb", lab.root, epochs=1)
    notebook = Notebook(page, lab, "i2i_3d.ipynb")
    notebook.open()
    notebook.select_markdown("5. Training")
    notebook.menu("Run", "Run All Above Selected Cell")
    notebook.wait_ran("cfg = parameter_form.config()", 300)
    assert notebook.widget_errors() == 0
    pairs = notebook.cell("data_step.show_pairs")
    assert pairs.locator(".widget-slider").count() == 1  # a live front end: a z-slider
    assert pairs.locator("img").count() == 1
    assert "All image pairs are readable" in notebook.cell("data_step.check_table").inner_text()
    form = notebook.cell("parameter_form = form.ParameterForm")
    assert form.get_by_role("button", name="Save YAML").is_visible()
    notebook.screenshot("3. Data", "3d_3_data.png")
    notebook.screenshot("4. Parameter form", "3d_4_form.png")
