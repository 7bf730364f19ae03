"""The guard: after training, the model and both trivial baselines on the validation patches.

See :mod:`i2i_nb.baselines` for the baselines and the wording of the verdict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset

from i2i_nb.baselines import QualityCheck
from i2i_nb.checkpoint import load_checkpoint
from i2i_nb.compute import autocast, cpu_layout
from i2i_nb.config import TrainConfig
from i2i_nb.data.normalize import DatasetScaler
from i2i_nb.distributed import SINGLE, World, barrier, reduce_extremes, reduce_sums
from i2i_nb.metrics import Moments


def _affine_residual(moments: Moments) -> tuple[float, float]:
    """Mean squared error of the best affine fit of p to g, and its r²."""
    _, _, var_p, var_g, cov = moments.central()
    if var_p <= 0 or var_g <= 0:
        return var_g, 0.0
    return max(0.0, var_g - cov * cov / var_p), cov * cov / (var_p * var_g)


def validation_check(model: nn.Module, dataset: Dataset, constant: Sequence[float],
                     device: torch.device, batch_size: int, amp: bool = False,
                     world: World = SINGLE) -> QualityCheck:
    """PSNR of ``model`` and of both baselines on the validation patches (normalised units).

    ``constant`` is the training targets' mean in normalised units; the identity is the
    input channel that best predicts each target channel after an affine fit over all
    validation patches (the inputs are normalised differently from the targets, so the
    raw input is no baseline here).  Sums are reduced across processes.
    """
    model.eval()
    share = Subset(dataset, range(world.rank, len(dataset), world.size))
    loader = DataLoader(share, batch_size=batch_size, shuffle=False)
    pred_m, const_m, cross = Moments(0.0, 0.0), Moments(0.0, 0.0), None
    with torch.inference_mode(), cpu_layout(model, device, getattr(model, "ndim", 0)):
        for x, y in loader:
            with autocast(device, amp):
                p = model(x.to(device))
            p, xs, ys = p.float().cpu().numpy(), x.numpy(), y.numpy()
            pred_m.add(p, ys)
            shape = (1, -1) + (1,) * (ys.ndim - 2)
            const_m.add(np.broadcast_to(np.asarray(constant, np.float64).reshape(shape),
                                        ys.shape), ys)
            if cross is None:
                cross = [[Moments(0.0, 0.0) for _ in range(xs.shape[1])]
                         for _ in range(ys.shape[1])]
            for t, row in enumerate(cross):
                for i, m in enumerate(row):
                    m.add(xs[:, i], ys[:, t])
    cross = cross or []
    everything = [pred_m, const_m] + [m for row in cross for m in row]
    sums = reduce_sums([v for m in everything for v in m.to_list()], world, device)
    for k, m in enumerate(everything):
        m.sums = np.asarray(sums[8 * k: 8 * k + 8])
    low, high = reduce_extremes(pred_m.low, pred_m.high, world, device)
    peak = high - low if high > low else 1.0
    residuals, sources = [], []
    for row in cross:
        scored = [_affine_residual(m) for m in row]
        best = max(range(len(scored)), key=lambda i: scored[i][1])
        residuals.append(scored[best][0])
        sources.append(best)
    identity = (10 * math.log10(peak**2 / max(float(np.mean(residuals)), 1e-30))
                if residuals else math.nan)
    name = (f"input ch {', '.join(str(s + 1) for s in sources)} "
            f"(affine fit{'s' if len(sources) > 1 else ''})")
    return QualityCheck("validation patches", pred_m.values(peak)["psnr"], identity,
                        const_m.values(peak)["psnr"], name)


def check_best(model: nn.Module, val_set: Dataset | None, scaler: DatasetScaler, best: Path,
               cfg: TrainConfig, device: torch.device, world: World = SINGLE
               ) -> QualityCheck | None:
    """Load the best checkpoint into ``model`` and :func:`validation_check` it (printed);
    None without validation patches or target statistics."""
    barrier(world)  # rank 0 has written the best checkpoint
    missing = ("no validation patches (with a single training image, DATA.VAL.SPLIT_BY: "
               "region validates on a part of it)" if val_set is None else
               "no best checkpoint" if not best.exists() else
               "no training-target mean in the statistics" if scaler.mean is None else "")
    if missing:
        if world.is_main:
            print(f"Quality check skipped: {missing}; the model was not compared with the "
                  "trivial baselines before testing")
        return None
    model.load_state_dict(load_checkpoint(best)["model"])
    constant = [float(v) for v in scaler.forward(np.asarray([scaler.mean]))[0]]
    batch = max(1, cfg.batch_size // world.size)
    check = validation_check(model, val_set, constant, device, batch, cfg.amp, world)
    if world.is_main:
        print(check.message())
    return check
