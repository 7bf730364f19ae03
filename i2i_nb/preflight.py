"""Everything a run checks before it writes anything: device, job name, settings, every
data folder (all problems of training, validation and test data in one report),
the checkpoint to test or to resume, and what the test metrics need.

Whatever would fail later (after training, or after loading everything) fails here,
before the results tree is created, with the key, flag or file named.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from i2i_nb.checkpoint import checkpoint_suffix, load_checkpoint
from i2i_nb.config import Config
from i2i_nb.data.pairs import Pair
from i2i_nb.data.prepare import as_loaded
from i2i_nb.data.regions import region_split_chosen
from i2i_nb.data.sources import split_pairs
from i2i_nb.data.split import validation_split
from i2i_nb.errors import ConfigError, DataError
from i2i_nb.files import name_max
from i2i_nb.model_spec import MODEL_KEYS, down_keys, model_spec
from i2i_nb.models import build_model
from i2i_nb.safetensors_ckpt import SUFFIX

SSIM_MIN_EXTENT = 3  # i2i_nb.metrics.ssim refuses smaller images

@dataclass(frozen=True)
class RunPaths:
    """Every path of one run in BiaPy's results tree."""

    result_dir: Path
    name: str
    run_id: int
    checkpoint_format: str = "pth"  # MODEL.OUT_CHECKPOINT_FORMAT

    @property
    def root(self) -> Path:
        """``<result_dir>/<name>``."""
        return self.result_dir / self.name

    @property
    def run_dir(self) -> Path:
        """``results/<name>_<run_id>``."""
        return self.root / "results" / f"{self.name}_{self.run_id}"

    @property
    def prefix(self) -> str:
        """``<name>_<run_id>``, the prefix of checkpoints and charts."""
        return f"{self.name}_{self.run_id}"

    def checkpoint(self, which: str) -> Path:
        """``checkpoints/<name>_<run_id>-checkpoint-<which>.pth`` (best or last; ending in
        ``.safetensors`` with that ``checkpoint_format``, unless only the other format's
        file is there, as BiaPy looks for both)."""
        folder, name = self.root / "checkpoints", f"{self.prefix}-checkpoint-{which}"
        mine = checkpoint_suffix(self.checkpoint_format)
        path, other = (folder / f"{name}{suffix}" for suffix in (
            mine, ".pth" if mine == SUFFIX else SUFFIX))
        return other if _is_file(other) and not path.is_file() else path

    def sub(self, folder: str) -> Path:
        """A folder of the run: aug, charts, per_image, train_logs or tensorboard."""
        return self.run_dir / folder


def _is_file(path: Path) -> bool:
    """``path.is_file()``, False for a name the file system cannot hold (too long)."""
    try:
        return path.is_file()
    except OSError:
        return False


@dataclass
class CheckedRun:
    """What the checks found: the pairs of each split, the test check table, and the
    checkpoint a prediction-only run tests (None when training)."""

    train_pairs: list[Pair] = field(default_factory=list)
    val_pairs: list[Pair] = field(default_factory=list)
    train_table: list[dict[str, Any]] = field(default_factory=list)
    test_pairs: list[Pair] = field(default_factory=list)
    test_table: list[dict[str, Any]] = field(default_factory=list)
    payload: dict[str, Any] | None = None


def resolve_device(gpu: str | None, local_rank: int = 0, fallback: str = "cpu"
                   ) -> torch.device:
    """``cpu``, ``cuda``, ``cuda:N``, ``N``, ``mps`` or a list ``"0, 1, 2"`` (one per local
    rank); None picks CUDA when available (device ``local_rank``), else ``fallback``
    (BiaPy's ``SYSTEM.DEVICE``: the device used when no GPU is chosen).

    Raises
    ------
    ConfigError
        A string that names no device, or a device this machine does not have (a CUDA
        index beyond the GPUs present, ``mps`` without Apple's GPU); ``--gpu`` (or
        ``SYSTEM.DEVICE``) is named.
    """
    if gpu is None or not gpu.strip():
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        return _device(fallback or "cpu", "SYSTEM.DEVICE")
    choices = [g.strip().lower() for g in gpu.split(",")]
    return _device(choices[local_rank % len(choices)], f"--gpu {gpu}")


