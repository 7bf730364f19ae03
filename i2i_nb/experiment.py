"""A run: the results tree, data checks up front, train, then test.

Layout (as BiaPy)::

    <result_dir>/<name>/
      config_files/<config>.yaml
      checkpoints/<name>_<run_id>-checkpoint-{best,last}.pth (.safetensors: OUT_CHECKPOINT_FORMAT)
      results/<name>_<run_id>/{aug,charts,per_image,train_logs,tensorboard}/ (+ train_pred_samples,
        filtering_information when asked for)
      results/<name>_<run_id>/test_metrics.csv
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from i2i_nb import __version__
from i2i_nb.activations import with_activations
from i2i_nb.baselines import QualityCheck, check_on_test
from i2i_nb.blockwise import BlockSettings
from i2i_nb.bmz.runs import check_export, export_after_run, source_payload
from i2i_nb.charts import plot_history
from i2i_nb.checkpoint import load_checkpoint, model_from_checkpoint
from i2i_nb.config import Config, save_config, to_plain
from i2i_nb.cpu import busy_note, flush_denormals, set_threads
from i2i_nb.data.augment import Augment
from i2i_nb.data.grid import GridPatchDataset, grid_places
from i2i_nb.data.io import write_image
from i2i_nb.data.normalize import MAX_SAMPLES, DatasetScaler
from i2i_nb.data.pairs import Pair
from i2i_nb.data.patches import FixedPatchDataset, PatchDataset
from i2i_nb.data.prepare import (
    PlaceFilter,
    filter_images,
    filter_test_pairs,
    grid_of,
    load_split,
    place_filter,
)
from i2i_nb.data.preprocess import Preprocessor
from i2i_nb.data.regions import region_split_chosen, split_regions
from i2i_nb.data.sources import split_axes
from i2i_nb.data.split import validation_split
from i2i_nb.data.statistics import input_spec, target_scaler
from i2i_nb.distributed import SINGLE, World, barrier, gather
from i2i_nb.errors import ConfigError, DataError
from i2i_nb.finetune import StartingPoint, freeze_matching, starting_point
from i2i_nb.gan import training_loss
from i2i_nb.guard import check_best
from i2i_nb.inference import (
    input_transform,
    normalize_like,
    predict_pairs,
    tile_settings,
)
from i2i_nb.metrics_table import mean_row, write_metrics
from i2i_nb.model_plot import plot_model
from i2i_nb.model_spec import down_keys, model_spec
from i2i_nb.models import ModelSpec, build_model
from i2i_nb.preflight import (  # noqa: F401 - RunPaths, resolve_device re-exported
    CheckedRun,
    RunPaths,
    check_run,
    data_folders,
    load_test_checkpoint,
    resolve_device,
    test_checkpoint,
)
from i2i_nb.record import write_record
from i2i_nb.report import write_checks
from i2i_nb.runlock import run_lock
from i2i_nb.train import TrainData, TrainOutputs, fit
from i2i_nb.train_previews import TrainPreviews, with_previews


@dataclass
class RunResult:
    """What a run produced: training history, test rows and their mean."""

    paths: RunPaths
    history: list[dict[str, float]] = field(default_factory=list)
    test_rows: list[dict[str, Any]] = field(default_factory=list)
    checks: dict[str, QualityCheck] = field(default_factory=dict)  # "validation", "test"

    @property
    def test_mean(self) -> dict[str, Any]:
        """Mean of each test metric over images."""
        return mean_row(self.test_rows)


ZARR_METADATA = (".zarray", ".zgroup", ".zattrs", "zarr.json")


def _recorded(path: Path) -> bool:
    """A file of the run record: any file, but of a Zarr store only its metadata (a big
    volume's chunks would take each job of a cluster array minutes to checksum)."""
    if not path.is_file():
        return False
    return path.name in ZARR_METADATA or not any(p.suffix == ".zarr" for p in path.parents)


def _data_files(cfg: Config) -> list[Path]:
    """Every file under the data folders the run reads (or the single test file)."""
    files = []
    for folder in data_folders(cfg):
        files += [folder] if folder.is_file() else [p for p in folder.rglob("*") if _recorded(p)]
    return files


def _normalised(loaded: list[tuple[np.ndarray, np.ndarray]], spec: dict,
                scaler: DatasetScaler, in_memory: bool
                ) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[tuple[Any, Any]] | None]:
    """Pairs for the patch datasets: normalised in memory (no transforms), or left on disk
    with each pair's normalisation applied to every crop."""
    if in_memory:
        return [(normalize_like(x, spec), scaler.forward(y)) for x, y in loaded], None
    return loaded, [(input_transform(x, spec, MAX_SAMPLES), scaler.affine) for x, _ in loaded]


