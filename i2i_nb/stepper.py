"""One optimisation step (:class:`Stepper`: autocast, loss, backward, gradient
accumulation and clipping, optimiser, schedule) and the choice between the plain step and
a GAN's (:func:`make_stepper`)."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from i2i_nb.compute import autocast
from i2i_nb.config import TrainConfig
from i2i_nb.distributed import SINGLE, World
from i2i_nb.optim import build_optimizer, build_scheduler, step_epoch_schedule


class Stepper:
    """One optimisation step: forward under autocast, loss, backward, optimiser, schedule.

    ``net`` may be the DistributedDataParallel wrapper of ``model``; the optimiser
    holds ``model``'s parameters.
    """

    def __init__(self, model: nn.Module, cfg: TrainConfig, loss_fn: nn.Module,
                 steps_per_epoch: int, device: torch.device, net: nn.Module | None = None
                 ) -> None:
        self.net = model if net is None else net
        self.device, self.amp = device, cfg.amp
        self.loss_fn = loss_fn
        self.optimizer = build_optimizer(model, cfg)
        self.accumulate = max(1, cfg.accum_iter)
        self.clip_norm = cfg.gradient_clip_norm
        self.scheduler, self.step_mode = build_scheduler(
            self.optimizer, cfg, math.ceil(steps_per_epoch / self.accumulate))
        self.batches = 0
        use_scaler = cfg.amp and device.type == "cuda" and not torch.cuda.is_bf16_supported()
        self.scaler = torch.amp.GradScaler("cuda", enabled=use_scaler)

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Train on one batch already on the device; returns the detached loss."""
        with autocast(self.device, self.amp):
            pred = self.net(x)
        loss = self.loss_fn(pred.float(), y)
        self.scaler.scale(loss / self.accumulate).backward()
        self.batches += 1
        if self.batches % self.accumulate == 0:
            if self.clip_norm > 0:
                self.scaler.unscale_(self.optimizer)
                torch.nn.utils.clip_grad_norm_(
                    [p for g in self.optimizer.param_groups for p in g["params"]],
                    self.clip_norm)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.optimizer.zero_grad(set_to_none=True)
            if self.step_mode.startswith("step"):
                self.scheduler.step()
        return loss.detach()

    def schedule_epoch(self, val_loss: float) -> None:
        """The schedule's step at the end of an epoch (plateau rules)."""
        step_epoch_schedule(self.scheduler, self.step_mode, val_loss)

    def epoch_record(self) -> dict[str, float]:
        """Extra columns of the epoch's record (none here; a GAN's discriminator loss)."""
        return {}

    def networks_state(self) -> dict[str, Any]:
        """Extra networks' weights for every checkpoint (none here; a GAN's discriminator)."""
        return {}

    def training_state(self) -> dict[str, Any]:
        """Extra optimiser state for the last checkpoint (none here)."""
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`networks_state` and :meth:`training_state` saved."""


def make_stepper(model: nn.Module, cfg: TrainConfig, loss_fn: nn.Module, steps_per_epoch: int,
                 device: torch.device, net: nn.Module, world: World = SINGLE) -> Stepper:
    """The step of ``loss_fn``: a GAN's (:class:`i2i_nb.gan.GanStepper`, when the loss holds
    a discriminator) or the plain one."""
    if getattr(loss_fn, "discriminator", None) is None:
        return Stepper(model, cfg, loss_fn, steps_per_epoch, device, net)
    from i2i_nb.gan import GanStepper  # noqa: PLC0415 - gan.py builds on this module

    return GanStepper(model, cfg, loss_fn, steps_per_epoch, device, net, world)
