"""Bad input through the real entry points: refused with the file or key named, nothing
written into the data, no checkpoint; or accepted with a warning that names the file.

Refusals go through the command line (``i2i_nb.cli.main``: exit code 2, ``error: ...`` on
stderr); accepted oddities through ``i2i_nb.experiment.run`` or the command line.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
import yaml

from i2i_nb.checkpoint import load_checkpoint
from i2i_nb.cli import main
from i2i_nb.config import Config, to_plain
from i2i_nb.experiment import run
from i2i_nb.models import build_model
from tests.integration.conftest import tiny_config, write_pairs
from tests.reliability.conftest import SHAPE

CPU = torch.device("cpu")


def listing(root: Path) -> list[tuple[str, int]]:
    """Every file and folder under ``root`` with its modification time."""
    return sorted((str(p), p.stat().st_mtime_ns) for p in root.rglob("*"))


def cli(tmp_path: Path, config: Config | str, *extra: str, result_dir: Path | None = None
        ) -> int:
    """Write the config as YAML (or take the text as it is) and run the command line."""
    path = tmp_path / "config.yaml"
    path.write_text(config if isinstance(config, str) else yaml.safe_dump(to_plain(config)))
    return main(["--config", str(path), "--result_dir", str(result_dir or tmp_path / "out"),
                 "--name", "job", "--gpu", "cpu", *extra])


def refused(tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str],
            config: Config | str, *fragments: str, result_dir: Path | None = None) -> str:
    """Run the CLI; assert exit 2, each fragment in the error, data untouched, no checkpoint."""
    before = listing(data)
    code = cli(tmp_path, config, result_dir=result_dir)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "error: " in err, err
    message = err.split("error: ", 1)[1]
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    assert listing(data) == before
    assert not list((result_dir or tmp_path / "out").rglob("*.pth"))
    return message


def imwrite(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, array, photometric="minisblack")
    return path


def image(dtype: type = np.float32, shape: tuple[int, ...] = SHAPE, seed: int = 0
          ) -> np.ndarray:
    return (np.random.default_rng(seed).random(shape) * 100).astype(dtype)


def rename(folder: Path, names: list[str]) -> None:
    """Give the sorted images of ``folder`` these names."""
    for old, new in zip(sorted(folder.iterdir()), names, strict=True):
        old.rename(folder / f"tmp-{new}")
    for path in folder.iterdir():
        path.rename(folder / path.name.removeprefix("tmp-"))


# ---------------------------------------------------------------- refused data -------------

def _set(path: str, array: np.ndarray) -> Callable[[Path], Config]:
    def setup(root: Path) -> Config:
        imwrite(root / path, array)
        return tiny_config(root)
    return setup


def _unequal_counts(root: Path) -> Config:
    (root / "train/y/img-003.tif").unlink()
    return tiny_config(root)


def _names_disagree(root: Path) -> Config:
    rename(root / "train/x", ["a.tif", "b.tif", "k.tif", "l.tif"])
    rename(root / "train/y", ["b.tif", "c.tif", "k.tif", "l.tif"])
    return tiny_config(root)


def _numbers_without_zero_padding(root: Path) -> Config:
    rename(root / "train/x", ["raw_1.tif", "raw_2.tif", "raw_10.tif", "raw_11.tif"])
    rename(root / "train/y", ["gt_01.tif", "gt_02.tif", "gt_10.tif", "gt_11.tif"])
    return tiny_config(root)


def _data_3d_in_2d(root: Path) -> Config:
    write_pairs(root, "train", 4, (8, *SHAPE), seed=3)
    return tiny_config(root)


def _data_2d_in_3d(root: Path) -> Config:
    return tiny_config(root, ndim=3)


def _truncated(root: Path) -> Config:
    path = root / "train/y/img-002.tif"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return tiny_config(root)


def _corrupt(root: Path) -> Config:
    (root / "train/x/img-001.tif").write_bytes(np.random.default_rng(0).bytes(3000))
    return tiny_config(root)


def _empty_folder(root: Path) -> Config:
    for path in (root / "train/x").iterdir():
        path.unlink()
    return tiny_config(root)


def _missing_folder(root: Path) -> Config:
    return tiny_config(root, DATA={"TRAIN": {"PATH": str(root / "train/x"),
                                             "GT_PATH": str(root / "train/gt")}})


def _nan(root: Path) -> Config:
    array = image()
    array[3, 4] = np.nan
    imwrite(root / "train/x/img-000.tif", array)
    return tiny_config(root)


def _inf(root: Path) -> Config:
    array = image()
    array[5, 6] = -np.inf
    imwrite(root / "train/y/img-001.tif", array)
    return tiny_config(root)


def _beyond_float32(root: Path) -> Config:
    imwrite(root / "train/y/img-002.tif", image(np.float64) * 1e300)
    return tiny_config(root)


def _patch_not_divisible(root: Path) -> Config:
    return tiny_config(root, DATA={"PATCH_SIZE": [17, 17]})


def _missing_test_targets(root: Path) -> Config:
    (root / "test/y/img-001.tif").unlink()
    return tiny_config(root)


DATA_CASES = {
    "unequal counts": (_unequal_counts, ["train/x has 4 images", "train/y has 3",
                                         "without a partner: img-003.tif"]),
    "names pair wrongly": (_names_disagree, ["share some names but not all",
                                             "train/x/a.tif: no image named a.* in",
                                             "train/y/c.tif: no image named c.* in"]),
    "numbers without zero padding": (_numbers_without_zero_padding, [
        "would pair raw_10.tif with gt_02.tif", "pad the numbers with zeros"]),
    "spatial shape mismatch": (_set("train/y/img-001.tif", image(np.uint16, (20, 24))), [
        "train/x/img-001.tif has spatial shape (24, 24) but its target",
        "train/y/img-001.tif has (20, 24)"]),
    "3D data in the 2D workflow": (_data_3d_in_2d, ["train/x/img-000.tif: found shape "
                                                    "(8, 24, 24)", "3D stack"]),
    "2D data in the 3D workflow": (_data_2d_in_3d, ["x/img-000.tif: found shape (24, 24)",
                                                    "the 3D workflow needs"]),
    "channel count varies": (_set("train/x/img-002.tif", image(shape=(*SHAPE, 2))), [
        "train/x/img-002.tif: has 2 channel(s) but most inputs have 1"]),
    "corrupt TIFF": (_corrupt, ["train/x/img-001.tif: cannot read this TIFF file",
                                "corrupt or truncated"]),
    "truncated TIFF": (_truncated, ["train/y/img-002.tif: cannot read this TIFF file",
                                    "truncated"]),
    "5D file": (_set("train/x/img-000.tif", image(shape=(2, 3, 4, *SHAPE))), [
        "train/x/img-000.tif", "(2, 3, 4, 24, 24)", "5 dimensions is not supported"]),
    "empty folder": (_empty_folder, ["no TIFF images in", "train/x"]),
    "missing folder": (_missing_folder, ["train/gt: folder does not exist"]),
    "NaN": (_nan, ["train/x/img-000.tif: contains 1 NaN or infinite value(s)"]),
    "Inf": (_inf, ["train/y/img-001.tif: contains 1 NaN or infinite value(s)"]),
    "float64 beyond float32": (_beyond_float32, ["train/y/img-002.tif: values from",
                                                 "exceed the float32 range"]),
    "patch not divisible": (_patch_not_divisible, ["DATA.PATCH_SIZE: (17, 17) must be a "
                                                   "multiple of (2, 2)"]),
    "missing test targets": (_missing_test_targets, ["test/x has 2 images", "test/y has 1",
                                                     "img-001.tif"]),
}


@pytest.mark.parametrize("case", DATA_CASES, ids=list(DATA_CASES))
def test_bad_data_is_refused_before_training(case, data, tmp_path, capsys):
    setup, fragments = DATA_CASES[case]
    refused(tmp_path, data, capsys, setup(data), *fragments)


def test_result_dir_inside_a_data_folder_is_refused(data, tmp_path, capsys):
    inside = data / "train" / "y"
    refused(tmp_path, data, capsys, tiny_config(data), f"--result_dir {inside}",
            "inside the data folder", result_dir=inside)


# ---------------------------------------------------------------- refused config -----------

def test_yaml_wrong_type_names_the_key(data, tmp_path, capsys):
    text = yaml.safe_dump(to_plain(tiny_config(data))).replace("EPOCHS: 4", "EPOCHS: ten")
    refused(tmp_path, data, capsys, text, "TRAIN.EPOCHS: expected int, got 'ten'")
    assert not (tmp_path / "out").exists()


def test_yaml_python_tag_is_refused_and_not_run(data, tmp_path, capsys):
    marker = tmp_path / "ran"
    plain = to_plain(tiny_config(data))
    del plain["SYSTEM"]  # given once, with the tag (a key given twice is refused first)
    text = (f"SYSTEM:\n  SEED: !!python/object/apply:os.system ['touch {marker}']\n"
            + yaml.safe_dump(plain))
    refused(tmp_path, data, capsys, text, "config.yaml is not valid YAML",
            "python/object/apply:os.system")
    assert not marker.exists()


# ---------------------------------------------------------------- checkpoints --------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 2D checkpoint (one tiny epoch)."""
    root = tmp_path_factory.mktemp("trained")
    write_pairs(root / "data", "train", 3, SHAPE, seed=4)
    cfg = tiny_config(root / "data", TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False})
    return run(cfg, root / "out", "src", 1, CPU).paths.checkpoint("best")