def _save_aug_samples(dataset: PatchDataset, folder: Path, ndim: int, count: int,
                      grid: bool) -> None:
    """BiaPy's AUG_SAMPLES: ``count`` training patches of the first epoch before
    (``orig_*``) and after (``aug_*``) augmentation, with DRAW_GRID lines drawn before
    augmenting when ``grid``, and the augmentations each received in ``applied.txt``."""
    dataset.set_epoch(0)
    lines = []
    for i in range(min(count, len(dataset))):
        s = dataset.sample(i, grid)
        for name, image in (("orig", s.x), ("aug", s.aug_x)):
            write_image(folder / f"{name}_{i:02d}_x.tif", image, ndim)
        for name, image in (("orig", s.y), ("aug", s.aug_y)):
            write_image(folder / f"{name}_{i:02d}_y.tif", image, ndim)
        lines.append(f"{i:02d}: {', '.join(s.applied) or '(none)'}")
    (folder / "applied.txt").write_text("\n".join(lines) + "\n")


def _refuse_small(pairs: list[Pair], data: list, patch: tuple[int, ...]) -> None:
    """``DATA.REFLECT_TO_COMPLETE_SHAPE: False``: images smaller than a patch are refused."""
    names = [str(p) for pair in pairs for p in pair.inputs]
    names = names if len(names) == len(data) else [f"training image {i + 1}"
                                                   for i in range(len(data))]
    small = [f"{name} {tuple(x.shape[:-1])}" for name, (x, _) in zip(names, data, strict=True)
             if any(s < p for s, p in zip(x.shape[:-1], patch, strict=True))]
    if small:
        raise DataError(f"DATA.REFLECT_TO_COMPLETE_SHAPE is False and these images are smaller "
                        f"than DATA.PATCH_SIZE {patch}: " + "; ".join(small))


def _patch_sets(cfg: Config, train_data: list, train_transforms: list | None, val_data: list,
                val_transforms: list | None, augment: Augment | None,
                place_filters: tuple[PlaceFilter | None, PlaceFilter | None] = (None, None)
                ) -> tuple[PatchDataset, FixedPatchDataset | None]:
    """Training patches (random, or BiaPy's grid with ``EXTRACT_RANDOM_PATCH: False``) and
    validation patches (seeded random positions, or the grid of ``DATA.VAL.OVERLAP``); the
    grid patches filtered by ``place_filters`` (training, validation) when given."""
    d, patch, batch = cfg.data, cfg.patch_shape, cfg.train.batch_size
    if d.train.extract_random_patch:
        voxels = sum(int(np.prod(x.shape[:-1])) for x, _ in train_data)
        per_epoch = cfg.train.patches_per_epoch or max(math.ceil(voxels / math.prod(patch)),
                                                       8 * batch)
        per_epoch = math.ceil(per_epoch / batch) * batch  # whole global batches on every rank
        per_epoch *= 1 + d.train.replicate
        train_set = PatchDataset(train_data, patch, per_epoch, augment, cfg.system.seed,
                                 train_transforms, d.train.foreground_sampling)
    else:
        places = grid_of(train_data, patch, d.train.overlap)
        if place_filters[0] is not None:
            places = place_filters[0](places)
        train_set = GridPatchDataset(train_data, patch, augment, cfg.system.seed,
                                     train_transforms, d.train.overlap, d.train.replicate,
                                     places)
    if not val_data:
        return train_set, None
    places = None
    if not d.train.extract_random_patch:
        places = grid_places([x.shape[:-1] for x, _ in val_data], patch, d.val.overlap)
        if place_filters[1] is not None:
            places = place_filters[1](places)
    val_voxels = sum(int(np.prod(x.shape[:-1])) for x, _ in val_data)
    per_image = min(16, max(1, math.ceil(val_voxels / len(val_data) / math.prod(patch))))
    return train_set, FixedPatchDataset(val_data, patch, per_image, cfg.system.seed + 1,
                                        val_transforms, places)


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
    train_data, train_transforms = _normalised(loaded, spec, scaler, in_memory)
    loaded = []  # the patch filters (if any) hold the images they measure
    val_data, val_transforms = _normalised(val_loaded, spec, scaler, in_memory)
    if not d.reflect_to_complete_shape:
        _refuse_small(train_pairs + val_pairs, train_data + val_data, cfg.patch_shape)
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
    train_set, val_set = _patch_sets(cfg, train_data, train_transforms, val_data,
                                     val_transforms, augment, place_filters)
    del place_filters
    per_epoch = len(train_set)
    if not resume and world.is_main:
        if aug.aug_samples:
            _save_aug_samples(train_set, paths.sub("aug"), cfg.ndim, aug.aug_num_samples,
                              aug.draw_grid)
        plot_model(model, in_ch, patch, paths.sub("charts") / f"model_plot_{paths.prefix}.png",
                   f"{architecture} ({cfg.problem.ndim}, {in_ch} -> {out_ch} channels)")

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
                                 device)
    cpus = len(os.sched_getaffinity(0))
    workers = cpus if cfg.system.num_workers < 0 else min(cfg.system.num_workers, cpus)
    data = TrainData(train_set, val_set, workers, cfg.system.pin_mem)
    try:
        history = fit(model, data, cfg.train, training_loss(cfg.loss, cfg.ndim, net_spec),
                      outputs, meta, device, resume, with_previews(on_epoch, previews),
                      stop_requested, world,
                      start.initial_state() if start is not None else None)
    except BaseException:
        with contextlib.suppress(OSError, ConfigError):  # the first error is the one to tell
            _chart(outputs, paths, world)
        raise
    history = _chart(outputs, paths, world) or history
    return history, check_best(model, val_set, scaler, outputs.best, cfg.train, device, world)


