"""Section ``training``: steady-state steps/s of the real pipeline over a bare training step.

Pipeline: :class:`PatchDataset` (default foreground sampling, random crop + flips/rot90 from
in-memory normalised arrays or, for ``DATA.TRAIN.IN_MEMORY: False``, from memory-mapped
uint16 TIFFs normalised crop by crop), the DataLoader as ``train.fit`` builds it,
host-to-device copy, and the loop body of ``train.fit`` (default loss, optimiser, schedule,
GradScaler, AMP when on CUDA).
Baseline: forward + backward + AdamW step of the same model on a batch already on the device.
Ratio reported: pipeline steps/s / bare steps/s (= bare time / pipeline time).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from bench import augment as augment_bench
from bench.common import Row, Sizes, default_model, device, interleaved, random_image, synchronize
from i2i_nb.config import Config
from i2i_nb.data.augment import Augment
from i2i_nb.data.io import DiskImage, write_image
from i2i_nb.data.normalize import ChannelAffine
from i2i_nb.data.patches import PatchDataset
from i2i_nb.losses import build_loss
from i2i_nb.stepper import Stepper, autocast
from i2i_nb.train import make_loader


def _on_disk(pairs: list[tuple[np.ndarray, np.ndarray]], folder: Path, ndim: int
             ) -> tuple[list[tuple[DiskImage, DiskImage]], list[tuple[ChannelAffine, ...]]]:
    """The pairs written as uint16 TIFFs and opened as memory maps, with the affine maps
    that normalise their crops (as ``DATA.TRAIN.IN_MEMORY: False`` trains)."""
    opened, transforms = [], []
    for i, pair in enumerate(pairs):
        images = []
        for j, image in enumerate(pair):
            path = folder / f"{i}_{j}.tif"
            write_image(path, np.clip(image * 1000 + 20000, 0, 65535).astype(np.uint16), ndim)
            images.append(DiskImage(path, ndim))
        opened.append(tuple(images))
        affine = ChannelAffine(np.array([20000.0]), np.array([1000.0]))
        transforms.append((affine, affine))
    return opened, transforms


def _loader(ndim: int, sz: Sizes, cfg: Config, dev: torch.device, n_batches: int,
            folder: Path | None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Batches from PatchDataset through the DataLoader built as ``train.fit`` builds it,
    from images in memory, or on disk in ``folder``."""
    shape = (*sz.train_image[ndim], 1)
    pairs = [(random_image(shape, 2 * i), random_image(shape, 2 * i + 1)) for i in range(2)]
    transforms = None
    if folder is not None:
        pairs, transforms = _on_disk(pairs, folder, ndim)
    augment = Augment(cfg.augmentor)
    dataset = PatchDataset(pairs, sz.patch[ndim], n_batches * sz.batch[ndim], augment, 0,
                           transforms, cfg.data.train.foreground_sampling)
    return iter(make_loader(dataset, sz.batch[ndim], dev, cfg.system.num_workers,
                            cfg.system.pin_mem))


def _steps(ndim: int, sz: Sizes, dev: torch.device, amp: bool, channels_last: bool,
           folder: Path | None, compiled: bool = False, every_augmentation: bool = False
           ) -> tuple[Callable[[], None], Callable[[], None]]:
    """(pipeline, bare): each runs ``sz.steps`` training steps and waits for the device;
    the pipeline augments as by default, or with every augmentation on (probability 0.5;
    GRAYSCALE and CHANNEL_SHUFFLE, which need 3 channels, aside)."""
    cfg = Config()
    if every_augmentation:
        cfg.augmentor = augment_bench.only([k for k in augment_bench.KEYS if k not in (
            "GRAYSCALE", "CHANNEL_SHUFFLE")], 0.5)
    cfg.train.batch_size = sz.batch[ndim]
    fmt = (torch.channels_last if ndim == 2 else torch.channels_last_3d
           ) if channels_last else torch.contiguous_format
    model = default_model(ndim, sz.patch[ndim]).to(dev, memory_format=fmt).train()
    cfg.train.amp = amp
    loss_fn = build_loss(cfg.loss, ndim)
    step = Stepper(model, cfg.train, loss_fn, 1000, dev,
                   torch.compile(model) if compiled else None)  # as TRAIN.COMPILE
    batches = _loader(ndim, sz, cfg, dev, sz.steps * (2 * sz.rounds + 1), folder)
    total = torch.zeros((), device=dev)

    def pipeline() -> None:
        nonlocal total
        for _ in range(sz.steps):
            x, y = next(batches)
            x = x.to(dev, non_blocking=True, memory_format=fmt)
            total += step(x, y.to(dev, non_blocking=True))
        synchronize(dev)

    bare_opt = torch.optim.AdamW(model.parameters(), lr=cfg.train.lr)
    x = torch.randn(sz.batch[ndim], 1, *sz.patch[ndim], device=dev).to(memory_format=fmt)
    y = torch.randn(sz.batch[ndim], 1, *sz.patch[ndim], device=dev)

    def bare() -> None:
        for _ in range(sz.steps):
            with autocast(dev, amp):
                pred = model(x)
            loss = loss_fn(pred.float(), y)
            bare_opt.zero_grad(set_to_none=True)
            loss.backward()
            bare_opt.step()
        synchronize(dev)

    return pipeline, bare


def run(sz: Sizes) -> list[Row]:
    """Pipeline / bare steps/s in 2D and 3D (and AMP / channels-last variants on CUDA)."""
    dev = device()
    variants = [("fp32", False, False, False), ("fp32 images on disk", False, False, True),
                ("fp32 every augmentation", False, False, False)]
    if dev.type == "cuda":
        variants += [("AMP", True, False, False), ("AMP+channels-last", True, True, False),
                     ("AMP+compile", True, False, False)]
    rows = []
    for ndim in (2, 3):
        bare_fp32 = None
        for name, amp, channels_last, on_disk in variants:
            with tempfile.TemporaryDirectory() as tmp:
                pipeline, bare = _steps(ndim, sz, dev, amp, channels_last,
                                        Path(tmp) if on_disk else None, "compile" in name,
                                        "every" in name)
                r = interleaved(bare, pipeline, 2 * sz.rounds)  # bare time / pipeline time
            case = f"{ndim}D patch {sz.patch[ndim]} x{sz.batch[ndim]} {name} {dev.type}"
            rows.append(Row("training", case + ": pipeline/bare steps/s", str(r),
                            "" if "every" in name else ">= 0.9",
                            f"bare {sz.steps / r.candidate_s:.2f} steps/s"))
            if bare_fp32 is None:
                bare_fp32 = bare
            elif not on_disk and "every" not in name:
                speed = interleaved(bare_fp32, bare, 2 * sz.rounds)
                rows.append(Row("training", case + ": bare speed-up vs fp32", str(speed)))
    return rows
