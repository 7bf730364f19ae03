"""BiaPy's GAN training of ``nafnet``: the generator and its discriminator, two optimisers.

Each batch, as BiaPy 3.7.1's ``forward_loss`` and training loop: the prediction, clamped to
[0, 1] with a straight-through gradient, is the fake image; the generator's loss is the
reconstruction loss (the non-adversarial ``LOSS.TYPE`` terms) plus the adversarial term's
weight times its adversarial loss on ``D(fake)`` (the discriminator frozen; with
``LOSS.GAN.ADAPTIVE_GAN_WEIGHT`` the weight is scaled by VQGAN's adaptive weight); the
discriminator's loss is its adversarial loss on ``D(target)`` and ``D(fake)`` (detached),
plus the R1 penalty when ``LOSS.GAN.R1_GAMMA`` > 0. The generator's optimiser steps on its
loss, then the discriminator's on its own (``TRAIN.DISCRIMINATOR``, the second entry of
BiaPy's ``TRAIN.OPTIMIZER``/``TRAIN.LR`` lists), both on ``TRAIN.LR_SCHEDULER``.

The validation loss is the generator's loss with the discriminator in evaluation mode
and the fixed adversarial weight. Checkpoints hold the discriminator's weights (and, the
last one, its optimiser and schedule) beside the generator's; prediction uses only the
generator.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from i2i_nb.compute import autocast
from i2i_nb.config import LossConfig, TrainConfig
from i2i_nb.config.train import ADVERSARIAL, GanLossConfig
from i2i_nb.distributed import SINGLE, World, reduce_sums
from i2i_nb.errors import ConfigError
from i2i_nb.losses import (
    adaptive_weight,
    adversarial_discriminator_loss,
    adversarial_generator_loss,
    build_loss,
    r1_penalty,
    split_adversarial,
)
from i2i_nb.models import ModelSpec
from i2i_nb.models.patchgan import build_discriminator
from i2i_nb.optim import build_optimizer, build_scheduler, step_epoch_schedule
from i2i_nb.stepper import Stepper


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """``module``'s parameters take no gradient inside the block (inputs still do)."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def fake_image(pred: torch.Tensor) -> torch.Tensor:
    """The prediction clamped to [0, 1], the gradient passed straight through (BiaPy)."""
    return pred + (pred.clamp(0.0, 1.0) - pred).detach()


