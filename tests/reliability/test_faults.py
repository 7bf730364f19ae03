"""Unattended fault test: real command-line runs killed with SIGKILL at random moments of
training and of prediction, many times in a row.

After every kill, each file under its final name in the results tree is complete: a
checkpoint loads and its history is the start of the undisturbed run's, every image
equals the undisturbed run's image, every CSV is a prefix (train log) or the whole (test
metrics) of the undisturbed run's. Each killed run is then continued (``--resume`` once
a last checkpoint exists, else started again; prediction is simply run again) until one
finishes; its outputs must be identical to the undisturbed run's. A quarter of the
kills come at any moment after the start, the others at a random moment after the checks
(once the run holds its lock and writes). Kills are counted and printed.

``I2I_FAULT_KILLS`` sets the kills per phase (default 12, which the CI runs: about a
minute on one core); ``I2I_FAULT_SEED`` replays a sequence of kill moments.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
import yaml

from i2i_nb.checkpoint import load_checkpoint
from i2i_nb.config import to_plain
from tests.integration.conftest import tiny_config, write_pairs

REPO = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("I2I_FAULT_KILLS", "12"))
SEED = int(os.environ.get("I2I_FAULT_SEED", str(time.time_ns() % 10**6)))
SKIPPED = ("tensorboard", "run_record.json")  # appended event files; the last call's record


class Zygote:
    """The forking server of :mod:`tests.reliability.zygote`."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.zygote"], cwd=REPO, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)})

    def _answer(self, key: str) -> int:
        line = self.process.stdout.readline()
        assert line, "the zygote ended"
        return json.loads(line)[key]

    def start(self, args: list[str], log: Path) -> int:
        """Fork a run of ``i2i-nb args``; its PID."""
        self.process.stdin.write(json.dumps({"args": args, "log": str(log)}) + "\n")
        self.process.stdin.flush()
        return self._answer("pid")

    def wait(self) -> int:
        """The exit status of the run last started (negative: killed by that signal)."""
        return self._answer("status")

    def run(self, args: list[str], log: Path, kill_after: float | None = None,
            origin: Path | None = None) -> int:
        """Run, SIGKILL it ``kill_after`` seconds after the fork, or after ``origin`` appears
        (the run's lock: its checks are done, it writes), unless it ended; wait."""
        pid = self.start(args, log)
        if kill_after is not None:
            deadline = time.monotonic() + 2 * kill_after + 5
            while origin is not None and not origin.exists() and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(kill_after)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return self.wait()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


