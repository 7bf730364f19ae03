"""Round two of hostile input: whatever would fail fails in the checks, before training and
before anything is written (no results tree, or the existing one left byte for byte).

Through the real command line (``i2i_nb.cli.main``: exit code 2 and one ``error: ...``
line on stderr, never a traceback) and, where the notebooks meet it, the notebook layer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from i2i_nb.config import Config, to_plain
from i2i_nb.errors import ConfigError, DataError
from i2i_nb.experiment import run
from tests.integration.conftest import tiny_config, write_pairs
from tests.reliability.test_bad_input import SHAPE, cli, image, imwrite, listing, refused

CPU = torch.device("cpu")


def nothing_written(tmp_path: Path) -> None:
    assert not (tmp_path / "out").exists(), sorted((tmp_path / "out").rglob("*"))


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes."""
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- --resume -----------------

@pytest.fixture
def trained_job(data: Path, tmp_path: Path) -> Path:
    """A finished one-epoch CLI run ``job`` (its results tree in ``out/job``)."""
    cfg = tiny_config(data, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False})
    assert cli(tmp_path, cfg) == 0
    return tmp_path / "out" / "job"


@pytest.mark.parametrize(("section", "change", "named"), [
    ("MODEL", {"FEATURE_MAPS": [8, 16]}, "MODEL.FEATURE_MAPS: the checkpoint has [4, 8], "
                                         "now [8, 16]"),
    ("MODEL", {"ARCHITECTURE": "resunet"}, "MODEL.ARCHITECTURE: the checkpoint has unet, "
                                           "now resunet"),
    ("MODEL", {"NORMALIZATION": "bn"}, "MODEL.NORMALIZATION: the checkpoint has none, now bn"),
    ("TRAIN", {"OPTIMIZER": "sgd"}, "TRAIN.OPTIMIZER: the checkpoint has adamw, now sgd"),
])
def test_resume_with_another_config_is_refused_before_anything_is_written(
        section, change, named, data, tmp_path, capsys, trained_job):
    before = snapshot(trained_job)
    train = {"EPOCHS": 2, **(change if section == "TRAIN" else {})}
    sections = {} if section == "TRAIN" else {section: change}
    cfg = tiny_config(data, TRAIN=train, TEST={"ENABLE": False}, **sections)
    capsys.readouterr()
    assert cli(tmp_path, cfg, "--resume") == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "size mismatch" not in err
    assert "--resume: the config does not match the checkpoint" in err
    assert named in err, err
    assert snapshot(trained_job) == before  # config_files/, run_record.json, checkpoints


def test_resume_with_another_channel_count_names_the_data(data, tmp_path, capsys, trained_job):
    write_pairs(data, "train", 4, SHAPE, seed=1, in_channels=2)
    before = snapshot(trained_job)
    cfg = tiny_config(data, TRAIN={"EPOCHS": 2}, TEST={"ENABLE": False})
    capsys.readouterr()
    assert cli(tmp_path, cfg, "--resume") == 2
    err = capsys.readouterr().err
    assert "input channels (DATA.TRAIN.PATH): the checkpoint has 1, now 2" in err
    assert snapshot(trained_job) == before


def test_resume_with_nothing_to_resume(data, tmp_path, capsys):
    cfg = tiny_config(data, TEST={"ENABLE": False})
    assert cli(tmp_path, cfg, "--resume") == 2
    err = capsys.readouterr().err
    assert "--resume: nothing to resume, there is no checkpoint at" in err
    assert "job_1-checkpoint-last.pth" in err
    nothing_written(tmp_path)


def test_resume_of_a_prediction_only_run(data, tmp_path, capsys, trained_job):
    cfg = tiny_config(data, TRAIN={"ENABLE": False}, MODEL={"LOAD_CHECKPOINT": True})
    assert cli(tmp_path, cfg, "--resume") == 2
    assert "--resume continues training, but TRAIN.ENABLE is False" in capsys.readouterr().err


def test_resume_through_the_notebook_layer_is_refused_too(data, tmp_path, trained_job):
    pytest.importorskip("ipywidgets")
    from i2i_nb.notebook.training import train

    before = snapshot(trained_job)
    cfg = tiny_config(data, MODEL={"FEATURE_MAPS": [8, 16]}, TEST={"ENABLE": False})
    with pytest.raises(ConfigError, match=r"MODEL.FEATURE_MAPS: the checkpoint has \[4, 8\]"):
        asyncio.run(train(cfg, tmp_path / "out", "job", 1, "cpu", resume=True))
    assert snapshot(trained_job) == before