def _chart(outputs: TrainOutputs, paths: RunPaths, world: World) -> list[dict[str, float]]:
    """The history of the last checkpoint, drawn into ``charts/`` (rank 0)."""
    if not (world.is_main and outputs.last.exists()):
        return []
    history = load_checkpoint(outputs.last)["history"]
    plot_history(history, paths.sub("charts"), paths.prefix)
    return history


def test_phase(cfg: Config, paths: RunPaths, device: torch.device, pairs: list[Pair],
               table: list[dict[str, Any]], payload: dict[str, Any] | None = None,
               world: World = SINGLE) -> list[dict[str, Any]]:
    """Predict every (checked) test pair in tiles, write ``per_image/`` and the metrics CSV.

    The network, its normalisation and patch size come from the checkpoint; a config
    or test data that disagrees with it is refused with the key or file named. With
    several processes each rank predicts every ``size``-th pair; rank 0 writes the CSV.
    """
    d = cfg.data
    payload = payload or load_test_checkpoint(cfg, paths)
    meta = payload["meta"]
    pairs, table = filter_test_pairs(cfg, pairs, table)
    prep = Preprocessor(d.preprocess, cfg.ndim)
    for row in table:
        if row["in_channels"] != meta["in_channels"]:
            raise DataError(f"{row['input']} (in {d.test.path}): has {row['in_channels']} "
                            f"channel(s); the model in {test_checkpoint(cfg, paths)} takes "
                            f"{meta['in_channels']}")
    model = model_from_checkpoint(payload, test_checkpoint(cfg, paths)).to(device)
    tile, overlap = tile_settings(d.test.tile_shape, d.test.overlap, d.test.padding,
                                  meta["patch_size"], cfg.test.full_img,
                                  getattr(model, "fixed_shape", None))
    chunks = cfg.test.by_chunks
    by_chunks = BlockSettings(tuple(chunks.block_shape), chunks.z_start, chunks.z_end,
                              chunks.save_out_tif) if chunks.enable else None
    # block-wise: every rank takes part in every image; else each rank takes whole images
    mine = (list(range(len(pairs))) if by_chunks else
            list(range(world.rank, len(pairs), world.size)))
    rows = predict_pairs(model, meta, [pairs[i] for i in mine], paths.sub("per_image"), tile,
                         overlap, cfg.test.tiles_per_batch, device,
                         cfg.test.output_dtype.lower(), cfg.train.amp, split_axes(cfg, d.test),
                         cfg.test.augmentation, cfg.test.on_disk.lower(),
                         cfg.test.augmentation_mode.lower(), cfg.test.metrics,
                         cfg.test.eval_border_crop, cfg.test.output_format.lower(), by_chunks,
                         world, test_checkpoint(cfg, paths),
                         prep if prep.applies("test") else None, d.test.median_padding,
                         d.force_rgb, (Path(d.test.roi_mask.path), d.test.roi_mask.axes_order)
                         if d.test.roi_mask.enable else None,
                         tta_group=cfg.test.augmentation_group.lower())
    by_pair: dict[int, list] = {}
    for row in rows:
        by_pair.setdefault(mine[row.pop("pair")], []).append(row)
    gathered = dict(gather(list(by_pair.items()), world))
    rows = [row for i in sorted(gathered) for row in gathered[i]]
    if (d.test.load_gt or d.test.use_val_as_test) and world.is_main:
        write_metrics(rows, paths.run_dir / "test_metrics.csv")
    return rows