def _device(choice: str, given: str) -> torch.device:
    """One device string checked against this machine; ``given`` names the flag or key."""
    choice = choice.strip().lower()
    wanted = f"cuda:{choice}" if choice.isdigit() else choice
    kind, _, index = wanted.partition(":")
    if kind not in ("cpu", "cuda", "mps") or (index and not index.isdigit()) \
            or (kind != "cuda" and index):
        raise ConfigError(f"{given}: {choice!r} is not a device; use cpu, cuda, cuda:N or N "
                          "(a GPU number), or mps on Apple silicon")
    if kind == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ConfigError(f"{given}: CUDA is not available on this machine; use cpu")
        if index and int(index) >= count:
            raise ConfigError(f"{given}: there is no GPU {index}; this machine has {count} "
                              f"(cuda:0 to cuda:{count - 1})")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"{given}: mps (Apple's GPU) is not available on this machine; "
                          "use cpu")
    return torch.device(wanted)


def check_name(paths: RunPaths) -> None:
    """Refuse a job name that is empty, holds a path separator or ``..``, or makes a file
    name longer than the file system takes."""
    name = paths.name
    separators = {"/", "\\", os.sep, os.altsep or "/"}
    if not name or name in (".", "..") or any(s in name for s in separators) or "\0" in name:
        raise ConfigError(f"--name {name!r}: a job name must be a plain folder name (not "
                          "empty, no '/' or '\\', not '.' or '..'); the results go to "
                          "<result_dir>/<name>")
    longest = len(paths.checkpoint("best").name.encode())
    limit = name_max(paths.result_dir)
    if longest > limit:
        raise ConfigError(f"--name {name[:40]}...: too long ({len(name)} characters): the "
                          f"checkpoint file name would be {longest} bytes, more than the "
                          f"{limit} the file system at {paths.result_dir} allows; choose a "
                          "shorter --name")


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (links resolved)."""
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def data_folders(cfg: Config) -> list[Path]:
    """The data folders (or single files) the run reads (with the ROI masks and the
    histogram-matching reference when those are on)."""
    d = cfg.data
    folders = []
    if cfg.train.enable:
        folders += [d.train.path, d.train.gt_path]
        if not d.val.from_train:
            folders += [d.val.path, d.val.gt_path]
    if cfg.test.enable:
        folders += [d.test.path] + ([d.test.gt_path] if d.test.load_gt else [])
        folders += [d.test.roi_mask.path] if d.test.roi_mask.enable else []
    p = d.preprocess
    if p.match_histogram.enable and (p.train or p.val or p.test):
        folders.append(p.match_histogram.reference_path)
    return [Path(f) for f in folders if f]


def test_checkpoint(cfg: Config, paths: RunPaths) -> Path:
    """The checkpoint the test phase uses: this run's best, or ``PATHS.CHECKPOINT_FILE``."""
    if cfg.model.load_checkpoint and cfg.paths.checkpoint_file and not cfg.train.enable:
        return Path(cfg.paths.checkpoint_file)
    if cfg.model.load_checkpoint and not cfg.train.enable:
        return paths.checkpoint("last" if cfg.model.load_checkpoint_epoch == "last_on_train"
                                else "best")
    return paths.checkpoint("best")


def load_test_checkpoint(cfg: Config, paths: RunPaths) -> dict[str, Any]:
    """Read the test checkpoint and refuse one whose dimensionality disagrees with the config."""
    checkpoint = test_checkpoint(cfg, paths)
    payload = load_checkpoint(checkpoint)
    if payload["meta"]["ndim"] != cfg.ndim:
        raise ConfigError(f"PROBLEM.NDIM: the checkpoint {checkpoint} is "
                          f"{payload['meta']['ndim']}D, the config says {cfg.problem.ndim}")
    return payload


