"""Result quality of the engine's defaults on paired tasks made from real images.

Usage::

    python bench/quality.py [--quick] [--only TASK[,TASK...]] [--epochs N] [--out DIR]
                            [--set KEY=VALUE ...] [--width auto|bench|default] [--threads N]
                            [--json FILE] [--augment FAMILY[,FAMILY...]]
                            [--careamics [--careamics-venv DIR]]
    python bench/quality.py --table FILE.json [...]

Each task of ``bench/quality_tasks.py`` (built from images shipped inside scikit-image,
nothing downloaded) is written as a TIFF ``train/test`` tree, trained and tested through
:func:`i2i_nb.experiment.run` with the engine's defaults: only the paths, ``NDIM``, the
patch size, the epochs, batch and patches per epoch (the time budget) are set. On the
CPU the U-Net keeps the default depth at half the default width (``--width bench``:
16, 32, 64, 128 filters) to fit about 10 minutes on 2 cores (``--quick``: about 3);
on CUDA it keeps the default width. ``--set`` overrides any config key for A/B runs.
``--networks`` gives a row per network, each with the keys it needs (:data:`NETWORK_KEYS`)
and, with the bench width, a CPU-sized variant of the largest (:data:`BENCH_SIZES`).

Per task the table gives PSNR with BiaPy 3.7's data range ``max(gt) - min(0, min(gt))``
and scale-invariant PSNR (prediction fitted to the target by affine least squares first)
for the model, the identity baseline (input against target) and a constant baseline (the
training targets' mean), all means over test images, plus training seconds; the baselines
are the engine's (:mod:`i2i_nb.baselines`): where input and target channel counts differ,
the identity is the input channel that best predicts the target after an affine fit.

``--careamics`` also trains CAREamics' CARE (in a venv of its own, created on first use)
on the same arrays with the same U-Net depth and width, patch, batch, epochs and steps per
epoch, its other settings left at CAREamics' defaults, and adds its scores to the table.
``--augment`` runs each task once per augmentation family of :data:`AUG_FAMILIES`
(``default``: this project's flips and quarter turns; ``none``; the others add a BiaPy
family to the default), one row each, to weigh a family against the default.
``--table`` reprints the table of ``--json`` files (e.g. tasks run as separate processes).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

from quality_tasks import TASKS, Task, write_task  # noqa: E402

from i2i_nb.baselines import score_image  # noqa: E402
from i2i_nb.cli import parse_overrides  # noqa: E402
from i2i_nb.config import Config, config_from_dict  # noqa: E402
from i2i_nb.data.io import read_image  # noqa: E402
from i2i_nb.experiment import run  # noqa: E402
from i2i_nb.metrics import image_metrics  # noqa: E402

BENCH_WIDTH = [16, 32, 64, 128]  # default depth (4 levels), half the default width
# --networks: keys a network needs on top of the defaults to train at all. NAFNet is always
# BiaPy's GAN generator: a PatchGAN discriminator, an adversarial loss term, and a second
# optimiser and learning rate (the generator keeps the engine's 1e-3, the discriminator
# BiaPy's default 1e-4).
NETWORK_KEYS: dict[str, list[str]] = {
    "nafnet": ["MODEL.NAFNET.ARCHITECTURE_D=patchgan", "LOSS.TYPE=[MAE, BCE]",
               "LOSS.WEIGHTS=[1.0, 0.1]", "TRAIN.OPTIMIZER=[ADAMW, ADAMW]",
               "TRAIN.LR=[1.0e-3, 1.0e-4]"],
}
# --networks with the bench width: smaller sizes of the networks whose BiaPy sizes take far
# more than 4 minutes per task on 2 CPU cores (HRNet W48: 65 M parameters, UNETR's ViT-Base:
# 87 M). The networks that read MODEL.FEATURE_MAPS (U-Net family, U-NeXt, NAFNet) get
# BENCH_WIDTH; the others keep BiaPy's sizes.
BENCH_SIZES: dict[str, list[str]] = {
    "hrnet": ["MODEL.HRNET.VARIANT=W18"],
    "unetr": ["MODEL.VIT_EMBED_DIM=192", "MODEL.VIT_NUM_LAYERS=6", "MODEL.VIT_NUM_HEADS=3"],
}
# Augmentation families for --augment: keys set on top of the defaults.
AUG_FAMILIES: dict[str, dict[str, object]] = {
    "default": {},
    "none": {"AUGMENTOR.ENABLE": False},
    "affine": {k: True for k in ("AUGMENTOR.ZOOM", "AUGMENTOR.RANDOM_ROT", "AUGMENTOR.SHEAR",
                                 "AUGMENTOR.SHIFT")},
    "elastic": {"AUGMENTOR.ELASTIC": True},
    "intensity": {"AUGMENTOR.BRIGHTNESS": True, "AUGMENTOR.CONTRAST": True},
    "noise": {"AUGMENTOR.GAUSSIAN_NOISE": True, "AUGMENTOR.SALT_AND_PEPPER": True},
    "blur": {k: True for k in ("AUGMENTOR.G_BLUR", "AUGMENTOR.MEDIAN_BLUR",
                               "AUGMENTOR.MOTION_BLUR")},
    "cut": {k: True for k in ("AUGMENTOR.CUTOUT", "AUGMENTOR.CUTBLUR", "AUGMENTOR.CUTMIX",
                              "AUGMENTOR.CUTNOISE", "AUGMENTOR.GRIDMASK", "AUGMENTOR.DROPOUT")},
    "sections": {"AUGMENTOR.MISALIGNMENT": True, "AUGMENTOR.MISSING_SECTIONS": True,
                 "AUGMENTOR.MS_DISPLACEMENT": 8},
}


@dataclass(frozen=True)
class Budget:
    """Training budget of one mode: epochs, patches per epoch and batch per dimensionality."""

    epochs: int
    patches_per_epoch: dict[int, int]
    batch: dict[int, int]


FULL = Budget(epochs=24, patches_per_epoch={2: 64, 3: 16}, batch={2: 8, 3: 2})
QUICK = Budget(epochs=10, patches_per_epoch={2: 48, 3: 12}, batch={2: 8, 3: 2})


@dataclass
class Score:
    """PSNR and scale-invariant PSNR, means over test images."""

    psnr: float
    si_psnr: float


@dataclass
class TaskResult:
    """One row of the table."""

    task: str
    model: Score
    identity: Score
    constant: Score
    train_s: float
    epochs: int
    best_epoch: int
    pred_mean: float
    target_mean: float
    input_mean: float
    careamics: Score | None = None
    careamics_s: float = math.nan
    careamics_mean: float = math.nan
    careamics_steps: int = 0
    guard_db: float = math.nan  # the validation guard: model minus the better baseline

    @classmethod
    def from_dict(cls, d: dict) -> TaskResult:
        """Inverse of :func:`dataclasses.asdict`."""
        scores = {k: Score(**d[k]) for k in ("model", "identity", "constant", "careamics")
                  if d.get(k) is not None}
        return cls(**{**d, **scores})

    @property
    def bias(self) -> float:
        """Relative error of the mean prediction, in percent of the mean target."""
        return 100.0 * (self.pred_mean - self.target_mean) / abs(self.target_mean)


def score(preds: list[np.ndarray], gts: list[np.ndarray]) -> Score:
    """Mean PSNR and SI-PSNR over images (:func:`i2i_nb.metrics.image_metrics`)."""
    rows = [image_metrics(p, g, ("psnr", "si_psnr")) for p, g in zip(preds, gts, strict=True)]
    return Score(float(np.mean([r["psnr"] for r in rows])),
                 float(np.mean([r["si_psnr"] for r in rows])))


def baseline_scores(task: Task) -> tuple[Score, Score, str]:
    """The engine's identity and constant baselines (:func:`i2i_nb.baselines.score_image`)
    on the test images, and the identity's name."""
    mean = np.concatenate([y.reshape(-1, y.shape[-1]) for _, y in task.train]).mean(axis=0)
    rows = [score_image(y, x, y, ("psnr", "si_psnr"), (), mean) for x, y in task.test]
    scores = [Score(float(np.mean([r[f"{k}psnr"] for r in rows])),
                    float(np.mean([r[f"{k}si_psnr"] for r in rows])))
              for k in ("input_", "constant_")]
    return scores[0], scores[1], str(rows[0]["identity"])