@pytest.fixture(scope="module")
def zygote() -> Zygote:
    server = Zygote()
    yield server
    server.close()


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny data, a train-then-test config and a prediction-only config."""
    root = tmp_path_factory.mktemp("faults")
    write_pairs(root / "data", "train", 4, (32, 32), seed=1)
    write_pairs(root / "data", "test", 8, (40, 40), seed=2)
    train = tiny_config(root / "data", TRAIN={"EPOCHS": 6, "PATCHES_PER_EPOCH": 16})
    (root / "train.yaml").write_text(yaml.safe_dump(to_plain(train)))
    return {"root": root, "train": root / "train.yaml"}


def args_of(config: Path, result_dir: Path, *extra: str) -> list[str]:
    return ["--config", str(config), "--result_dir", str(result_dir), "--name", "job",
            "--gpu", "cpu", *extra]


def visible(tree: Path) -> dict[str, Path]:
    """Files under their final names (no dot-files: temporaries, the lock)."""
    return {str(p.relative_to(tree)): p for p in sorted(tree.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(tree).parts)
            and not any(s in str(p) for s in SKIPPED)}


def _history(payload: dict) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in payload["history"]]


def _log_rows(path: Path) -> list[dict]:
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert rows == [] or list(rows[0]) == ["epoch", "loss", "val_loss", "val_psnr", "lr",
                                           "seconds"], path
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def check_tree(tree: Path, reference: Path, finished: bool) -> None:
    """Every visible file is complete and agrees with the undisturbed run's; ``finished``:
    the same files as the undisturbed run, each identical."""
    mine, theirs = visible(tree), visible(reference)
    assert set(mine) <= set(theirs), sorted(set(mine) - set(theirs))
    if finished:
        assert set(mine) == set(theirs), sorted(set(theirs) - set(mine))
    for name, path in mine.items():
        other = theirs[name]
        if path.suffix == ".pth":
            got, want = load_checkpoint(path), load_checkpoint(other)
            assert _history(got) == _history(want)[: len(got["history"])], name
            if finished or got["epoch"] == want["epoch"]:
                assert got["epoch"] == want["epoch"], name
                for key, tensor in want["model"].items():
                    assert torch.equal(got["model"][key], tensor), f"{name}: {key}"
        elif path.suffix == ".tif":
            np.testing.assert_array_equal(tifffile.imread(path), tifffile.imread(other), name)
        elif name.endswith("_log.csv"):
            got_rows, want_rows = _log_rows(path), _log_rows(other)
            assert got_rows == want_rows[: len(got_rows)], name
            assert not finished or len(got_rows) == len(want_rows), name
        elif path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.read_bytes()[-8:] \
                == other.read_bytes()[-8:], name  # complete: ends with the IEND chunk
        else:  # config_files/*.yaml, test_metrics.csv
            assert path.read_bytes() == other.read_bytes(), name


MOMENTS: dict[str, Counter] = {}  # where the kills landed, per phase


def _moment(tree: Path) -> str:
    """What the killed run had got to, judged by the files it left."""
    last = tree / "checkpoints" / "job_1-checkpoint-last.pth"
    images = list((tree / "results" / "job_1" / "per_image").glob("*.tif"))
    if images:
        return "while predicting"
    if last.exists():
        return "while training (resumable)"
    return "before the first checkpoint" if (tree / "config_files").exists() else "in the checks"


def kill_repeatedly(zygote: Zygote, args: list[str], resume: list[str], tree: Path,
                    reference: Path, duration: float, rng: random.Random,
                    restart: bool) -> tuple[int, int]:
    """Kill runs at random moments until ``KILLS`` kills; after each kill check the tree,
    continue until a run finishes, compare. ``restart``: after a finished run, begin again
    from an empty tree. Returns the kills and the finished runs."""
    kills = finished = 0
    moments = MOMENTS.setdefault(tree.parent.name, Counter())
    log = tree.parent.parent / f"{tree.parent.name}.log"
    while kills < KILLS:
        last = tree / "checkpoints" / "job_1-checkpoint-last.pth"
        again = resume if last.exists() else []
        began = time.monotonic()
        origin = None if rng.random() < 0.25 else tree / ".job_1.lock"  # a quarter: any time
        status = zygote.run(args + again, log, rng.uniform(0, duration), origin)
        if status == -signal.SIGKILL:
            kills += 1
            check_tree(tree, reference, finished=False)
            moments[_moment(tree)] += 1
            continue
        assert status == 0, log.read_text()
        check_tree(tree, reference, finished=True)
        assert not [p for p in tree.rglob(".*.tmp") if "config_files" not in str(p)]
        finished += 1
        if not again:  # the kill came too late: aim within this (whole) run's time
            duration = min(duration, time.monotonic() - began)
        if restart:
            for path in sorted(tree.rglob("*"), reverse=True):
                path.unlink() if path.is_file() or path.is_symlink() else path.rmdir()
    while True:  # finish the last interrupted run
        last = tree / "checkpoints" / "job_1-checkpoint-last.pth"
        status = zygote.run(args + (resume if last.exists() else []), log)
        assert status == 0, log.read_text()
        check_tree(tree, reference, finished=True)
        return kills, finished + 1


@pytest.mark.slow
def test_sigkill_during_training_and_prediction_then_resume_gives_identical_outputs(
        zygote, job):
    rng = random.Random(SEED)
    print(f"fault test: I2I_FAULT_SEED={SEED}")
    root = job["root"]
    began = time.monotonic()
    assert zygote.run(args_of(job["train"], root / "ref"), root / "ref.log") == 0, \
        (root / "ref.log").read_text()
    duration = time.monotonic() - began
    reference = root / "ref" / "job"

    kills, runs = kill_repeatedly(zygote, args_of(job["train"], root / "killed"),
                                  ["--resume"], root / "killed" / "job", reference, duration,
                                  rng, restart=True)

    predict = tiny_config(root / "data", TRAIN={"ENABLE": False},
                          MODEL={"LOAD_CHECKPOINT": True},
                          PATHS={"CHECKPOINT_FILE": str(reference / "checkpoints" /
                                                        "job_1-checkpoint-best.pth")})
    (root / "predict.yaml").write_text(yaml.safe_dump(to_plain(predict)))
    began = time.monotonic()
    assert zygote.run(args_of(root / "predict.yaml", root / "pref"), root / "pref.log") == 0
    duration = time.monotonic() - began
    predicted = root / "pref" / "job"
    for name, path in visible(predicted / "results").items():  # as predicted after training
        if "per_image" not in name and not name.endswith("test_metrics.csv"):
            continue  # quality_check.json: a prediction-only run has no validation part
        other = reference / "results" / name
        assert np.array_equal(tifffile.imread(path), tifffile.imread(other)) \
            if path.suffix == ".tif" else path.read_bytes() == other.read_bytes(), name
    pred_kills, pred_runs = kill_repeatedly(zygote, args_of(root / "predict.yaml",
                                                            root / "pkilled"), [],
                                            root / "pkilled" / "job", predicted, duration,
                                            rng, restart=True)
    print(f"fault test (I2I_FAULT_SEED={SEED}): {kills} kills survived during training "
          f"({runs} finished runs identical to the undisturbed one), {pred_kills} during "
          f"prediction ({pred_runs} finished runs identical); where they landed: "
          f"{ {phase: dict(c) for phase, c in MOMENTS.items()} }")
    assert kills >= KILLS and pred_kills >= KILLS
