"""The training cell: run training and testing with a live chart and a Stop button."""

from __future__ import annotations

import asyncio
from pathlib import Path

from i2i_nb.checkpoint import load_checkpoint
from i2i_nb.config import Config
from i2i_nb.experiment import RunPaths, RunResult, resolve_device, run
from i2i_nb.notebook.live_plot import LivePlot
from i2i_nb.notebook.stop_button import StopButton, ui_poll

TICK = 0.2  # seconds between looks at the training thread


def _previous_history(paths: RunPaths, resume: bool) -> list[dict[str, float]]:
    last = paths.checkpoint("last")
    return load_checkpoint(last)["history"] if resume and last.is_file() else []


async def train(cfg: Config, result_dir: str | Path, name: str, run_id: int = 1,
                device: str = "", interactive: bool = False, resume: bool = False) -> RunResult:
    """Train and test as ``cfg`` says (:func:`i2i_nb.experiment.run`); await it in a cell.

    The chart of loss, validation loss and validation PSNR is redrawn in place
    after every epoch. Training runs in a worker thread so that the kernel stays
    responsive: with ``interactive`` a Stop button, and in any case the notebook's
    interrupt, end training after the current epoch; the best checkpoint is then
    tested as usual and ``resume=True`` continues training later.

    Parameters
    ----------
    cfg : the run's settings.
    result_dir, name, run_id : the results go to ``<result_dir>/<name>``.
    device : ``""`` (CUDA when available), ``"cpu"``, ``"cuda:0"``...
    interactive : show the Stop button.
    resume : continue from this run's last checkpoint.
    """
    paths = RunPaths(Path(result_dir), name, run_id)
    plot = LivePlot(cfg.train.epochs, _previous_history(paths, resume))
    stop = StopButton()
    if interactive:
        stop.show()
    job = asyncio.ensure_future(asyncio.to_thread(
        run, cfg, result_dir, name, run_id, resolve_device(device or None), f"{name}.yaml",
        resume, plot.update, stop.requested))
    async with ui_poll() as handle_ui:
        while not job.done():
            try:
                await handle_ui()
                await asyncio.sleep(TICK)
            except (KeyboardInterrupt, asyncio.CancelledError):
                stop.request()
                print(f"Interrupted: training stops after the current epoch, then the best "
                      f"checkpoint is tested. Checkpoints: {paths.root / 'checkpoints'}; set "
                      f"resume = True and run again to continue training from the last one.")
    return job.result()