def bench_width(width: str, device: torch.device) -> bool:
    """Whether ``--width`` means :data:`BENCH_WIDTH` (``auto``: on the CPU)."""
    return width == "bench" or (width == "auto" and device.type != "cuda")


def network_keys(network: str, width: str, device: torch.device) -> list[str]:
    """``KEY=VALUE`` items a ``--networks`` entry adds: :data:`NETWORK_KEYS`, and
    :data:`BENCH_SIZES` with the bench width (``--set`` items come after, so they win)."""
    sizes = BENCH_SIZES.get(network, []) if bench_width(width, device) else []
    return [f"MODEL.ARCHITECTURE={network}", *NETWORK_KEYS.get(network, []), *sizes]


def task_config(task: Task, folders: dict[str, Path], budget: Budget, width: str,
                device: torch.device, overrides: dict) -> Config:
    """Defaults plus paths, NDIM, patch size and the time budget (and ``--set`` keys)."""
    values: dict = {
        "PROBLEM": {"NDIM": f"{task.ndim}D"},
        "DATA": {"PATCH_SIZE": [*task.patch, task.in_channels],
                 "TRAIN": {"PATH": str(folders["train_x"]), "GT_PATH": str(folders["train_y"])},
                 "TEST": {"PATH": str(folders["test_x"]), "GT_PATH": str(folders["test_y"])}},
        "TRAIN": {"EPOCHS": budget.epochs, "BATCH_SIZE": budget.batch[task.ndim],
                  "PATCHES_PER_EPOCH": budget.patches_per_epoch[task.ndim]},
    }
    if bench_width(width, device):
        values["MODEL"] = {"FEATURE_MAPS": BENCH_WIDTH}
    cfg = config_from_dict(values)
    return config_from_dict(overrides, base=cfg) if overrides else cfg


