"""A JupyterLab server on 127.0.0.1 and a headless Chromium page driving it (playwright).

The browser is the system's (Debian's ``chromium``, ``CHROMIUM`` to point elsewhere);
playwright's own browser download is never used.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook
from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SCREENSHOTS = Path(os.environ.get(
    "I2I_SCREENSHOTS", Path(__file__).resolve().parents[2] / "output" / "ci-screenshots"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

# User settings of the test's own JupyterLab: every cell in the page (no virtual
# scrolling, so the whole notebook can be searched), widget state saved with the
# notebook (to check it on disk), no news or update pop-ups.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": True},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {
        "autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab: its root folder, address and token."""

    root: Path
    url: str
    token: str
    process: subprocess.Popen

    def notebook_url(self, name: str) -> str:
        """The address opening ``name`` (a file in the root) in JupyterLab."""
        return f"{self.url}/lab/tree/{name}?token={self.token}"

    def stop(self) -> None:
        """Shut the server (and its kernels) down."""
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_lab(root: Path, log: Path) -> Lab:
    """Start ``jupyter lab`` on 127.0.0.1 serving ``root``; wait until it answers."""
    settings = root.parent / "lab-settings"
    for name, values in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(root.parent / "lab-workspaces"),
           "JUPYTER_RUNTIME_DIR": str(root.parent / "runtime"), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--ServerApp.open_browser=False", "--LabApp.news_url=None",
         *(["--allow-root"] if os.geteuid() == 0 else [])],  # CI runs as root
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited: see {log}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                return Lab(root, url, token, process)
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"jupyter lab did not answer on {url}: see {log}")


def write_notebook(name: str, folder: Path, **parameters: object) -> Path:
    """Copy a committed notebook into ``folder`` with papermill's injected parameters."""
    notebook = parameterize_notebook(load_notebook_node(str(NOTEBOOKS / name)), parameters)
    path = folder / name
    nbformat.write(notebook, path)
    return path


def dead_widget_views(path: Path) -> tuple[int, list[str]]:
    """The widget views in a saved notebook, and those whose model is not in its saved
    widget state (what a reopened notebook shows as "Error displaying widget")."""
    notebook = nbformat.read(path, as_version=4)
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    views = [output.data[WIDGET_VIEW]["model_id"] for cell in notebook.cells
             if cell.cell_type == "code" for output in cell.outputs
             if WIDGET_VIEW in output.get("data", {})]
    return len(views), [view for view in views if view not in state]


class Notebook:
    """A notebook open in the page: run cells, wait for the kernel, take screenshots."""

    def __init__(self, page: object, lab: Lab, name: str) -> None:
        self.page, self.lab, self.name = page, lab, name
        # the notebook in view (other notebooks' panels stay in the page, hidden)
        self.panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")

    def open(self) -> None:
        """Load the notebook and wait for its kernel to be idle."""
        self.page.goto(self.lab.notebook_url(self.name))
        self.panel.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
        choose = self.page.locator(".jp-Dialog", has_text="Select Kernel")
        try:  # JupyterLab may ask even though the notebook names its kernel
            choose.get_by_role("button", name="Select").click(timeout=5000)
        except PlaywrightTimeout:
            pass
        self.panel.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(
            timeout=120_000)

    def wait_idle(self, seconds: float) -> None:
        """Wait until the kernel is idle and no cell is queued or running (``[*]``)."""
        self.page.wait_for_function(
            """() => {
                const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
                const busy = [...panel.querySelectorAll('.jp-InputPrompt')]
                    .some(p => p.textContent.includes('*'));
                const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
                const idle = !status || status.getAttribute('data-status') === 'idle';
                return !busy && idle;
            }""", timeout=seconds * 1000, polling=500)

    def wait_ran(self, source_start: str, seconds: float) -> None:
        """Wait until the cell starting with ``source_start`` has run (an execution count)
        and the kernel is idle; fail at once with the traceback when a cell fails."""
        prompt = self.cell(source_start).locator(".jp-InputPrompt")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            errors = self.panel.locator(".jp-OutputArea-output[data-mime-type="
                                       "'application/vnd.jupyter.stderr']", has_text="Error")
            if errors.count():
                raise AssertionError(f"a cell failed:\n{errors.first.inner_text()}")
            if re.fullmatch(r"\[\d+\]:", prompt.inner_text().strip()):
                self.wait_idle(max(1.0, deadline - time.monotonic()))
                return
            self.page.wait_for_timeout(1000)
        raise AssertionError(f"{source_start!r} did not run in {seconds} s")

    def menu(self, top: str, item: str) -> None:
        """Click ``top`` in the menu bar, then ``item``."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{top}$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{item}$")).click()

    def cell(self, source_start: str) -> object:
        """The cell whose source starts with ``source_start``."""
        return self.panel.locator(".jp-Cell", has=self.page.locator(
            ".jp-InputArea-editor", has_text=source_start)).first

    def select(self, source_start: str) -> None:
        """Select the cell whose source starts with ``source_start`` (command mode)."""
        self.cell(source_start).locator(".jp-InputPrompt").click()

    def select_markdown(self, heading: str) -> None:
        """Select the markdown cell showing the heading ``heading``."""
        self.panel.locator(".jp-Cell", has=self.page.locator(
            ".jp-MarkdownOutput h2", has_text=heading)).first.locator(".jp-InputPrompt").click()

    def run_from(self, source_start: str, count: int) -> None:
        """Run ``count`` cells from the one starting with ``source_start`` (Shift+Enter)."""
        self.select(source_start)
        for _ in range(count):
            self.page.keyboard.press("Shift+Enter")

    def save(self) -> None:
        """Save the notebook (Ctrl+S) and wait until JupyterLab says it is saved."""
        self.panel.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Control+s")
        self.page.wait_for_function(
            """() => !document.querySelector('.jp-mod-dirty')""", timeout=30_000)

    def widget_errors(self) -> int:
        """How many outputs say "Error displaying widget"."""
        return self.panel.get_by_text("Error displaying widget").count()

    def screenshot(self, heading: str, file: str) -> Path:
        """Scroll the markdown heading ``heading`` to the top and save the view."""
        self.panel.locator(".jp-MarkdownOutput h2, .jp-MarkdownOutput h1",
                          has_text=heading).first.evaluate(
            "e => e.scrollIntoView({block: 'start'})")
        self.page.wait_for_timeout(300)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / file
        self.page.screenshot(path=str(path))
        return path
