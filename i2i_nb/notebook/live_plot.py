"""A training chart redrawn in place each epoch (JupyterLab, Colab and headless runs)."""

from __future__ import annotations

import math

from IPython import get_ipython
from IPython.display import HTML, display
from matplotlib.figure import Figure

from i2i_nb.notebook.figures import png


def history_figure(history: list[dict[str, float]], epochs: int) -> Figure:
    """Loss and validation loss (log scale) beside validation PSNR, per epoch."""
    fig = Figure(figsize=(10, 3.8))
    loss_ax, psnr_ax = fig.subplots(1, 2)
    x = [row["epoch"] for row in history]
    loss_ax.plot(x, [row["loss"] for row in history], marker=".", label="loss")
    loss_ax.plot(x, [row["val_loss"] for row in history], marker=".", label="val loss")
    loss_ax.set_yscale("log")
    loss_ax.set_ylabel("loss (log scale)")
    psnr_ax.plot(x, [row.get("val_psnr", math.nan) for row in history], marker=".", color="C2")
    psnr_ax.set_ylabel("val PSNR (dB)")
    for ax in (loss_ax, psnr_ax):
        ax.set_xlabel("epoch")
        ax.set_xlim(0.5, max(epochs, 1) + 0.5)
    loss_ax.legend()
    if history:
        last = history[-1]
        value = last.get("val_psnr", math.nan)
        psnr = f"{value:.2f} dB" if math.isfinite(value) else "n/a"
        fig.suptitle(f"epoch {last['epoch']}/{epochs}: loss {last['loss']:.4g}, val loss "
                     f"{last['val_loss']:.4g}, val PSNR {psnr}, {last['seconds']:.1f} s/epoch",
                     fontsize=12)
    fig.tight_layout()
    return fig


def waiting_note(epochs: int) -> HTML:
    """What stands in for the chart until the first epoch ends."""
    return HTML(f"<p><i>Training epoch 1 of {epochs}: the chart of loss and validation PSNR "
                "appears here when it ends.</i></p>")


class LivePlot:
    """Shows the history chart (or, before any epoch, a note saying it is coming), then
    replaces it after every epoch (``update``).

    Outside IPython nothing is drawn (the run writes its charts to ``charts/``).
    """

    def __init__(self, epochs: int, history: list[dict[str, float]] | None = None) -> None:
        self.epochs = epochs
        self.history = list(history or [])
        first = png(history_figure(self.history, epochs)) if self.history else waiting_note(epochs)
        self.handle = display(first, display_id=True) if get_ipython() else None

    def update(self, record: dict[str, float]) -> None:
        """Add one epoch's record and redraw (an ``on_epoch`` callback)."""
        self.history.append(record)
        if self.handle is not None:
            self.handle.update(png(history_figure(self.history, self.epochs)))
