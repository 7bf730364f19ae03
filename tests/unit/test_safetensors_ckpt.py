"""MODEL.OUT_CHECKPOINT_FORMAT: safetensors checkpoints hold the whole training state."""

import math

import pytest
import torch
from safetensors.torch import save_file

from i2i_nb.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
from i2i_nb.config import config_from_dict
from i2i_nb.errors import ConfigError
from i2i_nb.models import build_model
from i2i_nb.preflight import RunPaths
from i2i_nb.train import TrainOutputs

KWARGS = {"feature_maps": [4, 8], "z_down": None, "normalization": "none", "dropout": 0.0,
          "residual": False}


def _training_payload() -> dict:
    model = build_model("unet", 2, 1, 1, **KWARGS)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99))
    model(torch.zeros(1, 1, 16, 16)).sum().backward()
    optimizer.step()
    meta = {"architecture": "unet", "ndim": 2, "in_channels": 1, "out_channels": 1,
            "model_kwargs": KWARGS, "target_scaler": {"mean": [0.5], "std": [2.0]}}
    return {"model": model.state_dict(), "meta": meta, "epoch": 0, "val_loss": math.inf,
            "history": [{"epoch": 1, "loss": 0.25}], "optimizer": optimizer.state_dict(),
            "rng": torch.get_rng_state(), "best": float("nan"), "scheduler": {}}


def _same(a: object, b: object) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return (isinstance(b, dict) and list(a) == list(b)
                and all(_same(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b, strict=True)))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return type(a) is type(b) and a == b


def test_the_whole_payload_comes_back_as_written(tmp_path):
    payload = _training_payload()
    path = tmp_path / "last.safetensors"
    save_checkpoint(path, payload)
    assert path.read_bytes()[8:9] == b"{"  # a safetensors header, not a zip
    loaded = load_checkpoint(path)
    assert _same(payload, loaded)  # int keys of the optimiser state, tuples, nan, inf
    assert isinstance(next(iter(loaded["optimizer"]["state"])), int)
    assert _same(model_from_checkpoint(loaded, path).state_dict(),
                 model_from_checkpoint(payload).state_dict())
    fresh = torch.optim.AdamW(build_model("unet", 2, 1, 1, **KWARGS).parameters())
    fresh.load_state_dict(loaded["optimizer"])
    assert _same(fresh.state_dict(), payload["optimizer"])


def test_the_model_tensors_keep_their_names_for_other_tools(tmp_path):
    from safetensors.torch import load_file

    payload = _training_payload()
    save_checkpoint(tmp_path / "a.safetensors", payload)
    names = set(load_file(tmp_path / "a.safetensors"))
    assert set(payload["model"]) <= names
    assert "optimizer/state/0/exp_avg" in names


def test_a_weights_only_or_broken_file_is_refused(tmp_path):
    weights = tmp_path / "biapy.safetensors"
    save_file(dict(build_model("unet", 2, 1, 1, **KWARGS).state_dict()), weights)
    with pytest.raises(ConfigError, match="is not an i2i_nb checkpoint"):
        load_checkpoint(weights)
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(ConfigError, match="broken.safetensors: cannot read"):
        load_checkpoint(broken)


def test_runs_name_their_checkpoints_by_format(tmp_path):
    paths = RunPaths(tmp_path, "job", 1, "safetensors")
    assert paths.checkpoint("best").name == "job_1-checkpoint-best.safetensors"
    assert RunPaths(tmp_path, "job", 1).checkpoint("last").suffix == ".pth"
    outputs = TrainOutputs(paths.checkpoint("best"), paths.checkpoint("last"), tmp_path / "l")
    assert outputs.periodic(4).name == "job_1-checkpoint-4.safetensors"
    old = RunPaths(tmp_path, "job", 1).checkpoint("last")  # a job written as .pth
    old.parent.mkdir(parents=True)
    old.write_bytes(b"")
    assert paths.checkpoint("last") == old  # found, as BiaPy looks for both


def test_the_format_is_validated_naming_the_key():
    cfg = config_from_dict({"MODEL": {"OUT_CHECKPOINT_FORMAT": "safetensors"}})
    assert cfg.model.out_checkpoint_format == "safetensors"
    with pytest.raises(ConfigError, match="MODEL.OUT_CHECKPOINT_FORMAT"):
        config_from_dict({"MODEL": {"OUT_CHECKPOINT_FORMAT": "onnx"}})
