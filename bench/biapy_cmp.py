"""i2i_nb against BiaPy 3.7.1 on the same BiaPy-style configs, side by side, as ratios.

Usage::

    python bench/biapy_cmp.py [--quick] [--biapy-venv DIR] [--threads N] [--keep DIR]

BiaPy runs from a venv of its own (created on first use: ``torch==2.13.0``, then
``biapy==3.7.1``; pip replaces that torch with the one BiaPy's torchvision needs), each
tool as its own command-line process (``i2i-nb`` / ``biapy`` with ``--config
--result_dir --name --run_id --gpu cpu``), on one YAML file both read. Only the keys
below are set; everything else is each tool's default (BiaPy's U-Net uses instance
normalisation, ours none). Synthetic pairs: a smoothed random field as target, the same
with Gaussian noise as input, 16-bit TIFFs.

Rows (ours / BiaPy's, wall-clock seconds; below 1: ours is faster):

- start-up: ``--version``; ours only: a whole one-step training run (the time to the first
  training step is below it);
- 2D whole run: 3 epochs (``TRAIN.EPOCHS``) on 16 x 512^2 training pairs (``--quick``:
  4 x 256^2), patch 128^2, batch 4, U-Net 16-32-64-128, then the test phase on one
  2048^2 image (``--quick``: 512^2);
- seconds per epoch: the median of the run's epochs (ours: the train log CSV; BiaPy:
  its ``[Time]`` lines; both include validation);
- test phase only (``TRAIN.ENABLE: False``, the checkpoint of the run above), 2D image;
- 3D: one epoch on 4 x 32x128^2 volumes, patch 16x64^2, then the test phase on a
  64x512^2 volume (``--quick``: 16x128^2) in its own process.

The CPUs were shared when these numbers were taken; ``--threads`` sets
``SYSTEM.NUM_CPUS`` (both tools read it) to keep them comparable.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile
from scipy import ndimage

ROOT = Path(__file__).resolve().parents[1]
BATCH = 4
sys.path[:0] = [str(ROOT)]

from bench.common import Row, table  # noqa: E402


@dataclass(frozen=True)
class Case:
    """One dataset and config: dimensionality, shapes and counts."""

    ndim: int
    train_shape: tuple[int, ...]
    n_train: int
    test_shape: tuple[int, ...]
    patch: tuple[int, ...]
    epochs: int


def cases(quick: bool) -> list[Case]:
    """The 2D and 3D cases of ``--quick`` or the full run."""
    if quick:
        return [Case(2, (256, 256), 4, (512, 512), (128, 128), 3),
                Case(3, (16, 64, 64), 2, (16, 128, 128), (16, 64, 64), 1)]
    return [Case(2, (512, 512), 16, (2048, 2048), (128, 128), 3),
            Case(3, (32, 128, 128), 4, (64, 512, 512), (16, 64, 64), 1)]


def _pair(shape: tuple[int, ...], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    field = ndimage.gaussian_filter(rng.standard_normal(shape, np.float32), 3)
    clean = 2000 + 8000 * (field - field.min()) / (np.ptp(field) + 1e-6)
    noisy = clean + rng.normal(0, 600, shape)
    to16 = lambda a: np.clip(np.rint(a), 0, 65535).astype(np.uint16)  # noqa: E731
    return to16(noisy), to16(clean)


def write_data(case: Case, root: Path) -> None:
    """``root/{train,test}/{x,y}/*.tif``."""
    rng = np.random.default_rng(case.ndim)
    for split, shape, count in (("train", case.train_shape, case.n_train),
                                ("test", case.test_shape, 1)):
        for i in range(count):
            for folder, image in zip("xy", _pair(shape, rng), strict=True):
                path = root / split / folder / f"img-{i:03d}.tif"
                path.parent.mkdir(parents=True, exist_ok=True)
                tifffile.imwrite(path, image)


def write_config(case: Case, data: Path, path: Path, threads: int, train: bool) -> None:
    """The one BiaPy-style YAML both tools read."""
    patch = ", ".join(str(p) for p in (*case.patch, 1))
    pad = ", ".join("4" if case.ndim == 3 and i == 0 else "16" for i in range(case.ndim))
    path.write_text(f"""SYSTEM:
    NUM_CPUS: {threads}
    NUM_WORKERS: 0
    SEED: 0
PROBLEM:
    TYPE: IMAGE_TO_IMAGE
    NDIM: {case.ndim}D
DATA:
    PATCH_SIZE: ({patch})
    TRAIN:
        PATH: {data}/train/x
        GT_PATH: {data}/train/y
        IN_MEMORY: True
    VAL:
        FROM_TRAIN: True
        SPLIT_TRAIN: 0.1
    TEST:
        PATH: {data}/test/x
        GT_PATH: {data}/test/y
        IN_MEMORY: True
        LOAD_GT: True
        PADDING: ({pad})
AUGMENTOR:
    ENABLE: True
    VFLIP: True
    HFLIP: True
MODEL:
    ARCHITECTURE: unet
    FEATURE_MAPS: [16, 32, 64, 128]
    LOAD_CHECKPOINT: {not train}
TRAIN:
    ENABLE: {train}
    OPTIMIZER: ADAMW
    LR: 1.E-4
    BATCH_SIZE: {BATCH}
    EPOCHS: {case.epochs}
    PATIENCE: 10
TEST:
    ENABLE: True
    FULL_IMG: False
""")


@dataclass
class Timed:
    """A finished child: wall seconds, its output, exit status."""

    seconds: float
    output: str
    returncode: int


def _timed(command: list[str], log: Path, env: dict[str, str] | None = None) -> Timed:
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - began
    output = done.stdout + done.stderr
    log.write_text(output)
    return Timed(seconds, output, done.returncode)


def _ours_command(cfg: Path, out: Path, name: str) -> list[str]:
    return [sys.executable, "-m", "i2i_nb", "--config", str(cfg), "--result_dir", str(out),
            "--name", name, "--run_id", "1", "--gpu", "cpu"]


def _biapy_command(python: Path, cfg: Path, out: Path, name: str) -> list[str]:
    return [str(python.parent / "biapy"), "--config", str(cfg), "--result_dir", str(out),
            "--name", name, "--run_id", "1", "--gpu", "cpu"]


def _ours_epochs(out: Path, name: str) -> list[float]:
    log = out / name / "results" / f"{name}_1" / "train_logs" / f"{name}_1_log.csv"
    with log.open() as handle:
        return [float(row["seconds"]) for row in csv.DictReader(handle)]


_BIAPY_TIME = re.compile(r"\[Time\] ([0-9.]+)([smh])\s")  # after BiaPy's timestamp


def _biapy_epochs(output: str) -> list[float]:
    scale = {"s": 1.0, "m": 60.0, "h": 3600.0}
    return [float(v) * scale[u] for v, u in _BIAPY_TIME.findall(output)]


_BIAPY_STEP = re.compile(r"Epoch: \[(\d+)\] Total time: \S+ \(([0-9.]+) s / it\)")
_OURS_PATCHES = re.compile(r"(\d+) patches of \S.*? per epoch")


def _biapy_step_seconds(output: str) -> list[float]:
    """Seconds per training iteration of each epoch (the first ``Total time`` line of an
    epoch is its training loop, the second its validation)."""
    seen: dict[str, float] = {}
    for epoch, per_it in _BIAPY_STEP.findall(output):
        seen.setdefault(epoch, float(per_it))
    return list(seen.values())


def _ours_steps_per_epoch(output: str, batch: int) -> int:
    """Training steps per epoch from our log's "N patches of ... per epoch" (drop_last)."""
    found = _OURS_PATCHES.search(output)
    return int(found.group(1)) // batch if found else 0


def biapy_python(venv: Path) -> Path:
    """The python of a BiaPy 3.7.1 venv, created on first use."""
    python = venv / "bin" / "python"
    if not (venv / "bin" / "biapy").exists():
        print(f"creating the BiaPy venv {venv} (several minutes, ~7 GB)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "torch==2.13.0"], check=True)
        subprocess.run([*pip, "biapy==3.7.1"], check=True)
    return python


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.3f}" if theirs > 0 and np.isfinite(theirs) else "n/a"


def _failed(tool: str, timed: Timed, log: Path) -> Row | None:
    if timed.returncode == 0:
        return None
    tail = timed.output.strip().splitlines()[-1:] or [""]
    return Row("biapy", f"{tool} failed (exit {timed.returncode})", "n/a", "",
               f"see {log}: {tail[0][:120]}")


def compare(case: Case, work: Path, python: Path, threads: int) -> list[Row]:
    """Whole run, seconds per epoch and the test phase of one case, ours / BiaPy's."""
    data, out = work / f"data{case.ndim}d", work / "out"
    write_data(case, data)
    train_cfg, test_cfg = work / f"train{case.ndim}d.yaml", work / f"test{case.ndim}d.yaml"
    write_config(case, data, train_cfg, threads, True)
    write_config(case, data, test_cfg, threads, False)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    name = f"cmp{case.ndim}d"
    runs = {}
    for phase, cfg in (("run", train_cfg), ("test", test_cfg)):
        for tool in ("ours", "biapy"):
            log = work / f"{tool}-{phase}{case.ndim}d.log"
            command = _ours_command(cfg, out / tool, name) if tool == "ours" else \
                _biapy_command(python, cfg, out / tool, name)
            print(f"  {tool} {case.ndim}D {phase} ...", flush=True)
            runs[tool, phase] = (_timed(command, log, env if tool == "ours" else None), log)
    rows = [r for r in (_failed(t, *runs[t, p]) for t in ("ours", "biapy")
                        for p in ("run", "test")) if r is not None]
    if rows:
        return rows
    shape = "x".join(str(s) for s in case.test_shape)
    ours, theirs = runs["ours", "run"][0], runs["biapy", "run"][0]
    rows.append(Row("biapy", f"{case.ndim}D whole run ({case.epochs} epochs + test {shape})",
                    _ratio(ours.seconds, theirs.seconds), "<= 0.5",
                    f"ours {ours.seconds:.1f} s, BiaPy {theirs.seconds:.1f} s"))
    mine, biapy = _ours_epochs(out / "ours", name), _biapy_epochs(theirs.output)
    if mine and biapy:
        a, b = statistics.median(mine), statistics.median(biapy)
        rows.append(Row("biapy", f"{case.ndim}D seconds per epoch (median of {len(mine)})",
                        _ratio(a, b), "<= 0.6", f"ours {a:.1f} s, BiaPy {b:.1f} s (each "
                        "tool's own patches per epoch: see the next row)"))
    steps, biapy_it = _ours_steps_per_epoch(ours.output, BATCH), _biapy_step_seconds(
        theirs.output)
    if mine and steps and biapy_it:
        a, b = statistics.median(mine) / steps, statistics.median(biapy_it)
        rows.append(Row("biapy", f"{case.ndim}D seconds per training step", _ratio(a, b),
                        "", f"ours {a:.2f} s ({steps} steps/epoch, validation included), "
                        f"BiaPy {b:.2f} s/it (training loop only)"))
    ours, theirs = runs["ours", "test"][0], runs["biapy", "test"][0]
    rows.append(Row("biapy", f"{case.ndim}D test phase only, {shape} (own process)",
                    _ratio(ours.seconds, theirs.seconds), "<= 0.5",
                    f"ours {ours.seconds:.1f} s, BiaPy {theirs.seconds:.1f} s"))
    return rows


def first_step(work: Path, threads: int) -> Row:
    """Ours only: a whole process that trains one step (one batch, then its validation and
    checkpoints) and exits, on the quick 2D data: an upper bound of the time to the first
    training step."""
    case = cases(True)[0]
    data, cfg = work / "data-first", work / "first.yaml"
    write_data(case, data)
    write_config(case, data, cfg, threads, True)
    command = [*_ours_command(cfg, work / "out-first", "first"), "--set", "TRAIN.EPOCHS=1",
               "--set", f"TRAIN.PATCHES_PER_EPOCH={BATCH}", "--set", "TEST.ENABLE=False"]
    timed = _timed(command, work / "first.log", {**os.environ, "PYTHONPATH": str(ROOT)})
    failed = _failed("ours", timed, work / "first.log")
    return failed or Row("biapy", "ours: time to the first training step (a one-step run, whole "
               "process)", f"{timed.seconds:.2f} s", "<= 3 s", "import, config, data, network, "
               "one step, validation, checkpoints, exit")


def main(argv: list[str] | None = None) -> int:
    """Build or reuse the BiaPy venv, run both tools on each case, print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small images")
    parser.add_argument("--biapy-venv", type=Path,
                        default=Path.home() / ".cache" / "i2i_nb" / "biapy-venv")
    parser.add_argument("--threads", type=int, default=-1, help="SYSTEM.NUM_CPUS for both")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: temporary)")
    parser.add_argument("--only", type=int, choices=(2, 3), help="one case")
    args = parser.parse_args(argv)
    python = biapy_python(args.biapy_venv)
    load = os.getloadavg()[0]
    print(f"i2i_nb vs BiaPy 3.7.1 ({'quick' if args.quick else 'full'}), SYSTEM.NUM_CPUS "
          f"{args.threads}, {os.cpu_count()} CPUs, load average {load:.1f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        version = [_timed([sys.executable, "-m", "i2i_nb", "--version"], work / "v-ours.log",
                          {**os.environ, "PYTHONPATH": str(ROOT)}),
                   _timed([str(python.parent / "biapy"), "--version"], work / "v-biapy.log")]
        rows = [Row("biapy", "start-up (--version)", _ratio(version[0].seconds,
                                                            version[1].seconds), "",
                    f"ours {version[0].seconds:.2f} s, BiaPy {version[1].seconds:.1f} s")]
        rows.append(first_step(work, args.threads))
        for case in cases(args.quick):
            if args.only in (None, case.ndim):
                rows += compare(case, work, python, args.threads)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
