"""The training phase of a run: check and load the training data, build (or start
from) the network, fit it, chart the history and check the best checkpoint."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from i2i_nb import __version__
from i2i_nb.activations import with_activations
from i2i_nb.baselines import QualityCheck
from i2i_nb.charts import plot_history
from i2i_nb.checkpoint import load_checkpoint
from i2i_nb.config import Config
from i2i_nb.data.augment import Augment
from i2i_nb.data.normalize import DatasetScaler
from i2i_nb.data.prepare import filter_images, load_split, place_filter
from i2i_nb.data.preprocess import Preprocessor
from i2i_nb.data.regions import region_split_chosen, split_regions
from i2i_nb.data.sources import split_axes
from i2i_nb.data.split import validation_split
from i2i_nb.data.statistics import input_spec, target_scaler
from i2i_nb.distributed import SINGLE, World
from i2i_nb.errors import ConfigError, DataError
from i2i_nb.finetune import StartingPoint, freeze_matching, starting_point
from i2i_nb.gan import training_loss
from i2i_nb.guard import check_best
from i2i_nb.model_plot import plot_model
from i2i_nb.model_spec import down_keys, model_spec
from i2i_nb.models import ModelSpec, build_model
from i2i_nb.patch_sets import normalised, patch_sets, refuse_small, save_aug_samples
from i2i_nb.preflight import CheckedRun, RunPaths, check_run
from i2i_nb.train import TrainData, TrainOutputs, fit
from i2i_nb.train_previews import TrainPreviews, with_previews


def train_phase(cfg: Config, paths: RunPaths, device: torch.device, resume: bool,
                on_epoch: Callable[[dict[str, float]], None] | None,
                stop_requested: Callable[[], bool] | None, world: World = SINGLE,
                source: dict[str, Any] | None = None, checked: CheckedRun | None = None
                ) -> tuple[list[dict[str, float]], QualityCheck | None]:
    """Check and load the training data, build the model and fit it; then measure the best
    checkpoint and both baselines on the validation patches (None without validation).

    With ``source`` (a zoo package's payload, ``MODEL.SOURCE: bmz``) training fine-tunes
    the package's network, weights and normalisation."""
    d = cfg.data
    checked = checked or check_run(cfg, paths, resume, source)
    train_pairs, val_pairs = checked.train_pairs, checked.val_pairs
    pairs = train_pairs  # all of them when validating on regions
    by_region = d.val.from_train and region_split_chosen(d.val)
    axes_train = split_axes(cfg, d.train)
    axes_val = split_axes(cfg, d.train if d.val.from_train else d.val)
    prep = Preprocessor(d.preprocess, cfg.ndim)
    shown = paths.sub("filtering_information") if d.save_filtered_images and world.is_main \
        and not resume else None
    loaded, train_pairs = load_split(cfg, train_pairs, axes_train, "train", prep, shown)
    val_loaded, val_pairs = load_split(cfg, val_pairs, axes_val, "val", prep, shown)
    split = split_regions(loaded, d.val.split_train, cfg.patch_shape) if by_region else None
    val_note = f"{len(val_loaded)} image(s)"
    if split is not None:
        (loaded, val_loaded), val_note = split, (
            f"the last {d.val.split_train:.0%} (at least a patch) of every image along its "
            "longest axis (DATA.VAL.SPLIT_BY)")
        val_loaded = filter_images(cfg, val_loaded, [], "val", shown)[0]
    elif by_region:  # an image too short for a region: whole images after all
        train_pairs, val_pairs = validation_split(pairs, d.val, cfg.system.seed)
        loaded, train_pairs = load_split(cfg, train_pairs, axes_train, "train", prep, shown)
        val_loaded, val_pairs = load_split(cfg, val_pairs, axes_val, "val", prep, shown)
        val_note = f"{len(val_loaded)} image(s)"
    # pre-processed, rescaled or repeated into RGB: held whole
    in_memory = (d.train.in_memory or prep.applies("train") or d.force_rgb
                 or d.resolution_norm.enable)
    place_filters = (place_filter(cfg, loaded, "train", train_pairs, shown),
                     place_filter(cfg, val_loaded, "val", val_pairs, shown))
    target_dtype, input_dtype = str(loaded[0][1].dtype), str(loaded[0][0].dtype)
    start = None
    if source is not None and not resume:
        start = StartingPoint(Path(cfg.model.bmz.source_model_id), source,
                              frozenset({"weights", "norm", "model_arch"}))
        expected = (source["meta"]["in_channels"], source["meta"]["out_channels"])
        found = (loaded[0][0].shape[-1], loaded[0][1].shape[-1])
        if found != expected:
            raise DataError(f"{d.train.path}: the data has {found[0]} -> {found[1]} channel(s); "
                            f"the package {start.path} takes {expected[0]} -> {expected[1]}")
    elif cfg.model.load_checkpoint and not resume:
        start = starting_point(cfg.paths.checkpoint_file, paths.checkpoint(
            "last" if cfg.model.load_checkpoint_epoch == "last_on_train" else "best"),
            cfg.model.items_to_load_from_checkpoint)
    if start is not None and "norm" in start.items:
        spec = start.meta["input_normalization"]
        scaler = DatasetScaler.from_dict(start.meta["target_scaler"])
    else:
        spec = input_spec([x for x, _ in loaded], d.normalization)
        scaler = target_scaler([y for _, y in loaded], d.normalization)
    train_data, train_transforms = normalised(loaded, spec, scaler, in_memory)
    loaded = []  # the patch filters (if any) hold the images they measure
    val_data, val_transforms = normalised(val_loaded, spec, scaler, in_memory)
    if not d.reflect_to_complete_shape:
        refuse_small(train_pairs + val_pairs, train_data + val_data, cfg.patch_shape)
    in_ch, out_ch = train_data[0][0].shape[-1], train_data[0][1].shape[-1]
    if len(d.patch_size) == cfg.ndim + 1 and d.patch_size[-1] != in_ch:
        print(f"note: DATA.PATCH_SIZE gives {d.patch_size[-1]} channel(s); the data has {in_ch}")
    given = cfg.problem.image_to_image.output_channels
    if given and given != out_ch:
        print(f"note: PROBLEM.IMAGE_TO_IMAGE.OUTPUT_CHANNELS is {given}; the targets have "
              f"{out_ch} channel(s), which the model predicts")

    torch.manual_seed(cfg.system.seed)
    architecture = cfg.model.architecture.lower()
    net_spec = model_spec(cfg, in_ch, out_ch)
    if start is not None and "model_arch" in start.items:
        architecture = start.meta["architecture"]
        net_spec = ModelSpec.from_meta(architecture, cfg.ndim, in_ch, out_ch,
                                       start.meta["model_kwargs"])
    activations = list(cfg.problem.image_to_image.output_channel_act)
    try:
        model = with_activations(build_model(net_spec), activations, out_ch)
    except ValueError as err:
        raise ConfigError(f"MODEL.ARCHITECTURE {architecture!r}: {err}") from err
    if start is not None and "weights" in start.items:
        start.load_weights(model, cfg.model.skip_unmatched_layers)
    freeze_matching(model, cfg.model.freeze_layers_matching)
    patch = cfg.patch_shape
    fixed = getattr(model, "fixed_shape", None)
    if fixed is not None and tuple(fixed) != tuple(patch):
        raise ConfigError(f"DATA.PATCH_SIZE: {patch} is not the input size {tuple(fixed)} of "
                          f"the {architecture} network of the starting checkpoint; set it to "
                          f"{tuple(fixed)}")
    if any(p % q for p, q in zip(patch, model.divisor, strict=True)):
        backbone = net_spec.nafnet_generator_backbone
        raise ConfigError(f"DATA.PATCH_SIZE: {patch} must be a multiple of {model.divisor} per "
                          f"axis for this model ({down_keys(architecture, backbone)} set "
                          "the down-sampling)")
    aug = cfg.augmentor
    if aug.enable and aug.grayscale and in_ch != 3:
        raise ConfigError(f"AUGMENTOR.GRAYSCALE: needs 3-channel (RGB) inputs; the training "
                          f"inputs have {in_ch}")
    augment = Augment(aug, tuple(d.train.resolution)) if aug.enable else None
    train_set, val_set = patch_sets(cfg, train_data, train_transforms, val_data,
                                    val_transforms, augment, place_filters)
    del place_filters
    per_epoch = len(train_set)
    if not resume and world.is_main:
        if aug.aug_samples:
            save_aug_samples(train_set, paths.sub("aug"), cfg.ndim, aug.aug_num_samples,
                             aug.draw_grid)

    meta = {
        "architecture": architecture, "ndim": cfg.ndim, "output_activations": activations,
        "in_channels": int(in_ch), "out_channels": int(out_ch),
        "model_kwargs": net_spec.kwargs(),
        "input_normalization": spec, "target_scaler": scaler.to_dict(),
        "patch_size": list(patch), "target_dtype": target_dtype, "input_dtype": input_dtype,
        "optimizer": cfg.train.optimizer.lower(),
        "lr_scheduler": cfg.train.lr_scheduler.name.lower(),
        "i2i_nb_version": __version__,
    }
    print(f"Training {meta['architecture']} ({cfg.problem.ndim}, {in_ch} -> {out_ch} channels) "
          f"on {len(train_data)} image(s), validating on {val_note}; "
          f"{per_epoch} patches of {patch} per epoch, device {device}"
          + ("" if in_memory else "; images read from disk by patch (DATA.TRAIN.IN_MEMORY)"))
    if d.train.foreground_sampling > 0 and d.train.extract_random_patch:
        print(f"Foreground covers {train_set.foreground_share:.0%} of the training area; "
              f"{d.train.foreground_sampling:.0%} of patches are drawn to hold some "
              "(DATA.TRAIN.FOREGROUND_SAMPLING)")
    outputs = TrainOutputs(paths.checkpoint("best"), paths.checkpoint("last"),
                           paths.sub("train_logs") / f"{paths.prefix}_log.csv",
                           paths.sub("tensorboard"), max(0, cfg.model.save_ckpt_freq))
    model.to(device)
    previews = None
    if cfg.train.save_train_preds_freq > 0 and world.is_main:
        previews = TrainPreviews(model, val_set or train_set, paths.sub("train_pred_samples"),
                                 cfg.ndim, cfg.train.save_train_preds_freq,
                                 cfg.train.save_train_preds_num_samples, cfg.train.epochs,
                                 device, cfg.train.save_train_preds_show)
    cpus = len(os.sched_getaffinity(0))
    workers = cpus if cfg.system.num_workers < 0 else min(cfg.system.num_workers, cpus)
    data = TrainData(train_set, val_set, workers, cfg.system.pin_mem)

    def draw_model() -> None:  # after training: matplotlib stays off the way to the first step
        chart = paths.sub("charts") / f"model_plot_{paths.prefix}.png"
        if world.is_main and not chart.exists():  # a killed run's: drawn when it resumes
            plot_model(model, in_ch, patch, chart,
                       f"{architecture} ({cfg.problem.ndim}, {in_ch} -> {out_ch} channels)")

    loss = training_loss(cfg.loss, cfg.ndim, net_spec)
    if start is not None:
        start.load_discriminator(getattr(loss, "discriminator", None))
    try:
        history = fit(model, data, cfg.train, loss, outputs, meta, device, resume,
                      with_previews(on_epoch, previews), stop_requested, world,
                      start.initial_state() if start is not None else None)
    except BaseException:
        with contextlib.suppress(OSError, ConfigError):  # the first error is the one to tell
            _chart(outputs, paths, world)
            draw_model()
        raise
    draw_model()
    history = _chart(outputs, paths, world) or history
    return history, check_best(model, val_set, scaler, outputs.best, cfg.train, device, world)


def _chart(outputs: TrainOutputs, paths: RunPaths, world: World) -> list[dict[str, float]]:
    """The history of the last checkpoint, drawn into ``charts/`` (rank 0)."""
    if not (world.is_main and outputs.last.exists()):
        return []
    history = load_checkpoint(outputs.last)["history"]
    plot_history(history, paths.sub("charts"), paths.prefix)
    return history