def predict_only(root: Path, checkpoint: Path) -> Config:
    return tiny_config(root, TRAIN={"ENABLE": False}, MODEL={"LOAD_CHECKPOINT": True},
                       PATHS={"CHECKPOINT_FILE": str(checkpoint)})


def _crafted(trained: Path, path: Path, **changes: object) -> Path:
    payload = load_checkpoint(trained)
    torch.save({**payload, **changes}, path)
    return path


def test_checkpoint_of_another_ndim_names_problem_ndim(data, tmp_path, capsys, trained):
    payload = load_checkpoint(trained)
    meta = {**payload["meta"], "ndim": 3, "patch_size": [4, 16, 16]}
    model = build_model("unet", 3, 1, 1, **meta["model_kwargs"]).state_dict()
    checkpoint = _crafted(trained, tmp_path / "3d.pth", meta=meta, model=model)
    refused(tmp_path, data, capsys, predict_only(data, checkpoint),
            f"PROBLEM.NDIM: the checkpoint {checkpoint} is 3D, the config says 2D")


def test_checkpoint_weights_of_another_architecture(data, tmp_path, capsys, trained):
    meta = load_checkpoint(trained)["meta"]
    weights = build_model("resunet", 2, 1, 1, **meta["model_kwargs"]).state_dict()
    checkpoint = _crafted(trained, tmp_path / "other.pth", model=weights)
    message = refused(tmp_path, data, capsys, predict_only(data, checkpoint),
                      "do not match the model it describes (unet 2D")
    assert message.startswith(f"{checkpoint}: ")


