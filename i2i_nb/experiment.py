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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from i2i_nb.baselines import QualityCheck, check_on_test
from i2i_nb.blockwise import BlockSettings
from i2i_nb.bmz.runs import check_export, export_after_run, source_payload
from i2i_nb.checkpoint import model_from_checkpoint
from i2i_nb.compute import precision_note
from i2i_nb.config import Config, save_config, to_plain
from i2i_nb.config.preprocess import ZOOM_AXES
from i2i_nb.cpu import busy_note, flush_denormals, set_threads
from i2i_nb.data.pairs import Pair
from i2i_nb.data.prepare import filter_test_pairs
from i2i_nb.data.preprocess import Preprocessor
from i2i_nb.data.sources import split_axes
from i2i_nb.distributed import SINGLE, World, barrier, gather
from i2i_nb.errors import DataError
from i2i_nb.inference import predict_pairs, tile_settings
from i2i_nb.metrics_table import mean_row, write_metrics
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
from i2i_nb.train_phase import train_phase


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
    zoom = d.preprocess.zoom
    by_chunks = BlockSettings(tuple(chunks.block_shape), chunks.z_start, chunks.z_end,
                              chunks.save_out_tif,
                              zoom.spatial(d.test.input_img_axes_order or ZOOM_AXES, cfg.ndim)
                              if zoom.enable else ()) if chunks.enable else None
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
    device = torch.device(device) if device is not None else resolve_device(None)
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
            print(precision_note(device, cfg.train.amp))
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
