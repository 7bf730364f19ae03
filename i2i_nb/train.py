"""The fit loop: epochs, validation, early stopping, checkpoints, logs (the optimisation
step is :mod:`i2i_nb.stepper`; optimiser and schedule, :mod:`i2i_nb.optim`).

Each epoch writes the last checkpoint (model, optimiser, scheduler, epoch, history,
RNG state; a GAN's discriminator and its optimiser too, see :mod:`i2i_nb.gan`) and, when
validation improved, the best one; both are written
atomically, so an interrupted run leaves readable files and ``resume`` continues
from the last epoch that finished.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm.std import tqdm  # text, not a notebook widget: a closed one goes stale on reload

from i2i_nb.checkpoint import load_checkpoint, save_checkpoint
from i2i_nb.compute import autocast, cpu_layout
from i2i_nb.config import TrainConfig
from i2i_nb.cpu import flush_denormals, worker_init
from i2i_nb.distributed import SINGLE, World, any_rank, reduce_extremes, reduce_sums
from i2i_nb.errors import ConfigError
from i2i_nb.files import write_text
from i2i_nb.metrics import Moments, ssim
from i2i_nb.stepper import make_stepper
from i2i_nb.tensorboard_images import TAG, triplets

LOG_FIELDS = ("epoch", "loss", "val_loss", "val_psnr", "lr", "seconds")  # the default TRAIN.METRICS


def log_fields(metrics: Sequence[str]) -> tuple[str, ...]:
    """Columns of the train log: epoch, losses, ``val_<metric>`` per ``TRAIN.METRICS``, lr, time."""
    return ("epoch", "loss", "val_loss", *(f"val_{m}" for m in metrics), "lr", "seconds")


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class TrainOutputs:
    """Where the fit loop writes: checkpoints, the per-epoch CSV and TensorBoard."""

    best: Path
    last: Path
    log_csv: Path
    tensorboard: Path | None = None
    every: int = 0  # MODEL.SAVE_CKPT_FREQ: also keep the checkpoint of every N-th epoch

    def periodic(self, epoch: int) -> Path:
        """``...-checkpoint-<epoch>.pth`` (or ``.safetensors``) beside the last checkpoint."""
        return self.last.with_name(f"{self.last.stem.removesuffix('-last')}-{epoch}"
                                   f"{self.last.suffix}")


@dataclass
class TrainData:
    """Training and validation patch datasets (validation may be None)."""

    train: Dataset
    val: Dataset | None
    num_workers: int = 0
    pin_memory: bool = False


def evaluate(
    model: nn.Module, loader: DataLoader, loss_fn: nn.Module, device: torch.device, amp: bool,
    world: World = SINGLE, metrics: Sequence[str] = ("psnr",),
) -> tuple[float, dict[str, float]]:
    """Mean loss and every metric of :data:`~i2i_nb.metrics.METRICS` over the validation
    patches (SSIM only when in ``metrics``, else NaN).

    In normalised target units, all patches pooled: PSNR and SI-PSNR use the range
    ``max - min`` of the validation targets; SSIM is the mean over patches, each with its
    own target's range. With several processes each rank scores its share and the sums
    are reduced.
    """
    model.eval()
    loss_sum = items = ssim_sum = ssim_count = 0.0
    moments = Moments(0.0, 0.0)
    with torch.inference_mode():
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with autocast(device, amp):
                pred = model(x)
            pred = pred.float()
            loss_sum += loss_fn(pred, y).item() * len(x)
            items += len(x)
            p, g = pred.cpu().numpy(), y.float().cpu().numpy()
            moments.add(p, g)
            if "ssim" in metrics and min(g.shape[2:]) >= 3:
                for pi, gi in zip(p, g, strict=True):
                    spread = float(gi.max() - gi.min())
                    ssim_sum += ssim(np.moveaxis(pi, 0, -1), np.moveaxis(gi, 0, -1), gi.ndim - 1,
                                     spread if spread > 0 else 1.0)
                    ssim_count += 1
    sums = reduce_sums([loss_sum, items, ssim_sum, ssim_count, *moments.to_list()], world,
                       device)
    loss_sum, items, ssim_sum, ssim_count = sums[:4]
    moments.sums = np.asarray(sums[4:])
    moments.low, moments.high = reduce_extremes(moments.low, moments.high, world, device)
    spread = moments.high - moments.low
    values = moments.values(spread if spread > 0 else 1.0)
    values["ssim"] = ssim_sum / ssim_count if ssim_count else math.nan
    return loss_sum / max(items, 1), values


def _shard(dataset: Dataset, world: World) -> Dataset:
    """Every ``size``-th item from ``rank``: the ranks' batches of one step together are
    exactly the single-process batch (items are seeded by index, not by rank)."""
    return Subset(dataset, range(world.rank, len(dataset), world.size)) if world.enabled \
        else dataset


def make_loader(dataset: Dataset, batch_size: int, device: torch.device, num_workers: int = 0,
                pin_memory: bool = True, world: World = SINGLE) -> DataLoader:
    """Batches of one rank's share of ``dataset`` (workers are not persistent, so each
    epoch's workers see ``set_epoch``, and flush subnormals); pinned memory on CUDA."""
    return DataLoader(_shard(dataset, world), batch_size=batch_size, shuffle=False,
                      drop_last=True, num_workers=num_workers,
                      pin_memory=pin_memory and device.type == "cuda",
                      worker_init_fn=worker_init if num_workers else None)