class GanLoss(nn.Module):
    """The generator's and the discriminator's losses; calling it gives the validation loss.

    Parameters
    ----------
    reconstruction : the weighted non-adversarial terms, or None (adversarial only).
    discriminator : the discriminator network.
    kind : ``bce`` or ``hinge``.
    weight : the adversarial term's ``LOSS.WEIGHTS`` entry.
    options : ``LOSS.GAN``.
    """

    def __init__(self, reconstruction: nn.Module | None, discriminator: nn.Module, kind: str,
                 weight: float, options: GanLossConfig | None = None) -> None:
        super().__init__()
        options = options or GanLossConfig()
        self.reconstruction = reconstruction
        self.discriminator = discriminator
        self.kind, self.weight = kind, float(weight)
        self.r1_gamma, self.adaptive = options.r1_gamma, options.adaptive_gan_weight

    def generator_loss(self, fake: torch.Tensor, target: torch.Tensor,
                       last_layer: torch.Tensor | None = None) -> torch.Tensor:
        """Reconstruction plus weighted adversarial loss (``last_layer``: adaptive weight)."""
        fake_ = torch.nan_to_num(fake, nan=0.0, posinf=1.0, neginf=-1.0)
        target = torch.nan_to_num(target, nan=0.0, posinf=1.0, neginf=-1.0)
        rec = self.reconstruction(fake_, target) if self.reconstruction is not None \
            else fake.new_zeros(())
        if self.weight <= 0:
            return rec
        with frozen(self.discriminator):
            d_fake = self.discriminator(fake)
        adv = adversarial_generator_loss(self.kind, d_fake.float())
        weight: float | torch.Tensor = self.weight
        if self.adaptive and last_layer is not None and rec.requires_grad:
            weight = adaptive_weight(rec, adv, last_layer) * self.weight
        return rec + weight * adv

    def discriminator_loss(self, fake: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The discriminator's loss on targets (real) and detached predictions (fake)."""
        real = target.detach().requires_grad_(self.r1_gamma > 0)
        d_real = self.discriminator(real)
        d_fake = self.discriminator(fake.detach())
        loss = adversarial_discriminator_loss(self.kind, d_real.float(), d_fake.float())
        if self.r1_gamma > 0:
            loss = loss + r1_penalty(d_real, real, self.r1_gamma)
        return loss

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The generator's loss with the discriminator in evaluation mode (validation)."""
        was = self.discriminator.training
        self.discriminator.eval()
        try:
            return self.generator_loss(fake_image(pred), target)
        finally:
            self.discriminator.train(was)


def build_gan_loss(spec: LossConfig, ndim: int, discriminator: nn.Module) -> GanLoss:
    """The :class:`GanLoss` of a ``LOSS`` section holding ``BCE`` or ``HINGE``."""
    reconstruction, kind, weight = split_adversarial(spec)
    rec = build_loss(reconstruction, ndim) if reconstruction is not None else None
    return GanLoss(rec, discriminator, kind, weight, spec.gan)


def training_loss(loss: LossConfig, ndim: int, spec: ModelSpec) -> nn.Module:
    """The training loss of the network ``spec``: a :class:`GanLoss` with its discriminator
    for a GAN generator (nafnet), else the plain ``LOSS``."""
    discriminator = build_discriminator(spec)
    if discriminator is None:
        return build_loss(loss, ndim)
    if not any(name.lower() in ADVERSARIAL for name in loss.type):
        raise ConfigError(f"LOSS.TYPE: the network {spec.architecture!r} trains as a GAN "
                          f"with a discriminator; include 'BCE' or 'HINGE', got {loss.type}")
    return build_gan_loss(loss, ndim, discriminator)


def discriminator_config(cfg: TrainConfig) -> TrainConfig:
    """``TRAIN`` with the discriminator's optimiser, learning rate, betas and minimum rate."""
    d = cfg.discriminator
    sched = dataclasses.replace(cfg.lr_scheduler, min_lr=cfg.lr_scheduler.min_lr
                                if d.min_lr == -1 else d.min_lr)
    return dataclasses.replace(cfg, optimizer=d.optimizer or cfg.optimizer, lr=d.lr or cfg.lr,
                               opt_betas=list(d.opt_betas or cfg.opt_betas), lr_scheduler=sched)


def _last_layer(model: nn.Module) -> torch.Tensor | None:
    net = getattr(model, "net", model)  # under OUTPUT_CHANNEL_ACT's wrapper
    return net.last_layer() if hasattr(net, "last_layer") else None


class GanStepper(Stepper):
    """One GAN step: the generator's update, then the discriminator's (module docstring).

    With several processes the generator's gradients are averaged by its
    DistributedDataParallel wrapper ``net``, the discriminator's by an all-reduce.
    """

    def __init__(self, model: nn.Module, cfg: TrainConfig, loss_fn: GanLoss,
                 steps_per_epoch: int, device: torch.device, net: nn.Module | None = None,
                 world: World = SINGLE) -> None:
        super().__init__(model, cfg, loss_fn, steps_per_epoch, device, net)
        self.gan, self.world = loss_fn, world
        self.discriminator = loss_fn.discriminator.to(device)
        self.last_layer = _last_layer(model) if loss_fn.adaptive else None
        d_cfg = discriminator_config(cfg)
        self.d_optimizer = build_optimizer(self.discriminator, d_cfg)
        self.d_scheduler, _ = build_scheduler(
            self.d_optimizer, d_cfg, math.ceil(steps_per_epoch / self.accumulate))
        self.d_total = torch.zeros((), device=device)
        self.d_batches = 0

    def _update(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, scheduler: Any,
                boundary: bool, reduce: bool) -> None:
        self.scaler.scale(loss / self.accumulate).backward()
        if not boundary:
            return
        params = [p for g in optimizer.param_groups for p in g["params"]]
        if reduce and self.world.enabled:
            for p in params:
                if p.grad is not None:
                    torch.distributed.all_reduce(p.grad)
                    p.grad /= self.world.size
        if self.clip_norm > 0:
            self.scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(params, self.clip_norm)
        self.scaler.step(optimizer)
        optimizer.zero_grad(set_to_none=True)
        if self.step_mode.startswith("step"):
            scheduler.step()

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Train both networks on one batch already on the device; the generator's loss."""
        self.batches += 1
        boundary = self.batches % self.accumulate == 0
        with autocast(self.device, self.amp):
            fake = fake_image(self.net(x).float())
            loss_g = self.gan.generator_loss(fake, y, self.last_layer)
            loss_d = self.gan.discriminator_loss(fake, y)
        self._update(loss_g, self.optimizer, self.scheduler, boundary, reduce=False)
        self._update(loss_d, self.d_optimizer, self.d_scheduler, boundary, reduce=True)
        if boundary:
            self.scaler.update()
        self.d_total += loss_d.detach()
        self.d_batches += 1
        return loss_g.detach()

    def schedule_epoch(self, val_loss: float) -> None:
        """Both networks' per-epoch schedule steps."""
        super().schedule_epoch(val_loss)
        step_epoch_schedule(self.d_scheduler, self.step_mode, val_loss)

    def epoch_record(self) -> dict[str, float]:
        """The discriminator's mean loss over the epoch (all processes); then reset."""
        total, count = reduce_sums([self.d_total.item(), float(self.d_batches)], self.world,
                                   self.device)
        self.d_total.zero_()
        self.d_batches = 0
        return {"loss_discriminator": total / max(count, 1.0)}

    def networks_state(self) -> dict[str, Any]:
        """The discriminator's weights, for every checkpoint."""
        return {"discriminator": self.discriminator.state_dict()}

    def training_state(self) -> dict[str, Any]:
        """The discriminator's optimiser and schedule, for the last checkpoint."""
        sched = self.d_scheduler
        return {"optimizer_d": self.d_optimizer.state_dict(),
                "scheduler_d": sched.state_dict() if sched is not None else {}}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`networks_state` and :meth:`training_state` saved (each part
        that ``state`` holds)."""
        if "discriminator" in state:
            self.discriminator.load_state_dict(state["discriminator"])
        if "optimizer_d" in state:
            self.d_optimizer.load_state_dict(state["optimizer_d"])
        if state.get("scheduler_d") and self.d_scheduler is not None:
            self.d_scheduler.load_state_dict(state["scheduler_d"])