def run_task(task: Task, root: Path, budget: Budget, width: str, device: torch.device,
             overrides: dict, careamics: Path | None = None) -> TaskResult:
    """Write the task's data, train and test with :func:`run`, and score every baseline
    (and CAREamics, run by the python ``careamics``, when given)."""
    folders = write_task(task, root / "data")
    cfg = task_config(task, folders, budget, width, device, overrides)
    log = root / "log.txt"
    with open(log, "w") as out, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        run_result = run(cfg, root / "results", task.name, 1, device)
    names = sorted(p.name for p in folders["test_x"].iterdir())
    preds = [read_image(run_result.paths.sub("per_image") / n, task.ndim) for n in names]
    gts = [y for _, y in task.test]
    identity, constant, _ = baseline_scores(task)
    history = run_result.history
    best = min(range(len(history)), key=lambda i: history[i]["val_loss"]) + 1 if history else 0
    result = TaskResult(
        task.name,
        model=score(preds, gts),
        identity=identity, constant=constant,
        train_s=float(sum(h.get("seconds", 0.0) for h in history)),
        epochs=len(history), best_epoch=best,
        pred_mean=float(np.mean([p.mean() for p in preds])),
        target_mean=float(np.mean([g.mean() for g in gts])),
        input_mean=float(np.mean([x.mean() for x, _ in task.test])),
    )
    if "validation" in run_result.checks:
        result.guard_db = run_result.checks["validation"].gain
    if careamics is not None:
        try:
            (result.careamics, result.careamics_s, result.careamics_mean,
             result.careamics_steps) = run_careamics(task, root, budget, cfg, careamics)
        except subprocess.CalledProcessError:
            print(f"  CAREamics failed on {task.name}; see {root / 'careamics' / 'log.txt'}")
    return result


def table(results: list[TaskResult]) -> str:
    """The results as a fixed-width text table."""
    head = (f"{'task':<12} {'model':>6} {'SI':>6} | {'ident':>6} {'SI':>6} | {'const':>6} "
            f"{'SI':>6} | {'d_id':>6} {'d_SI':>6} | {'bias%':>6} {'train s':>7} {'ep':>3} "
            f"{'best':>4} {'guard':>6}")
    care = any(r.careamics is not None for r in results)
    if care:
        head += f" | {'CAREamics':>9} {'SI':>6} {'bias%':>6} {'train s':>7} {'steps':>5}"
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{r.task:<12} {r.model.psnr:6.2f} {r.model.si_psnr:6.2f} | {r.identity.psnr:6.2f} "
            f"{r.identity.si_psnr:6.2f} | {r.constant.psnr:6.2f} {r.constant.si_psnr:6.2f} | "
            f"{r.model.psnr - max(r.identity.psnr, r.constant.psnr):+6.2f} "
            f"{r.model.si_psnr - max(r.identity.si_psnr, r.constant.si_psnr):+6.2f} | "
            f"{r.bias:+6.1f} {r.train_s:7.1f} {r.epochs:3d} {r.best_epoch:4d} "
            f"{r.guard_db:+6.2f}")
        if care:
            c = r.careamics or Score(math.nan, math.nan)
            bias = 100.0 * (r.careamics_mean - r.target_mean) / abs(r.target_mean)
            lines[-1] += (f" | {c.psnr:9.2f} {c.si_psnr:6.2f} {bias:+6.1f} "
                          f"{r.careamics_s:7.1f} {r.careamics_steps:5d}")
    lines.append("PSNR in dB with BiaPy 3.7's range max(gt) - min(0, min(gt)); SI: after an "
                 "affine least-squares fit to gt;\nd_id / d_SI: model minus the better baseline; "
                 "bias%: mean prediction against mean target; best: best epoch (val loss);\n"
                 "guard: the validation check, model minus the better baseline on validation "
                 "patches (nan: no validation).")
    return "\n".join(lines)


