"""Tests of checkpoint writing (atomic) and reading (safe, with clear refusals)."""

import os
import pickle
import stat

import pytest
import torch

from i2i_nb import checkpoint as ckpt
from i2i_nb.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
from i2i_nb.errors import ConfigError
from i2i_nb.models import build_model

KWARGS = {"feature_maps": [4, 8], "z_down": None, "normalization": "none", "dropout": 0.0,
          "residual": False}


def payload(architecture="unet", ndim=2):
    model = build_model(architecture, ndim, 1, 1, **KWARGS)
    meta = {"architecture": architecture, "ndim": ndim, "in_channels": 1, "out_channels": 1,
            "model_kwargs": KWARGS}
    return {"model": model.state_dict(), "meta": meta, "epoch": 3}


def test_round_trip_and_permissions(tmp_path):
    path = tmp_path / "sub" / "a.pth"
    save_checkpoint(path, payload())
    loaded = load_checkpoint(path)
    assert loaded["epoch"] == 3 and loaded["meta"]["architecture"] == "unet"
    model = model_from_checkpoint(loaded, path)
    assert isinstance(model, torch.nn.Module)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # not mkstemp's private 0600
    assert os.listdir(path.parent) == ["a.pth"]


def test_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "last.pth"
    save_checkpoint(path, payload())
    before = path.read_bytes()

    def broken(obj, handle):
        handle.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(ckpt.torch, "save", broken)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"model": {}, "meta": {}})
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["last.pth"]


class _RunsCode:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


@pytest.mark.parametrize("writer", ["torch", "pickle"])
def test_code_in_a_checkpoint_is_refused_not_run(tmp_path, writer):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pth"
    content = {"model": _RunsCode(f"touch {marker}"), "meta": {}}
    if writer == "torch":
        torch.save(content, path)
    else:
        path.write_bytes(pickle.dumps(content, protocol=2))
    with pytest.raises(ConfigError, match="evil.pth: refused to load.*nothing in it was "
                       "run.*posix.system") as info:
        load_checkpoint(path)
    assert "weights_only" not in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize(("content", "match"), [
    (b"", "empty.pth: cannot read this checkpoint"),
    (os.urandom(3000), "empty.pth: cannot read this checkpoint.*corrupt or truncated"),
])
def test_unreadable_files(tmp_path, content, match):
    path = tmp_path / "empty.pth"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=match):
        load_checkpoint(path)


def test_truncated_checkpoint(tmp_path):
    path = tmp_path / "cut.pth"
    save_checkpoint(path, payload())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ConfigError, match="cut.pth: cannot read this checkpoint.*corrupt"):
        load_checkpoint(path)


def test_missing_file_and_foreign_checkpoints(tmp_path):
    with pytest.raises(ConfigError, match="no checkpoint file at .*nope.pth"):
        load_checkpoint(tmp_path / "nope.pth")
    for content in ([1, 2], {"model": {}}, {"model": {}, "meta": {"ndim": 2}}):
        torch.save(content, tmp_path / "other.pth")
        with pytest.raises(ConfigError, match="other.pth is not an i2i_nb checkpoint"):
            load_checkpoint(tmp_path / "other.pth")


@pytest.mark.parametrize("weights_of", [("resunet", 2), ("unet", 3), ("rcan", 2)])
def test_weights_that_do_not_fit_name_the_file(tmp_path, weights_of):
    content = payload()
    content["model"] = payload(*weights_of)["model"]
    with pytest.raises(ConfigError, match=r"x\.pth: the weights in this checkpoint do not "
                       r"match the model it describes \(unet 2D, 1 -> 1"):
        model_from_checkpoint(content, tmp_path / "x.pth")


def test_metadata_that_cannot_build_a_model(tmp_path):
    content = payload()
    content["meta"]["architecture"] = "transformer"
    with pytest.raises(ConfigError, match="y.pth: the checkpoint describes a model i2i_nb "
                       "cannot build.*transformer"):
        model_from_checkpoint(content, tmp_path / "y.pth")