def _check_settings(cfg: Config, paths: RunPaths, resume: bool, source: bool) -> None:
    """Settings that contradict each other or the results tree."""
    train, checkpoint_file = cfg.train, cfg.paths.checkpoint_file
    if not train.enable and not cfg.test.enable:
        raise ConfigError("TRAIN.ENABLE and TEST.ENABLE are both False: nothing to do")
    if train.enable and train.epochs == 0:
        raise ConfigError("TRAIN.EPOCHS: 0 trains nothing; give at least 1 epoch, or set "
                          "TRAIN.ENABLE: False (with MODEL.LOAD_CHECKPOINT: True and "
                          "PATHS.CHECKPOINT_FILE) to predict with a trained model")
    if checkpoint_file and not cfg.model.load_checkpoint and not train.enable:
        raise ConfigError(f"PATHS.CHECKPOINT_FILE is {checkpoint_file} but "
                          "MODEL.LOAD_CHECKPOINT is False, so it would be ignored; set "
                          "MODEL.LOAD_CHECKPOINT: True to predict with it, or remove the key")
    if checkpoint_file and not cfg.model.load_checkpoint:
        warnings.warn(f"PATHS.CHECKPOINT_FILE ({checkpoint_file}) is ignored: "
                      "MODEL.LOAD_CHECKPOINT is False, so training starts from scratch",
                      stacklevel=3)
    if resume and not train.enable:
        raise ConfigError("--resume continues training, but TRAIN.ENABLE is False; run "
                          "without --resume to predict")
    last = paths.checkpoint("last")
    if resume and not last.is_file():
        raise ConfigError(f"--resume: nothing to resume, there is no checkpoint at {last} "
                          f"(--name {paths.name} --run_id {paths.run_id}); run without "
                          "--resume to start training")
    if cfg.test.enable and not train.enable and not source \
            and not test_checkpoint(cfg, paths).is_file():
        hint = ("" if cfg.model.load_checkpoint and checkpoint_file else
                "; set MODEL.LOAD_CHECKPOINT: True and PATHS.CHECKPOINT_FILE to the "
                "checkpoint to predict with")
        raise ConfigError(f"TRAIN.ENABLE is False but there is no checkpoint at "
                          f"{test_checkpoint(cfg, paths)}{hint}")


def _check_data(cfg: Config, checked: CheckedRun) -> None:
    """Find and check training, validation and test pairs; one report for all problems."""
    d, reports = cfg.data, []

    def attempt(label: str, keys: str, split: Any, x: str, y: str | None) -> tuple[list, list]:
        try:
            pairs, table = split_pairs(split, x, y, cfg)
            role = "test" if split is d.test else "train"
            return pairs, [as_loaded(cfg, role, row) for row in table]
        except DataError as err:
            reports.append(f"{label} ({keys}):\n{err}")
            return [], []

    if cfg.train.enable:
        pairs, checked.train_table = attempt("training data", "DATA.TRAIN.PATH, GT_PATH",
                                             d.train, d.train.path, d.train.gt_path)
        if d.val.from_train and region_split_chosen(d.val):  # split inside the images
            checked.train_pairs = pairs
        elif d.val.from_train:
            checked.train_pairs, checked.val_pairs = validation_split(pairs, d.val,
                                                                      cfg.system.seed)
        else:
            checked.train_pairs = pairs
            checked.val_pairs = attempt("validation data", "DATA.VAL.PATH, GT_PATH",
                                        d.val, d.val.path, d.val.gt_path)[0]
    if cfg.test.enable and d.test.use_val_as_test:
        pairs, table = (attempt("training data", "DATA.TRAIN.PATH, GT_PATH", d.train,
                                d.train.path, d.train.gt_path) if not cfg.train.enable
                        else (pairs, checked.train_table))
        checked.test_pairs = validation_split(pairs, d.val, cfg.system.seed)[1]
        rows = dict(zip(pairs, table, strict=True)) if len(table) == len(pairs) else {}
        checked.test_table = [rows[p] for p in checked.test_pairs if p in rows]
    elif cfg.test.enable:
        checked.test_pairs, checked.test_table = attempt(
            "test data", "DATA.TEST.PATH" + (", GT_PATH" if d.test.load_gt else ""),
            d.test, d.test.path, d.test.gt_path if d.test.load_gt else None)
    reports += _test_problems(cfg, checked)
    if len(reports) == 1:
        raise DataError(reports[0])
    if reports:
        raise DataError(f"problems in {len(reports)} parts of the data:\n\n"
                        + "\n\n".join(reports))


