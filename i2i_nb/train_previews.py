"""BiaPy's ``TRAIN.SAVE_TRAIN_PREDS_FREQ``: the network's predictions of a few fixed
patches written every few epochs, to watch training progress.

``train_pred_samples/input/`` and ``gt/`` hold the patches (validation patches, else
training ones) as the network sees them (normalised), once; ``pred_epoch_NNNN/`` the
predictions at epoch ``NNNN`` in the same normalised target units, every ``FREQ`` epochs
and at the last epoch (as BiaPy).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import Dataset

from i2i_nb.data.io import write_image


def _channel_last(t: torch.Tensor):
    """A ``(C, *spatial)`` tensor as a channel-last numpy array."""
    return t.detach().float().cpu().movedim(0, -1).numpy()


class TrainPreviews:
    """Predict ``count`` fixed patches of ``dataset`` into ``folder`` every ``freq`` epochs
    (and at epoch ``epochs``)."""

    def __init__(self, model: nn.Module, dataset: Dataset, folder: Path, ndim: int,
                 freq: int, count: int, epochs: int, device: torch.device) -> None:
        self.model, self.folder, self.ndim = model, folder, ndim
        self.freq, self.epochs, self.device = freq, epochs, device
        samples = [dataset[i] for i in range(min(count, len(dataset)))]
        for sub in ("input", "gt"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        self.inputs = torch.stack([x for x, _ in samples])
        for i, (x, y) in enumerate(samples):
            write_image(folder / "input" / f"{i:03d}.tif", _channel_last(x), ndim)
            write_image(folder / "gt" / f"{i:03d}.tif", _channel_last(y), ndim)
        print(f"TRAIN.SAVE_TRAIN_PREDS_FREQ: predicting {len(samples)} fixed patch(es) every "
              f"{freq} epoch(s) into {folder}")

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
        for i, p in enumerate(pred):
            write_image(out / f"{i:03d}.tif", _channel_last(p), self.ndim)


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
