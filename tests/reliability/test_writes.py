"""The results tree under stress: operating-system failures while writing, two runs into
one tree, interrupts of prediction, and oddities in the data that must not pass silently.

OS failures are those of the real calls (a name too long for the file system) or the
real errno raised from the write itself (disk full, read-only file system, permission:
tests run as root, where permissions and read-only bind mounts cannot be set up).
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

import i2i_nb.checkpoint
import i2i_nb.experiment
import i2i_nb.files
from i2i_nb.checkpoint import load_checkpoint
from i2i_nb.errors import ConfigError
from i2i_nb.experiment import run
from i2i_nb.runlock import run_lock
from tests.integration.conftest import tiny_config, write_pairs
from tests.reliability.test_bad_input import cli, image, imwrite

CPU = torch.device("cpu")
REPO = Path(__file__).resolve().parents[2]


def one_error(capsys: pytest.CaptureFixture[str]) -> str:
    """The single ``error:`` line of stderr (no traceback, nothing chained)."""
    err = capsys.readouterr().err
    assert "Traceback" not in err and "During handling" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


def no_temporary_files(root: Path) -> None:
    assert not [p for p in root.rglob("*.tmp")], sorted(root.rglob("*.tmp"))


# ---------------------------------------------------------------- OS failures --------------

@pytest.mark.parametrize(("code", "advice"), [
    (errno.ENOSPC, "the disk is full"),
    (errno.EROFS, "the file system is read-only"),
    (errno.EACCES, "permission denied"),
    (errno.EDQUOT, "the disk quota is exceeded"),
])
def test_failure_of_the_first_write_is_one_message(code, advice, data, tmp_path, capsys,
                                                   monkeypatch):
    def refuse(src: str, dst: str) -> None:
        raise OSError(code, os.strerror(code), src)

    monkeypatch.setattr(i2i_nb.files.os, "replace", refuse)
    assert cli(tmp_path, tiny_config(data, TRAIN={"EPOCHS": 1})) == 2
    line = one_error(capsys)
    final = tmp_path / "out/job/config_files/config.yaml"
    assert line == f"error: cannot write {final}: {os.strerror(code)} ({advice}: " + (
        "free some space or choose another --result_dir)" if code in (errno.ENOSPC, errno.EDQUOT)
        else "choose another --result_dir)" if code == errno.EROFS
        else "choose a folder you may write to (--result_dir))"), line
    no_temporary_files(tmp_path)


def test_disk_full_while_checkpointing_keeps_the_last_good_checkpoint(data, tmp_path, capsys,
                                                                      monkeypatch):
    save, calls = i2i_nb.checkpoint.torch.save, []

    def fills_up(payload: dict, handle: object) -> None:
        calls.append(payload["epoch"])
        if payload["epoch"] >= 2:  # the disk fills up during epoch 3
            handle.write(b"\0" * 100)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        save(payload, handle)

    monkeypatch.setattr(i2i_nb.checkpoint.torch, "save", fills_up)
    assert cli(tmp_path, tiny_config(data, TRAIN={"EPOCHS": 4})) == 2
    line = one_error(capsys)
    checkpoints = tmp_path / "out/job/checkpoints"
    assert line.startswith(f"error: cannot write {checkpoints}/job_1-checkpoint-"), line
    assert "No space left on device (the disk is full" in line
    assert load_checkpoint(checkpoints / "job_1-checkpoint-last.pth")["epoch"] == 1
    no_temporary_files(tmp_path)


def test_result_dir_name_too_long_for_the_file_system(data, tmp_path, capsys):
    long = tmp_path / ("r" * 300)
    assert cli(tmp_path, tiny_config(data, TRAIN={"EPOCHS": 1}), result_dir=long) == 2
    line = one_error(capsys)
    assert f"cannot write {long}" in line and "File name too long" in line, line
    assert "(the file name is too long: choose a shorter --name or --result_dir)" in line


def test_predicted_image_that_cannot_be_written(data, tmp_path, capsys, monkeypatch):
    replace = os.replace

    def per_image_read_only(src: str, dst: str) -> None:
        if "per_image" in str(dst):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), src)
        replace(src, dst)

    monkeypatch.setattr(i2i_nb.files.os, "replace", per_image_read_only)
    assert cli(tmp_path, tiny_config(data, TRAIN={"EPOCHS": 1})) == 2
    line = one_error(capsys)
    assert f"cannot write {tmp_path}/out/job/results/job_1/per_image/img-000.tif" in line
    assert load_checkpoint(tmp_path / "out/job/checkpoints/job_1-checkpoint-best.pth")
    no_temporary_files(tmp_path)


# ---------------------------------------------------------------- one run at a time --------

def test_a_second_run_into_the_same_name_and_run_id_is_refused(data, tmp_path, capsys):
    """A live process holds the lock (a real second process); the CLI is refused, naming
    its PID, and writes nothing; once it has ended, the same command runs."""
    lock = tmp_path / "out/job/.job_1.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from i2i_nb.runlock import run_lock\n"
         f"with run_lock(Path({str(lock)!r}), 'x'):\n"
         "    print('held', flush=True); sys.stdin.read()"],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        cfg = tiny_config(data, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False})
        assert cli(tmp_path, cfg) == 2
        line = one_error(capsys)
        assert (f"--name job --run_id 1: another run (process {holder.pid}) is writing into "
                "this results tree now") in line, line
        assert not (tmp_path / "out/job/config_files").exists()
        assert cli(tmp_path, cfg, "--run_id", "2") == 0  # another run id is free
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert not lock.exists()
    assert cli(tmp_path, cfg) == 0
    assert not lock.exists()


def test_a_lock_left_by_a_killed_process_is_taken_over(data, tmp_path):
    lock = tmp_path / "out/job/.job_1.lock"
    lock.parent.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(f'{{"pid": {dead.pid}, "host": "here"}}')
    cfg = tiny_config(data, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False})
    run(cfg, tmp_path / "out", "job", 1, CPU)
    assert not lock.exists()


def test_the_same_process_cannot_run_twice_into_one_tree(data, tmp_path):
    """The notebook runs training in a thread: a second call while one runs is refused."""
    cfg = tiny_config(data, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False})
    with run_lock(tmp_path / "out/job/.job_1.lock", "first"), \
            pytest.raises(ConfigError, match=f"process {os.getpid()}"):
        run(cfg, tmp_path / "out", "job", 1, CPU)


# ---------------------------------------------------------------- interrupts ---------------

def test_interrupt_of_a_prediction_only_run_does_not_advise_resume(data, tmp_path, capsys,
                                                                  monkeypatch):
    trained = run(tiny_config(data, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False}),
                  tmp_path / "src", "src", 1, CPU).paths.checkpoint("best")

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(i2i_nb.experiment, "predict_pairs", interrupted)
    cfg = tiny_config(data, TRAIN={"ENABLE": False}, MODEL={"LOAD_CHECKPOINT": True},
                      PATHS={"CHECKPOINT_FILE": str(trained)})
    assert cli(tmp_path, cfg) == 130
    err = capsys.readouterr().err
    assert "interrupted: images predicted so far are kept" in err
    assert "--resume" not in err and "checkpoint" not in err


# ---------------------------------------------------------------- no longer silent ---------

def test_links_and_sub_folders_in_a_data_folder_are_named(data, tmp_path):
    x = data / "train/x"
    (x / "dangling.tif").symlink_to(tmp_path / "gone.tif")
    (x / "loop.tif").symlink_to(x / "loop.tif")
    (x / "old_run").mkdir()
    cfg = tiny_config(data, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False})
    with pytest.warns(UserWarning) as record:
        run(cfg, tmp_path / "out", "job", 1, CPU)
    messages = [str(w.message) for w in record]
    assert any("ignoring 2 link(s) that lead to no file (dangling or looping): dangling.tif, "
               "loop.tif" in m for m in messages), messages
    assert any("ignoring 1 sub-folder(s)" in m and "old_run" in m for m in messages), messages


def test_test_inputs_of_another_dtype_than_the_training_inputs_warn(data, tmp_path):
    for path in sorted((data / "test/x").iterdir()):
        imwrite(path, image(np.uint8))
    with pytest.warns(UserWarning, match=r"2 test input\(s\) are not float32 like the training "
                      r"inputs: .*img-000.tif is uint8; they are normalised with the "
                      "statistics of the training inputs"):
        run(tiny_config(data, TRAIN={"EPOCHS": 1}), tmp_path / "out", "job", 1, CPU)


def test_test_dtype_warning_for_a_prediction_only_run(data, tmp_path):
    trained = run(tiny_config(data, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False}),
                  tmp_path / "src", "src", 1, CPU).paths.checkpoint("best")
    for path in sorted((data / "test/x").iterdir()):
        imwrite(path, image(np.uint16))
    cfg = tiny_config(data, TRAIN={"ENABLE": False}, MODEL={"LOAD_CHECKPOINT": True},
                      PATHS={"CHECKPOINT_FILE": str(trained)})
    with pytest.warns(UserWarning, match="are not float32 like the training inputs"):
        run(cfg, tmp_path / "out", "job", 1, CPU)


def test_extra_pages_of_a_multi_page_tiff_warn(data, tmp_path):
    path = data / "test/x/img-001.tif"
    with tifffile.TiffWriter(path) as tif:
        tif.write(image(np.float32), photometric="minisblack")
        tif.write(image(np.float32, (12, 12)), photometric="minisblack")
    with pytest.warns(UserWarning, match=r"img-001.tif: the file holds 2 pages; only the first "
                      r"image, 1 page\(s\) of shape \(24, 24\), is read and 1 other page"):
        run(tiny_config(data, TRAIN={"EPOCHS": 1}), tmp_path / "out", "job", 1, CPU)


def test_one_large_image_shows_progress_per_tile(data, tmp_path, capsys):
    for split in ("x", "y"):
        for path in sorted((data / "test" / split).iterdir()):
            path.unlink()
    write_pairs(data / "big", "test", 1, (160, 160), seed=4)  # >= MANY_TILES tiles of 16
    for split in ("x", "y"):
        (data / "big/test" / split / "img-000.tif").rename(data / "test" / split / "img-000.tif")
    cfg = tiny_config(data, TRAIN={"EPOCHS": 1},
                      DATA={"TEST": {"TILE_SHAPE": [16, 16], "PATH": str(data / "test/x"),
                                     "GT_PATH": str(data / "test/y")}})
    assert cli(tmp_path, cfg) == 0
    err = capsys.readouterr().err.replace("\r", "\n")
    totals = {int(m) for m in re.findall(r"tiles:\s+\d+%\|[^|]*\| \d+/(\d+) ", err)}
    assert len(totals) == 1 and totals.pop() >= 64, err


def test_temporaries_left_by_a_killed_run_are_removed_by_the_next(data, tmp_path):
    root = tmp_path / "out/job"
    stale = [root / "checkpoints/.job_1-checkpoint-last.pth.0123456789ab.tmp",
             root / "results/job_1/per_image/.img-000.tif.0123456789ab.tmp"]
    other = root / "checkpoints/.job_2-checkpoint-last.pth.0123456789ab.tmp"  # another run's
    for path in [*stale, other]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    run(tiny_config(data, TRAIN={"EPOCHS": 1}), tmp_path / "out", "job", 1, CPU)
    assert not any(p.exists() for p in stale) and other.exists()


def test_names_that_fit_only_without_the_temporary_suffix_are_written(data, tmp_path):
    """A job name and an image name so long that ``.<name>.<random>.tmp`` would pass the
    file system's 255 bytes: the temporary name is shortened, the files are written."""
    name = "n" * (255 - len("_1-checkpoint-best.pth"))
    long_input = "i" * 251 + ".tif"
    for split in ("x", "y"):
        (data / "test" / split / "img-000.tif").rename(data / "test" / split / long_input)
    result = run(tiny_config(data, TRAIN={"EPOCHS": 1}), tmp_path / "out", name, 1, CPU)
    assert len(result.paths.checkpoint("best").name) == 255
    assert result.paths.checkpoint("best").is_file()
    assert (result.paths.sub("per_image") / long_input).is_file()
    no_temporary_files(tmp_path)


def test_resume_rewrites_a_log_that_lost_its_last_line(data, tmp_path):
    """A run killed between its last checkpoint and its log line (found by the fault test):
    ``--resume`` of the finished epochs writes the whole log again."""
    cfg = tiny_config(data, TRAIN={"EPOCHS": 2}, TEST={"ENABLE": False})
    result = run(cfg, tmp_path / "out", "job", 1, CPU)
    log = result.paths.sub("train_logs") / "job_1_log.csv"
    whole = log.read_text()
    log.write_text("\n".join(whole.splitlines()[:2]) + "\n")  # header and epoch 1 only
    run(cfg, tmp_path / "out", "job", 1, CPU, resume=True)
    assert log.read_text().splitlines()[:3] == whole.splitlines()[:3]
    assert len(log.read_text().splitlines()) == 3
