"""The optimiser (``TRAIN.OPTIMIZER``) and the learning-rate schedule
(``TRAIN.LR_SCHEDULER``), and when the schedule steps."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from i2i_nb.config import TrainConfig


def build_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW (default), Adam or SGD with momentum, as ``TRAIN.OPTIMIZER`` says.

    The multi-tensor (``foreach``) implementation also on the CPU, where torch's default
    is one tensor at a time: the same arithmetic (identical weights), fewer passes
    (``python -m bench --only levers``).
    """
    name = cfg.optimizer.lower()
    params = model.parameters()
    betas = (cfg.opt_betas[0], cfg.opt_betas[1])
    if name == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, betas=betas, weight_decay=cfg.w_decay,
                                 foreach=True)
    if name == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=betas, weight_decay=cfg.w_decay,
                                foreach=True)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.w_decay,
                           foreach=True)


def build_scheduler(
    optimizer: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int
) -> tuple[Any, str]:
    """The learning-rate schedule and when it steps: ``"step"``, ``"epoch"`` or ``"none"``.

    ``warmupcosine`` rises linearly for ``WARMUP_COSINE_DECAY_EPOCHS`` epochs, then
    follows a cosine from ``LR`` to ``MIN_LR`` over the remaining epochs.
    """
    sched = cfg.lr_scheduler
    name = sched.name.lower()
    total = max(1, cfg.epochs * steps_per_epoch)
    warmup = min(max(sched.warmup_cosine_decay_epochs, 0) * steps_per_epoch, total // 2)
    if name == "warmupcosine":
        floor = min(1.0, sched.min_lr / cfg.lr)
        fraction = sched.cosine_decay_fraction
        hold = round(total * (1 - fraction)) if 0 < fraction <= 1 else warmup

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            if step < hold:
                return 1.0
            progress = min(1.0, (step - hold) / max(1, total - hold))
            return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor), "step"
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, cfg.lr, total_steps=total), "step"
    if name in ("reduceonplateau", "warmupreduceonplateau"):
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=sched.reduceonplateau_factor,
            patience=sched.reduceonplateau_patience, min_lr=sched.min_lr)
        if name == "reduceonplateau" or warmup == 0:
            return plateau, "epoch"
        return WarmupPlateau(optimizer, plateau, warmup), "step+epoch"
    return None, "none"


class WarmupPlateau:
    """BiaPy's ``warmupreduceonplateau``: the learning rate rises linearly over the first
    ``warmup`` steps (:meth:`step` per batch), then :class:`ReduceLROnPlateau` lowers it when
    the validation loss stalls (:meth:`epoch_step` per epoch)."""

    def __init__(self, optimizer: torch.optim.Optimizer,
                 plateau: torch.optim.lr_scheduler.ReduceLROnPlateau, warmup: int) -> None:
        self.optimizer, self.plateau, self.warmup = optimizer, plateau, warmup
        self.base = [group["lr"] for group in optimizer.param_groups]
        self.steps = 0
        self._apply()

    def _apply(self) -> None:
        if self.steps < self.warmup:
            for group, base in zip(self.optimizer.param_groups, self.base, strict=True):
                group["lr"] = base * (self.steps + 1) / self.warmup

    def step(self) -> None:
        """One batch: advance the warm-up."""
        self.steps += 1
        self._apply()

    def epoch_step(self, metric: float) -> None:
        """One epoch: past the warm-up, let the plateau rule see the validation loss."""
        if self.steps >= self.warmup:
            self.plateau.step(metric)

    def state_dict(self) -> dict[str, Any]:
        """Steps taken, base rates and the plateau rule's state."""
        return {"steps": self.steps, "base": self.base, "plateau": self.plateau.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.steps, self.base = int(state["steps"]), list(state["base"])
        self.plateau.load_state_dict(state["plateau"])


def step_epoch_schedule(scheduler: Any, mode: str, val_loss: float) -> None:
    """Step ``scheduler`` at an epoch's end when its ``mode`` says so (plateau rules)."""
    if mode == "epoch":
        scheduler.step(val_loss)
    elif mode == "step+epoch":
        scheduler.epoch_step(val_loss)