def test_checkpoint_weights_of_another_architecture_are_refused(data, tmp_path, capsys,
                                                                trained):
    meta = load_checkpoint(trained)["meta"]
    weights = build_model("resunet", 2, 1, 1, **meta["model_kwargs"]).state_dict()
    checkpoint = _crafted(trained, tmp_path / "other.pth", model=weights)
    refused(tmp_path, data, capsys, predict_only(data, checkpoint),
            "the weights in this checkpoint do not match the model it describes (unet 2D")


def test_checkpoint_of_random_bytes(data, tmp_path, capsys):
    checkpoint = tmp_path / "random.pth"
    checkpoint.write_bytes(np.random.default_rng(0).bytes(5000))
    refused(tmp_path, data, capsys, predict_only(data, checkpoint),
            f"{checkpoint}: cannot read this checkpoint", "corrupt or truncated")


def test_checkpoint_of_another_program(data, tmp_path, capsys):
    checkpoint = tmp_path / "other_tool.pth"
    torch.save({"model": {"conv.weight": torch.zeros(3)}, "epoch": 7}, checkpoint)
    refused(tmp_path, data, capsys, predict_only(data, checkpoint),
            f"{checkpoint} is not an i2i_nb checkpoint")


class _RunsCode:
    """Pickles as a call to ``os.system`` (what a malicious checkpoint does)."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple:
        return os.system, (self.command,)


@pytest.mark.parametrize("writer", ["torch.save", "pickle.dump"])
def test_checkpoint_that_would_run_code_is_refused(writer, data, tmp_path, capsys):
    marker = tmp_path / "ran"
    checkpoint = tmp_path / "evil.pth"
    payload = {"model": _RunsCode(f"touch {marker}"), "meta": {}}
    if writer == "torch.save":
        torch.save(payload, checkpoint)
    else:
        checkpoint.write_bytes(pickle.dumps(payload, protocol=2))
    message = refused(tmp_path, data, capsys, predict_only(data, checkpoint),
                      f"{checkpoint}: refused to load this checkpoint", "could run code",
                      "nothing in it was run", "posix.system")
    assert "weights_only" not in message  # no advice to load it unsafely
    assert not marker.exists()


def test_test_images_with_other_channels_than_the_checkpoint(tmp_path, capsys, trained):
    root = tmp_path / "data"
    write_pairs(root, "test", 1, SHAPE, seed=5, in_channels=2)
    refused(tmp_path, root, capsys, predict_only(root, trained),
            "img-000.tif", "has 2 channel(s); the model in", "takes 1")


# ---------------------------------------------------------------- accepted, with warnings --

def accepted(tmp_path: Path, data: Path, cfg: Config, warning: str) -> Path:
    """Run the CLI; assert exit 0, one warning matching ``warning``, data untouched."""
    before = listing(data)
    with pytest.warns(UserWarning, match=warning):
        assert cli(tmp_path, cfg) == 0
    assert listing(data) == before
    return tmp_path / "out" / "job"


def test_non_image_files_are_ignored_with_a_warning(data, tmp_path):
    (data / "train/x/notes.txt").write_text("acquired on Tuesday")
    (data / "train/y/Thumbs.db").write_bytes(b"\0" * 10)
    cfg = tiny_config(data, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False})
    out = accepted(tmp_path, data, cfg, r"train/x: ignoring 1 non-TIFF file\(s\): notes.txt")
    assert (out / "checkpoints" / "job_1-checkpoint-best.pth").is_file()


def test_constant_image_warns_naming_it(data, tmp_path):
    imwrite(data / "train/y/img-002.tif", np.full(SHAPE, 1234, np.uint16))
    cfg = tiny_config(data, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False})
    accepted(tmp_path, data, cfg, r"constant image.*train/y/img-002\.tif")
    history = load_checkpoint(tmp_path / "out/job/checkpoints/job_1-checkpoint-last.pth")
    assert np.isfinite(history["history"][0]["loss"])


def test_names_without_a_match_pair_in_sorted_order_with_a_warning(data, tmp_path):
    rename(data / "train/x", ["raw_a.tif", "raw_b.tif", "raw_c.tif", "raw_d.tif"])
    cfg = tiny_config(data, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False})
    accepted(tmp_path, data, cfg, "paired in sorted order.*raw_a.tif with img-000.tif")


def test_yaml_typo_warns_with_the_key_and_a_suggestion(data, tmp_path):
    plain = to_plain(tiny_config(data, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False}))
    plain["DATA"]["NORMALIZATION"]["TPYE"] = plain["DATA"]["NORMALIZATION"].pop("TYPE")
    accepted(tmp_path, data, yaml.safe_dump(plain), re.escape(
        "DATA.NORMALIZATION.TPYE is neither a BiaPy 3.7 key nor one of i2i_nb; ignored (did "
        "you mean DATA.NORMALIZATION.TYPE?)"))


# ---------------------------------------------------------------- accepted as they are -----

def test_int32_uint32_float64_are_read_without_overflow(tmp_path):
    """uint32 targets above 2**31 (and int32 / uint32 / float64 inputs) train and predict in
    the targets' own units, finite, with no wrap-around to negative values."""
    root = tmp_path / "data"
    write_pairs(root, "train", 3, SHAPE, seed=6)
    write_pairs(root, "test", 1, SHAPE, seed=7)
    base = 3_000_000_000  # > 2**31: wraps to a negative number if read as int32
    for split in ("train", "test"):
        for i, target in enumerate(sorted((root / split / "y").iterdir())):
            clean = tifffile.imread(target).astype(np.int64)  # 1000..4000
            imwrite(target, (base + clean).astype(np.uint32))
            dtype = (np.int32, np.uint32, np.float64)[i % 3]
            signal = (clean - 2500) * (1 if dtype == np.int32 else 5000) + (
                0 if dtype == np.int32 else base)
            imwrite(root / split / "x" / target.name, signal.astype(dtype))
    before = listing(root)
    result = run(tiny_config(root, TRAIN={"EPOCHS": 2}), tmp_path / "out", "job", 1, CPU)
    assert listing(root) == before
    scaler = load_checkpoint(result.paths.checkpoint("best"))["meta"]["target_scaler"]
    assert base < scaler["offset"][0] < base + 4000 and 0 < scaler["scale"][0] < 4000
    assert all(np.isfinite(r["loss"]) for r in result.history)
    prediction = tifffile.imread(result.paths.sub("per_image") / "img-000.tif")
    assert np.isfinite(prediction).all() and prediction.min() > base - 1e6
    assert np.isfinite(result.test_rows[0]["psnr"])


