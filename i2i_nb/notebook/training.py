"""The training cell: run training and testing with a live chart and a Stop button."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

from i2i_nb.checkpoint import load_checkpoint
from i2i_nb.config import Config
from i2i_nb.experiment import RunPaths, RunResult, resolve_device, run
from i2i_nb.notebook.frontend import resolve_interactive
from i2i_nb.notebook.live_plot import LivePlot
from i2i_nb.notebook.stop_button import StopButton, ui_poll

TICK = 0.2  # seconds between looks at the training thread


def _previous_history(paths: RunPaths, resume: bool) -> list[dict[str, float]]:
    last = paths.checkpoint("last")
    return load_checkpoint(last)["history"] if resume and last.is_file() else []


def stop_summary(history: list[dict[str, float]], epochs: int, stopped: bool) -> str:
    """One line saying where training ended and which epoch the tested checkpoint is from."""
    if not history:
        return "No epoch finished: nothing was trained."
    last = int(history[-1]["epoch"])
    best = min(history, key=lambda row: row["val_loss"] if math.isfinite(row["val_loss"])
               else math.inf)
    why = ("stopped on request" if stopped and last < epochs
           else "finished" if last >= epochs else "stopped early (no improvement: TRAIN.PATIENCE)")
    return (f"Training {why} after epoch {last} of {epochs}; the best checkpoint (epoch "
            f"{int(best['epoch'])}, val loss {best['val_loss']:.4g}) is the one tested.")


async def train(cfg: Config, result_dir: str | Path, name: str, run_id: int = 1,
                device: str = "", resume: bool = False, *,
                interactive: bool | None = None) -> RunResult:
    """Train and test as ``cfg`` says (:func:`i2i_nb.experiment.run`); await it in a cell.

    The chart of loss, validation loss and validation PSNR is redrawn in place
    after every epoch. Training runs in a worker thread so that the kernel stays
    responsive: the Stop button (shown in a live front end) and the notebook's
    interrupt end training after the current epoch; the best checkpoint is then
    tested as usual and ``resume=True`` continues training later.

    Parameters
    ----------
    cfg : the run's settings.
    result_dir, name, run_id : the results go to ``<result_dir>/<name>``.
    device : ``""`` (CUDA when available), ``"cpu"``, ``"cuda:0"``...
    resume : continue from this run's last checkpoint.
    interactive : show the Stop button; None: when a person is looking (a live front
        end, not papermill or nbval; :func:`i2i_nb.notebook.frontend.live_frontend`).
    """
    paths = RunPaths(Path(result_dir), name, run_id, cfg.model.out_checkpoint_format.lower())
    plot = LivePlot(cfg.train.epochs, _previous_history(paths, resume))
    stop = StopButton()
    if resolve_interactive(interactive):
        stop.show()

    def on_epoch(record: dict[str, float]) -> None:
        plot.update(record)
        if stop.requested():
            stop.finish(int(record["epoch"]))

    job = asyncio.ensure_future(asyncio.to_thread(
        run, cfg, result_dir, name, run_id, resolve_device(device or None), f"{name}.yaml",
        resume, on_epoch, stop.requested))
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
    try:
        result = job.result()
    finally:
        stop.finish(int(plot.history[-1]["epoch"]) if plot.history else 0)
    print(stop_summary(result.history, cfg.train.epochs, stop.requested()))
    return result