def write_log(history: list[dict[str, float]], path: Path) -> None:
    """Rewrite the per-epoch CSV from the history (so a resumed run stays consistent),
    atomically."""
    fields = list(dict.fromkeys(key for record in history for key in record)) or LOG_FIELDS
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=fields, restval="")
    writer.writeheader()
    writer.writerows(history)
    write_text(path, text.getvalue())


def fit(
    model: nn.Module,
    data: TrainData,
    cfg: TrainConfig,
    loss_fn: nn.Module,
    outputs: TrainOutputs,
    meta: dict[str, Any],
    device: torch.device,
    resume: bool = False,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
    stop_requested: Callable[[], bool] | None = None,
    world: World = SINGLE,
    initial: dict[str, Any] | None = None,
) -> list[dict[str, float]]:
    """Train ``model`` and return the per-epoch history.

    Parameters
    ----------
    model : the network, already on ``device``.
    data : training patches and optional validation patches (without them the
        training loss decides the best checkpoint and early stopping).
    cfg : the ``TRAIN`` section.
    loss_fn : the training loss (``LOSS``), ``loss(pred, target)``.
    outputs : checkpoint, log and TensorBoard paths.
    meta : plain metadata stored in every checkpoint (what inference needs).
    device : where to train.
    resume : continue from ``outputs.last`` with its optimiser, schedule and RNG state.
    on_epoch : called with each epoch's record (live plots).
    stop_requested : polled after each epoch; True ends training cleanly.
    world : with several processes (torchrun) the global ``TRAIN.BATCH_SIZE`` is split
        across ranks, gradients are averaged by DistributedDataParallel, and only
        rank 0 writes files.
    initial : when starting from another checkpoint (not resuming): its ``optimizer`` state
        and/or the ``epoch`` to continue from.

    On the CPU the weights (a GAN discriminator's too) are channels-last while training
    (:func:`i2i_nb.compute.cpu_layout`).
    """
    if cfg.batch_size % world.size:
        raise ConfigError(f"TRAIN.BATCH_SIZE: {cfg.batch_size} cannot be split evenly across "
                          f"{world.size} processes")
    batch = cfg.batch_size // world.size
    flush_denormals()  # in every intra-op thread: a drifting network slows no epoch down
    loader = make_loader(data.train, batch, device, data.num_workers, data.pin_memory, world)
    if len(loader) == 0:
        raise ConfigError(
            f"TRAIN.BATCH_SIZE: {cfg.batch_size} is larger than the {len(data.train)} "
            "patches of an epoch; lower it or raise TRAIN.PATCHES_PER_EPOCH"
        )
    val_loader = None
    if data.val is not None:
        val_loader = DataLoader(_shard(data.val, world), batch_size=batch, shuffle=False)
    writer = None  # TensorBoard's: opened after the first epoch, off the first step's path
    layouts = contextlib.ExitStack()  # channels-last weights on the CPU while training
    try:
        for network in (model, getattr(loss_fn, "discriminator", None)):  # a GAN's too
            if network is not None:
                layouts.enter_context(cpu_layout(network, device, getattr(model, "ndim", 0)))
        net = model
        if world.enabled:
            ids = [device.index] if device.type == "cuda" else None
            net = DistributedDataParallel(model, device_ids=ids, broadcast_buffers=False)
        if cfg.compile:
            net = torch.compile(net)
        step = make_stepper(model, cfg, loss_fn, len(loader), device, net, world)
        optimizer, scheduler, scaler = step.optimizer, step.scheduler, step.scaler

        history: list[dict[str, float]] = []
        best, bad_epochs, start = math.inf, 0, 0
        if resume:
            state = load_checkpoint(outputs.last)
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            if scheduler is not None:
                scheduler.load_state_dict(state["scheduler"])
            scaler.load_state_dict(state["scaler"])
            step.load_state(state)
            torch.set_rng_state(state["rng"])
            history, best, bad_epochs = list(state["history"]), state["best"], state["bad_epochs"]
            start = state["epoch"] + 1
            if world.is_main:  # a run killed after its last checkpoint, before its log line
                write_log(history, outputs.log_csv)
        elif initial:
            if "optimizer" in initial:
                optimizer.load_state_dict(initial["optimizer"])
            step.load_state(initial)
            start = min(int(initial.get("epoch", 0)), cfg.epochs)

        for epoch in range(start, cfg.epochs):
            if bad_epochs >= cfg.patience > 0:  # -1: never stop early
                break
            data.train.set_epoch(epoch)
            net.train()
            began = time.perf_counter()
            total = torch.zeros((), device=device)
            bar = tqdm(loader, desc=f"Epoch {epoch + 1}/{cfg.epochs}", leave=False)
            for x, y in bar:
                total += step(x.to(device, non_blocking=True), y.to(device, non_blocking=True))
            train_loss = reduce_sums([total.item()], world, device)[0] / (len(loader) * world.size)
            if not math.isfinite(train_loss):
                raise TrainingDivergedError(
                    f"the training loss became {train_loss} in epoch {epoch + 1}; the last good "
                    f"checkpoint is kept at {outputs.last}. Lower TRAIN.LR or check the data."
                )
            val_loss, values = train_loss, {}
            if val_loader is not None:
                val_loss, values = evaluate(model, val_loader, step.loss_fn, device, cfg.amp,
                                            world, cfg.metrics)
            scores = {m: values.get(m, math.nan) for m in cfg.metrics}
            val_psnr = values.get("psnr", math.nan)
            step.schedule_epoch(val_loss)
            extra = step.epoch_record()
            record = {
                "epoch": epoch + 1, "loss": train_loss, **extra, "val_loss": val_loss,
                **{f"val_{m}": v for m, v in scores.items()},
                "lr": optimizer.param_groups[0]["lr"],
                "seconds": time.perf_counter() - began,
            }
            history.append(record)
            score = val_loss
            if cfg.checkpoint_monitor.lower() == "val_psnr" and math.isfinite(val_psnr):
                score = -val_psnr
            bad_epochs = 0 if score < best else bad_epochs + 1
            state = {"model": model.state_dict(), **step.networks_state(), "meta": meta,
                     "epoch": epoch, "val_loss": val_loss, "history": history}
            improved, best = score < best, min(best, score)
            if world.is_main:
                if improved:
                    save_checkpoint(outputs.best, state)
                if outputs.every > 0 and (epoch + 1) % outputs.every == 0:
                    save_checkpoint(outputs.periodic(epoch + 1), state)
                save_checkpoint(outputs.last, {
                    **state, "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict() if scheduler is not None else {},
                    "scaler": scaler.state_dict(), "rng": torch.get_rng_state(),
                    "best": best, "bad_epochs": bad_epochs, **step.training_state(),
                })
                write_log(history, outputs.log_csv)
                if writer is None and outputs.tensorboard is not None:
                    from torch.utils.tensorboard import SummaryWriter

                    writer = SummaryWriter(str(outputs.tensorboard))
                if writer is not None:
                    for key in (*log_fields(cfg.metrics)[1:], *extra):
                        writer.add_scalar(key, record[key], epoch + 1)
                    writer.add_image(TAG, triplets(model, data.val or data.train, device),
                                     epoch + 1)
                    writer.flush()
                if on_epoch is not None:
                    on_epoch(record)
            stop = stop_requested is not None and world.is_main and stop_requested()
            if any_rank(stop, world, device):
                break
    finally:
        if writer is not None:
            writer.close()
        layouts.close()
    return history