CAREAMICS_WORKER = """
import json, sys, time
import numpy as np
import torch
from careamics import CAREamist
from careamics.config import create_advanced_care_config

spec = json.loads(open(sys.argv[1]).read())
folder = spec["folder"]
load = lambda name: np.load(f"{folder}/{name}.npy")
x, y, test = load("train_x"), load("train_y"), load("test_x")
axes = "S" + ("ZYX" if spec["ndim"] == 3 else "YX")
in_axes = axes + ("C" if spec["in_channels"] > 1 else "")
out_axes = axes + ("C" if spec["out_channels"] > 1 else "")
x = x if spec["in_channels"] > 1 else x[..., 0]
y = y if spec["out_channels"] > 1 else y[..., 0]
test = test if spec["in_channels"] > 1 else test[..., 0]
config = create_advanced_care_config(
    experiment_name=spec["name"], data_type="array", axes=in_axes, target_axes=out_axes,
    patch_size=spec["patch"], batch_size=spec["batch"], num_epochs=100_000,
    num_steps=spec["steps"], n_channels_in=spec["in_channels"],
    n_channels_out=spec["out_channels"], num_workers=0, seed=1,
    model_params={"depth": spec["depth"], "num_channels_init": spec["channels_init"]},
    trainer_params={"accelerator": "gpu" if torch.cuda.is_available() else "cpu",
                    "devices": 1, "max_steps": spec["epochs"] * spec["steps"]})
careamist = CAREamist(config, work_dir=f"{folder}/work", enable_progress_bar=False)
began = time.perf_counter()
careamist.train(train_data=x, train_data_target=y)
seconds = time.perf_counter() - began
preds, _ = careamist.predict(test, axes=in_axes, data_type="array")
flat = np.concatenate([np.asarray(p, dtype=np.float32).ravel() for p in preds])
np.save(f"{folder}/pred.npy", flat.reshape(len(test), *spec["test_shape"]))  # one channel out
done = {"seconds": seconds, "steps": careamist.trainer.global_step}
open(f"{folder}/done.json", "w").write(json.dumps(done))
"""


def careamics_python(venv: Path) -> Path:
    """The python of a CAREamics venv, created on first use (torch 2.13.0, then careamics).

    CAREamics pins its own torch range (0.3.5 pulls torch 2.11 through torchvision), so pip
    may replace the torch installed first; that venv is separate from the engine's.
    """
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating the CAREamics venv {venv} (several minutes)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "torch==2.13.0"], check=True)
        subprocess.run([*pip, "careamics"], check=True)
    return python


