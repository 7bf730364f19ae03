"""Input | prediction | target image triplets for TensorBoard, written each epoch.

The same few patches (the first validation patches, else the first training patches)
are predicted after every epoch, so ``tensorboard --logdir`` shows what the network
learns. Channel 0 is shown; volumes show their middle z-slice.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

TAG = "input | prediction | target"
TRIPLETS = 3
GAP = 2  # pixels of white between the three panels


def _plane(tensor: torch.Tensor) -> np.ndarray:
    """Channel 0 of a ``(c, *spatial)`` patch; the middle z-slice of a volume."""
    array = tensor[0].float().cpu().numpy()
    return array[array.shape[0] // 2] if array.ndim == 3 else array


def _scaled(array: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.clip((array - low) / (high - low), 0.0, 1.0) if high > low else array * 0.0


def triplet(x: torch.Tensor, prediction: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """One ``(1, h, 3w + 2 GAP)`` image in [0, 1]: the input scaled to its own 1-99.8 %,
    prediction and target to the target's (so those two are comparable)."""
    inp, pred, target = _plane(x), _plane(prediction), _plane(y)
    low, high = np.percentile(target, (1.0, 99.8))
    gap = np.ones((inp.shape[0], GAP), np.float32)
    panels = [_scaled(inp, *np.percentile(inp, (1.0, 99.8))), gap, _scaled(pred, low, high),
              gap, _scaled(target, low, high)]
    return np.concatenate(panels, axis=1)[None].astype(np.float32)


def triplets(model: nn.Module, dataset: Dataset, device: torch.device,
             count: int = TRIPLETS) -> np.ndarray:
    """One ``(1, h, w)`` image (CHW): the triplets of the first ``count`` patches of
    ``dataset``, one per row, ``2 GAP`` white pixels apart."""
    model.eval()
    rows = []
    with torch.inference_mode():
        for i in range(min(count, len(dataset))):
            x, y = dataset[i]
            prediction = model(x[None].to(device))[0]
            row = triplet(x, prediction, y)
            if rows:
                rows.append(np.ones((1, 2 * GAP, row.shape[2]), np.float32))
            rows.append(row)
    return np.concatenate(rows, axis=1)