# ---------------------------------------------------------------- devices ------------------

@pytest.mark.parametrize(("gpu", "fragment"), [
    ("cdua:0", "'cdua:0' is not a device"),
    ("-1", "'-1' is not a device"),
    ("gpu", "'gpu' is not a device"),
    ("cuda:x", "'cuda:x' is not a device"),
    ("cpu:0", "'cpu:0' is not a device"),
    ("mps", "mps (Apple's GPU) is not available"),
    ("cuda:99", "CUDA is not available" if not torch.cuda.is_available() else "no GPU 99"),
])
def test_device_strings_are_refused_before_the_results_tree(gpu, fragment, data, tmp_path,
                                                            capsys):
    if gpu == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has an Apple GPU")
    cfg = tiny_config(data)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(to_plain(cfg)))
    from i2i_nb.cli import main

    code = main(["--config", str(tmp_path / "config.yaml"), "--result_dir",
                 str(tmp_path / "out"), "--name", "job", "--gpu", gpu])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"error: --gpu {gpu}" in err.replace("'", "") or f"--gpu {gpu!r}" in err, err
    assert fragment in err, err
    nothing_written(tmp_path)


# ---------------------------------------------------------------- settings -----------------

def test_zero_epochs_is_refused(data, tmp_path, capsys):
    refused(tmp_path, data, capsys, tiny_config(data, TRAIN={"EPOCHS": 0}),
            "TRAIN.EPOCHS: 0 trains nothing")
    nothing_written(tmp_path)


def test_checkpoint_file_without_load_checkpoint_names_load_checkpoint(data, tmp_path, capsys):
    cfg = tiny_config(data, TRAIN={"ENABLE": False},
                      PATHS={"CHECKPOINT_FILE": str(tmp_path / "model.pth")})
    message = refused(tmp_path, data, capsys, cfg, "MODEL.LOAD_CHECKPOINT is False",
                      "set MODEL.LOAD_CHECKPOINT: True")
    assert "set PATHS.CHECKPOINT_FILE" not in message
    nothing_written(tmp_path)


def test_checkpoint_file_ignored_by_training_says_so(data, tmp_path):
    cfg = tiny_config(data, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False},
                      PATHS={"CHECKPOINT_FILE": str(tmp_path / "model.pth")})
    with pytest.warns(UserWarning, match="PATHS.CHECKPOINT_FILE .* is ignored: "
                      "MODEL.LOAD_CHECKPOINT is False"):
        run(cfg, tmp_path / "out", "job", 1, CPU)


def test_nothing_enabled_is_refused(data, tmp_path, capsys):
    refused(tmp_path, data, capsys, tiny_config(data, TRAIN={"ENABLE": False},
                                                TEST={"ENABLE": False}), "nothing to do")
    nothing_written(tmp_path)


# ---------------------------------------------------------------- data, in one report ------

def test_test_images_smaller_than_the_ssim_window_fail_before_training(data, tmp_path, capsys):
    for path in sorted((data / "test").rglob("*.tif")):
        imwrite(path, image(np.uint16, (2, 24)))
    refused(tmp_path, data, capsys, tiny_config(data), "test/x/img-000.tif: spatial shape "
            "(2, 24) is smaller than the 3 pixels per axis SSIM needs",
            "DATA.TEST.LOAD_GT: False")
    nothing_written(tmp_path)


def test_training_validation_and_test_problems_come_in_one_report(data, tmp_path, capsys):
    bad = image()
    bad[1, 1] = np.nan
    imwrite(data / "train/x/img-002.tif", bad)
    write_pairs(data, "val", 2, SHAPE, seed=3)
    (data / "val/y/img-001.tif").unlink()
    (data / "test/y/img-000.tif").unlink()
    cfg = tiny_config(data, DATA={"VAL": {"FROM_TRAIN": False, "PATH": str(data / "val/x"),
                                          "GT_PATH": str(data / "val/y")}})
    message = refused(tmp_path, data, capsys, cfg, "problems in 3 parts of the data",
                      "training data (DATA.TRAIN.PATH, GT_PATH):",
                      "train/x/img-002.tif: contains 1 NaN",
                      "validation data (DATA.VAL.PATH, GT_PATH):", "val/y has 1",
                      "test data (DATA.TEST.PATH, GT_PATH):", "test/y has 1")
    assert (message.index("training data") < message.index("validation data")
            < message.index("test data"))
    nothing_written(tmp_path)