def run_careamics(task: Task, root: Path, budget: Budget, cfg: Config, python: Path
                  ) -> tuple[Score, float, float, int]:
    """Train and predict with CAREamics' CARE on the same pairs, U-Net size, patch, batch
    and number of steps (its epochs are one pass over its patches, so ``max_steps`` sets
    the total), its own defaults otherwise (mean/std normalisation, Adam,
    ReduceLROnPlateau, early stopping, MAE); return (score, training seconds, mean
    prediction, steps run)."""
    folder = root / "careamics"
    folder.mkdir(parents=True, exist_ok=True)
    for name, arrays in (("train_x", [x for x, _ in task.train]),
                         ("train_y", [y for _, y in task.train]),
                         ("test_x", [x for x, _ in task.test])):
        np.save(folder / f"{name}.npy", np.stack(arrays).astype(np.float32))
    maps = cfg.model.feature_maps
    batch = budget.batch[task.ndim]
    spec = {"folder": str(folder), "name": task.name, "ndim": task.ndim,
            "patch": list(task.patch), "batch": batch, "epochs": budget.epochs,
            "steps": max(1, budget.patches_per_epoch[task.ndim] // batch),
            "depth": len(maps) - 1, "channels_init": maps[0],
            "in_channels": task.in_channels, "out_channels": task.out_channels,
            "test_shape": list(task.test[0][1].shape)}
    (folder / "spec.json").write_text(json.dumps(spec))
    (folder / "worker.py").write_text(CAREAMICS_WORKER)
    with open(folder / "log.txt", "w") as log:
        subprocess.run([str(python), str(folder / "worker.py"), str(folder / "spec.json")],
                       check=True, stdout=log, stderr=subprocess.STDOUT)
    preds = list(np.load(folder / "pred.npy"))
    done = json.loads((folder / "done.json").read_text())
    return (score(preds, [y for _, y in task.test]), float(done["seconds"]),
            float(np.mean([p.mean() for p in preds])), int(done["steps"]))


def main(argv: list[str] | None = None) -> int:
    """Run the suite and print the table; ``0`` on success."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="about 3 minutes on 2 CPU cores")
    parser.add_argument("--only", default="", help=f"comma-separated tasks of: {', '.join(TASKS)}")
    parser.add_argument("--epochs", type=int, default=0, help="override the budget's epochs")
    parser.add_argument("--out", default="", help="keep data and runs here (default: a temp dir)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set MODEL.RESIDUAL=True")
    parser.add_argument("--width", choices=("auto", "bench", "default"), default="auto",
                        help="U-Net filters: auto = default on CUDA, 16-128 on the CPU")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch intra-op threads (0: torch's default; 1 is far faster "
                        "on a machine that other jobs keep busy)")
    parser.add_argument("--networks", default="",
                        help="comma-separated MODEL.ARCHITECTURE values: a row per network "
                        "and task, each with its NETWORK_KEYS (and BENCH_SIZES with the bench "
                        "width); default: the config's network")
    parser.add_argument("--json", default="", help="also write the results as JSON here")
    parser.add_argument("--augment", default="",
                        help=f"comma-separated augmentation families: {', '.join(AUG_FAMILIES)}")
    parser.add_argument("--table", nargs="+", default=[], metavar="JSON",
                        help="only print the table of results saved by earlier --json runs")
    parser.add_argument("--careamics", action="store_true",
                        help="also train CAREamics' CARE on the same tasks and budget")
    parser.add_argument("--careamics-venv", default=str(Path.home() / ".cache" / "i2i_nb" /
                                                        "careamics-venv"),
                        help="venv for CAREamics (created when missing)")
    args = parser.parse_args(argv)
    if args.table:
        saved = [TaskResult.from_dict(r) for f in args.table
                 for r in json.loads(Path(f).read_text())["results"]]
        print(table(saved))
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(TASKS)
    unknown = [n for n in names if n not in TASKS]
    if unknown:
        parser.error(f"unknown task(s) {unknown}; choose from {', '.join(TASKS)}")
    budget = QUICK if args.quick else FULL
    if args.epochs:
        budget = Budget(args.epochs, budget.patches_per_epoch, budget.batch)
    overrides = parse_overrides(args.set)
    families = [f.strip() for f in args.augment.split(",") if f.strip()]
    if any(f not in AUG_FAMILIES for f in families):
        parser.error(f"unknown --augment family; choose from {', '.join(AUG_FAMILIES)}")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device {device}, threads {torch.get_num_threads()}, epochs {budget.epochs}, "
          f"patches/epoch {budget.patches_per_epoch}, batch {budget.batch}, width {args.width}"
          + (f", overrides {overrides}" if overrides else ""), flush=True)
    networks = [n.strip() for n in args.networks.split(",") if n.strip()] or [""]
    keys = {n: network_keys(n, args.width, device)[1:] for n in networks if n}
    for network, items in keys.items():
        if items:
            print(f"  {network}: {' '.join(items)}" + (", then --set" if args.set else ""),
                  flush=True)
    began = time.perf_counter()
    python = careamics_python(Path(args.careamics_venv)) if args.careamics else None
    results, notes = [], []
    with contextlib.ExitStack() as stack:
        out = Path(args.out) if args.out else Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="i2i_quality_")))
        for name, network in ((n, a) for n in names for a in networks):
            task = TASKS[name]()
            notes += task.notes
            for family in families or [""]:
                base = (parse_overrides([*network_keys(network, args.width, device), *args.set])
                        if network else overrides)
                extra = {**base, **AUG_FAMILIES[family]} if family else dict(base)
                result = run_task(task, out / name / network / family, budget, args.width,
                                  device, extra, python)
                result.task = (name + (f":{network}" if network else "")
                               + (f" [{family}]" if family else ""))
                results.append(result)
                print(f"  {result.task}: PSNR {result.model.psnr:.2f} dB (identity "
                      f"{result.identity.psnr:.2f}), {result.train_s:.0f} s", flush=True)
    print()
    print(table(results))
    for note in notes:
        print(f"note: {note}")
    print(f"total {time.perf_counter() - began:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"budget": asdict(budget), "width": args.width, "overrides": overrides,
             "network_keys": keys,
             "device": str(device), "results": [asdict(r) for r in results]}, indent=1))
    return 0 if all(math.isfinite(r.model.psnr) for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
