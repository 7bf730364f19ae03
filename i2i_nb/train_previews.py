"""BiaPy's ``TRAIN.SAVE_TRAIN_PREDS_FREQ``: the network's predictions of a few fixed
patches written every few epochs, to watch training progress.

``train_pred_samples/input/`` and ``gt/`` hold the patches (validation patches, else
training ones) as the network sees them (normalised), once; ``pred_epoch_NNNN/`` the
predictions at epoch ``NNNN`` in the same normalised target units, every ``FREQ`` epochs
and at the last epoch (as BiaPy). ``TRAIN.SAVE_TRAIN_PREDS_SHOW`` also shows each set of
predictions inline in the Jupyter (or Colab) notebook that runs the training, as BiaPy:
per patch its input, target and prediction, one panel per channel (the middle z slice in
3D), at most three panels a row.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from i2i_nb.data.io import write_image


def _channel_last(t: torch.Tensor):
    """A ``(C, *spatial)`` tensor as a channel-last numpy array."""
    return t.detach().float().cpu().movedim(0, -1).numpy()


def inline_display() -> Callable[[Any], None] | None:
    """IPython's ``display`` when this process is a notebook kernel (Jupyter's ZMQ shell, or
    Colab's, which subclasses it), else None (a terminal IPython, a script, the CLI)."""
    try:
        from ipykernel.zmqshell import ZMQInteractiveShell
        from IPython import get_ipython
    except ImportError:
        return None
    if not isinstance(get_ipython(), ZMQInteractiveShell):
        return None
    from IPython.display import display
    return display


def _panels(name: str, image: np.ndarray, ndim: int) -> list[tuple[str, np.ndarray]]:
    """One ``(title, 2D array)`` per channel of a channel-last patch (middle z in 3D)."""
    plane = image[image.shape[0] // 2] if ndim == 3 else image
    if plane.shape[-1] == 1:
        return [(name, plane[..., 0])]
    return [(f"{name} ch{c}", plane[..., c]) for c in range(plane.shape[-1])]


def preview_png(epoch: int, inputs: Sequence[np.ndarray], targets: Sequence[np.ndarray],
                preds: Sequence[np.ndarray], ndim: int, columns: int = 3) -> bytes:
    """A PNG of every patch's input, target and prediction panels, ``columns`` a row, each
    patch on rows of its own, titled with the epoch (BiaPy's inline preview)."""
    from matplotlib.figure import Figure

    rows = []
    for i, arrays in enumerate(zip(inputs, targets, preds, strict=True)):
        panels = [p for name, a in zip(("input", "GT", "pred"), arrays, strict=True)
                  for p in _panels(name, a, ndim)]
        prefix = f"s{i} " if len(inputs) > 1 else ""
        panels = [(prefix + title, a) for title, a in panels]
        rows += [panels[k:k + columns] for k in range(0, len(panels), columns)]
    figure = Figure(figsize=(3 * columns, 3 * len(rows)))
    axes = figure.subplots(len(rows), columns, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for r, panels in enumerate(rows):
        for c, (title, image) in enumerate(panels):
            axes[r][c].imshow(image, cmap="gray")
            axes[r][c].set_title(title, fontsize=8)
    figure.suptitle(f"Epoch {epoch}")
    figure.tight_layout(rect=(0, 0, 1, 0.96))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


class TrainPreviews:
    """Predict ``count`` fixed patches of ``dataset`` into ``folder`` every ``freq`` epochs
    (and at epoch ``epochs``); with ``show``, also display them inline in a notebook
    kernel (:func:`inline_display`; ignored elsewhere, said once)."""

    def __init__(self, model: nn.Module, dataset: Dataset, folder: Path, ndim: int,
                 freq: int, count: int, epochs: int, device: torch.device,
                 show: bool = False) -> None:
        self.model, self.folder, self.ndim = model, folder, ndim
        self.freq, self.epochs, self.device = freq, epochs, device
        samples = [dataset[i] for i in range(min(count, len(dataset)))]
        for sub in ("input", "gt"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        self.inputs = torch.stack([x for x, _ in samples])
        self.shown = [(_channel_last(x), _channel_last(y)) for x, y in samples]
        for i, (x, y) in enumerate(self.shown):
            write_image(folder / "input" / f"{i:03d}.tif", x, ndim)
            write_image(folder / "gt" / f"{i:03d}.tif", y, ndim)
        print(f"TRAIN.SAVE_TRAIN_PREDS_FREQ: predicting {len(samples)} fixed patch(es) every "
              f"{freq} epoch(s) into {folder}")
        self.display = inline_display() if show else None
        if show and self.display is None:
            print("TRAIN.SAVE_TRAIN_PREDS_SHOW: ignored outside a Jupyter/Colab notebook "
                  "kernel (the previews are written to files only)")

    def __call__(self, epoch: int) -> None:
        """Write the predictions when ``epoch`` (1-based) is one to preview."""
        if epoch % self.freq and epoch != self.epochs:
            return
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                pred = self.model(self.inputs.to(self.device))
        finally:
            self.model.train(was_training)
        out = self.folder / f"pred_epoch_{epoch:04d}"
        out.mkdir(parents=True, exist_ok=True)
        preds = [_channel_last(p) for p in pred]
        for i, p in enumerate(preds):
            write_image(out / f"{i:03d}.tif", p, self.ndim)
        if self.display is not None:
            self._show(epoch, preds)

    def _show(self, epoch: int, preds: list[np.ndarray]) -> None:
        """Display this epoch's previews inline; a failure stops showing them (as BiaPy)."""
        from IPython.display import Image

        try:
            png = preview_png(epoch, [x for x, _ in self.shown], [y for _, y in self.shown],
                              preds, self.ndim)
            self.display(Image(data=png, format="png"))
        except Exception as err:  # a preview never stops the training
            print(f"TRAIN.SAVE_TRAIN_PREDS_SHOW: could not show the previews inline ({err}); "
                  "no longer showing them")
            self.display = None


def with_previews(on_epoch: Callable[[dict[str, float]], None] | None,
                  previews: TrainPreviews | None
                  ) -> Callable[[dict[str, float]], None] | None:
    """``on_epoch`` that also writes the previews of each finished epoch."""
    if previews is None:
        return on_epoch

    def both(record: dict[str, float]) -> None:
        previews(int(record["epoch"]))
        if on_epoch is not None:
            on_epoch(record)

    return both