def test_uint32_input_keeps_its_detail_near_2_to_the_32(tmp_path):
    root = tmp_path / "data"
    write_pairs(root, "train", 2, SHAPE, seed=8)
    write_pairs(root, "test", 1, SHAPE, seed=9)
    ramp = np.add.outer(np.arange(SHAPE[0]), np.arange(SHAPE[1])) * 5  # 0..230
    for path in sorted((root / "train/x").iterdir()):
        imwrite(path, (4_000_000_000 + ramp).astype(np.uint32))  # float32 steps are 256 here
    cfg = tiny_config(root, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False},
                      AUGMENTOR={"ENABLE": False})
    result = run(cfg, tmp_path / "out", "job", 1, CPU)
    patch = tifffile.imread(result.paths.sub("aug") / "aug_00_x.tif")
    assert len(np.unique(patch)) > 16


@pytest.mark.parametrize("clip", [False, True])
def test_div_normalisation_divides_uint16_inputs_by_65535(tmp_path, clip):
    root = tmp_path / "data"
    write_pairs(root, "train", 2, SHAPE, seed=12)
    for path in sorted((root / "train/x").iterdir()):
        imwrite(path, image(np.uint16) * 40)  # 0..3960
    cfg = tiny_config(root, TRAIN={"EPOCHS": 1}, TEST={"ENABLE": False}, DATA={
        "NORMALIZATION": {"TYPE": "div", "PERC_CLIP": {"ENABLE": clip}}})
    result = run(cfg, tmp_path / "out", "job", 1, CPU)
    patch = tifffile.imread(result.paths.sub("aug") / "aug_00_x.tif")
    assert 0 <= patch.min() and patch.max() <= 4000 / 65535


def test_image_smaller_than_the_patch_is_padded(tmp_path):
    root = tmp_path / "data"
    write_pairs(root, "train", 3, (10, 7), seed=10)
    write_pairs(root, "test", 1, (9, 5), seed=11)
    before = listing(root)
    result = run(tiny_config(root, TRAIN={"EPOCHS": 2}), tmp_path / "out", "job", 1, CPU)
    assert listing(root) == before
    assert len(result.history) == 2 and all(np.isfinite(r["loss"]) for r in result.history)
    prediction = tifffile.imread(result.paths.sub("per_image") / "img-000.tif")
    assert prediction.shape == (9, 5) and np.isfinite(prediction).all()