def test_test_inputs_with_other_channels_than_the_training_inputs(data, tmp_path, capsys):
    write_pairs(data, "test", 2, SHAPE, seed=2, in_channels=3)
    refused(tmp_path, data, capsys, tiny_config(data),
            "test/x/img-000.tif: has 3 channel(s); the training inputs have 1")
    nothing_written(tmp_path)


def test_patch_not_divisible_writes_nothing(data, tmp_path, capsys):
    refused(tmp_path, data, capsys, tiny_config(data, DATA={"PATCH_SIZE": [16, 17]}),
            "DATA.PATCH_SIZE: (16, 17) must be a multiple of (2, 2)")
    nothing_written(tmp_path)


# ---------------------------------------------------------------- names --------------------

@pytest.mark.parametrize("name", ["..", ".", "", "a/b", "../escape", "a\\b"])
def test_name_with_path_parts_is_refused(name, data, tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(to_plain(tiny_config(data, TRAIN={"EPOCHS": 1}))))
    from i2i_nb.cli import main

    before = listing(tmp_path)
    code = main(["--config", str(path), "--result_dir", str(tmp_path / "out"), "--name", name,
                 "--gpu", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "a job name must be a plain folder name" in err, err
    assert listing(tmp_path) == before


def test_name_too_long_for_the_file_system_is_refused(data, tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(to_plain(tiny_config(data, TRAIN={"EPOCHS": 1}))))
    from i2i_nb.cli import main

    code = main(["--config", str(path), "--result_dir", str(tmp_path / "out"), "--name",
                 "n" * 240, "--gpu", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "too long (240 characters)" in err and "shorter --name" in err, err
    nothing_written(tmp_path)


def test_every_check_runs_through_run_too(data, tmp_path):
    """The Python entry point (the notebooks' path) refuses the same way."""
    with pytest.raises(DataError, match="spatial shape"):
        cfg: Config = tiny_config(data)
        for path in sorted((data / "test").rglob("*.tif")):
            imwrite(path, image(np.uint16, (24, 1)))
        run(cfg, tmp_path / "out", "job", 1, CPU)
    nothing_written(tmp_path)


# ---------------------------------------------------------------- config files -------------

def _config_bytes(tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]
                  ) -> tuple[int, str]:
    from i2i_nb.cli import main

    path = tmp_path / "config.yaml"
    path.write_bytes(content)
    code = main(["--config", str(path), "--result_dir", str(tmp_path / "out"), "--name", "job",
                 "--gpu", "cpu"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-8-sig", "utf-32"])
def test_config_saved_as_utf16_or_with_a_bom_is_read(codec, data, tmp_path, capsys):
    text = yaml.safe_dump(to_plain(tiny_config(data, TRAIN={"EPOCHS": 1},
                                               TEST={"ENABLE": False})))
    code, err = _config_bytes(tmp_path, text.encode(codec), capsys)
    assert code == 0, err
    assert (tmp_path / "out/job/checkpoints/job_1-checkpoint-best.pth").is_file()


def test_config_in_latin1_names_the_byte(data, tmp_path, capsys):
    text = "# réglages\n" + yaml.safe_dump(to_plain(tiny_config(data)))
    code, err = _config_bytes(tmp_path, text.encode("latin-1"), capsys)
    assert code == 2 and "Traceback" not in err
    assert f"config file {tmp_path / 'config.yaml'} is not UTF-8 text (byte 0xe9" in err, err
    nothing_written(tmp_path)


def test_a_key_given_twice_is_refused(data, tmp_path, capsys):
    text = yaml.safe_dump(to_plain(tiny_config(data))).replace(
        "  EPOCHS: 4\n", "  EPOCHS: 4\n  EPOCHS: 40\n")
    code, err = _config_bytes(tmp_path, text.encode(), capsys)
    assert code == 2 and "Traceback" not in err
    assert "the key 'EPOCHS' is given twice (lines" in err and "keep one" in err, err
    nothing_written(tmp_path)