def _test_problems(cfg: Config, checked: CheckedRun) -> list[str]:
    """Test images the model cannot take or the metrics cannot score."""
    problems = []
    if cfg.test.enable and cfg.data.test.load_gt:
        problems += [f"{pair.inputs[0]}: spatial shape {row['shape']} is smaller than the "
                     f"{SSIM_MIN_EXTENT} pixels per axis SSIM needs to score it; set "
                     "DATA.TEST.LOAD_GT: False to predict it without scores"
                     for pair, row in zip(checked.test_pairs, checked.test_table, strict=True)
                     if min(row["shape"]) < SSIM_MIN_EXTENT]
    if checked.train_table and checked.test_table:
        channels = checked.train_table[0]["in_channels"]
        problems += [f"{pair.inputs[0]}: has {row['in_channels']} channel(s); the training "
                     f"inputs have {channels}"
                     for pair, row in zip(checked.test_pairs, checked.test_table, strict=True)
                     if row["in_channels"] != channels]
    return ["test data (DATA.TEST.PATH):\n" + "\n".join(f"- {p}" for p in problems)
            ] if problems else []


def _warn_dtypes(cfg: Config, checked: CheckedRun) -> None:
    """Warn when test inputs have another dtype than the training inputs (their dataset
    statistics then describe other units)."""
    if checked.train_table:
        trained = sorted({row["in_dtype"] for row in checked.train_table})
    elif checked.payload is not None and "input_dtype" in checked.payload["meta"]:
        trained = [checked.payload["meta"]["input_dtype"]]
    else:
        return
    norm = cfg.data.normalization
    spec = (checked.payload or {}).get("meta", {}).get("input_normalization") or {}
    dataset = (spec.get("dataset") is not None if checked.payload
               else norm.measure_by.lower() == "dataset")
    other = [(pair.inputs[0], row["in_dtype"]) for pair, row in
             zip(checked.test_pairs, checked.test_table, strict=True)
             if row["in_dtype"] not in trained]
    if other:
        how = ("normalised with the statistics of the training inputs" if dataset
               else "normalised image by image")
        warnings.warn(f"{len(other)} test input(s) are not {'/'.join(trained)} like the "
                      f"training inputs: {other[0][0]} is {other[0][1]}; they are {how}, "
                      "so the predictions may be off", stacklevel=3)