def _remove_temporaries(paths: RunPaths) -> None:
    """Delete what a killed earlier run of this name and run id left half-written: the
    ``.<file>.<random>.tmp`` files of its checkpoints and results (the lock is held)."""
    stale = [*paths.checkpoint("best").parent.glob(f".{paths.prefix}-checkpoint-*.tmp"),
             *paths.run_dir.rglob(".*.tmp")]
    for path in stale:
        with contextlib.suppress(OSError):
            path.unlink()


def run(cfg: Config, result_dir: str | Path, name: str, run_id: int = 1,
        device: torch.device | None = None, config_name: str = "config.yaml",
        resume: bool = False,
        on_epoch: Callable[[dict[str, float]], None] | None = None,
        stop_requested: Callable[[], bool] | None = None, world: World = SINGLE) -> RunResult:
    """Train and/or test as the config says, writing BiaPy's results tree.

    Everything is checked first (:func:`~i2i_nb.preflight.check_run`: name, settings,
    every data folder, the checkpoint to test or resume) before anything is written;
    nothing is written outside ``<result_dir>/<name>``, and one run at a time writes
    into one name and run id (:func:`~i2i_nb.runlock.run_lock`).
    """
    paths = RunPaths(Path(result_dir), name, run_id, cfg.model.out_checkpoint_format.lower())
    device = device or resolve_device(None)
    check_export(cfg)
    source = source_payload(cfg)
    checked = check_run(cfg, paths, resume, source)
    lock = run_lock(paths.root / f".{paths.prefix}.lock", f"--name {name} --run_id {run_id}"
                    ) if world.is_main else contextlib.nullcontext()
    with lock:
        if world.is_main:
            _remove_temporaries(paths)
            save_config(cfg, paths.root / "config_files" / config_name)
            write_record(paths.run_dir / "run_record.json", _data_files(cfg), {
                "seed": cfg.system.seed, "device": str(device), "processes": world.size,
                "name": name, "run_id": run_id, "resume": resume, "config": to_plain(cfg),
            })
        budget = set_threads(cfg.system.num_cpus, world.size)
        flush_denormals()  # training and the test phase compute in this thread's OpenMP team
        if world.is_main:
            print(f"CPU: {budget.describe()}")
            note = busy_note(budget)
            if note:
                print(note)
        result, payload = RunResult(paths), checked.payload
        if cfg.train.enable:
            result.history, check = train_phase(cfg, paths, device, resume, on_epoch,
                                                stop_requested, world, source, checked)
            if check is not None:
                result.checks["validation"] = check
            barrier(world)
            payload = None  # test the trained model
        if cfg.test.enable:
            result.test_rows = test_phase(cfg, paths, device, checked.test_pairs,
                                          checked.test_table, payload, world)
            check = check_on_test(result.test_mean) if result.test_rows else None
            if check is not None:
                result.checks["test"] = check
        if result.checks and world.is_main:
            write_checks(result.checks, paths.run_dir / "quality_check.json")
        if cfg.model.bmz.export.enable and world.is_main:
            trained = payload or load_test_checkpoint(cfg, paths)
            export_after_run(cfg, trained, source, checked.test_pairs, result.test_rows,
                             paths.run_dir, paths.prefix)
    return result