def _mismatch(cfg: Config, meta: dict[str, Any], checked: CheckedRun) -> list[str]:
    """Each key whose value differs from what the checkpoint was trained with."""
    given = {"MODEL.ARCHITECTURE": (meta["architecture"], cfg.model.architecture.lower()),
             "PROBLEM.NDIM": (f"{meta['ndim']}D", f"{cfg.ndim}D")}
    taken = set(cfg.model.items_to_load_from_checkpoint) if cfg.model.load_checkpoint else set()
    kwargs = model_spec(cfg, meta["in_channels"], meta["out_channels"]).kwargs()
    given |= {key: (meta["model_kwargs"].get(name), kwargs[name])
              for name, key in MODEL_KEYS.items() if name in meta["model_kwargs"]}
    if "model_arch" in taken:  # the network came from the starting checkpoint
        given = {"PROBLEM.NDIM": given["PROBLEM.NDIM"]}
    if "norm" not in taken:
        given["DATA.NORMALIZATION.TYPE"] = (meta["input_normalization"]["type"],
                                            cfg.data.normalization.type.lower())
    for key in ("optimizer", "lr_scheduler"):
        if key in meta:
            section = cfg.train.optimizer if key == "optimizer" else cfg.train.lr_scheduler.name
            given[f"TRAIN.{key.upper()}" + (".NAME" if key == "lr_scheduler" else "")] = (
                meta[key], section.lower())
    if checked.train_table:
        row = checked.train_table[0]
        given["input channels (DATA.TRAIN.PATH)"] = (meta["in_channels"], row["in_channels"])
        given["target channels (DATA.TRAIN.GT_PATH)"] = (meta["out_channels"],
                                                         row["out_channels"])
    return [f"{key}: the checkpoint has {old}, now {new}"
            for key, (old, new) in given.items() if old != new]


def check_run(cfg: Config, paths: RunPaths, resume: bool,
              source: dict[str, Any] | None = None) -> CheckedRun:
    """Every check of a run, before anything is written.

    ``source``: the payload of a zoo package to test or fine-tune (``MODEL.SOURCE: bmz``).

    Raises
    ------
    ConfigError
        A bad name, contradicting settings, a missing or mismatching checkpoint.
    DataError
        Every problem of the training, validation and test data, in one message.
    """
    check_name(paths)
    for folder in data_folders(cfg):
        if inside(paths.root, folder):
            raise ConfigError(f"--result_dir {paths.result_dir}: results would be written "
                              f"inside the data folder {folder}; choose a folder outside "
                              "the data")
    _check_settings(cfg, paths, resume, source is not None)
    if cfg.train.enable and not cfg.model.load_checkpoint and source is None \
            and cfg.model.architecture.lower() != "unetr":  # else the network may be the
        # checkpoint's or the package's, which train_phase checks (unetr's patch against its
        # token size: the config's validation, without building a transformer to ask)
        heads = cfg.problem.image_to_image.channels_per_head_info
        with torch.device("meta"):  # the geometry only: no memory for the weights
            divisor = build_model(model_spec(cfg, 1, sum(heads) or 1)).divisor
        if any(p % q for p, q in zip(cfg.patch_shape, divisor, strict=True)):
            keys = down_keys(cfg.model.architecture, cfg.model.nafnet.generator_backbone)
            raise ConfigError(f"DATA.PATCH_SIZE: {cfg.patch_shape} must be a multiple of "
                              f"{divisor} per axis for this model ({keys} set the "
                              "down-sampling)")
    checked = CheckedRun()
    checked.payload = source  # a zoo package's network (MODEL.SOURCE: bmz)
    if cfg.test.enable and not cfg.train.enable and source is None:
        checked.payload = load_test_checkpoint(cfg, paths)
    _check_data(cfg, checked)
    if checked.payload is not None:
        meta, where = checked.payload["meta"], test_checkpoint(cfg, paths)
        wrong = [f"- {pair.inputs[0]}: has {row['in_channels']} channel(s); the model in "
                 f"{where} takes {meta['in_channels']}"
                 for pair, row in zip(checked.test_pairs, checked.test_table, strict=True)
                 if row["in_channels"] != meta["in_channels"]]
        if wrong:
            raise DataError("test data (DATA.TEST.PATH):\n" + "\n".join(wrong))
    if resume:
        last = paths.checkpoint("last")
        differ = _mismatch(cfg, load_checkpoint(last)["meta"], checked)
        if differ:
            raise ConfigError(f"--resume: the config does not match the checkpoint {last}, "
                              "so training cannot continue from it:\n"
                              + "\n".join(f"- {d}" for d in differ)
                              + "\nrestore those values, or start a new run (another "
                              "--run_id or --name) without --resume")
    _warn_dtypes(cfg, checked)
    return checked
