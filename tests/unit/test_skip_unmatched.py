"""MODEL.SKIP_UNMATCHED_LAYERS: fine-tuning from a checkpoint of another head."""

from pathlib import Path

import pytest
import torch

from i2i_nb.config import config_from_dict
from i2i_nb.errors import ConfigError
from i2i_nb.finetune import StartingPoint
from i2i_nb.models import build_model

KWARGS = {"feature_maps": [4, 8], "z_down": None, "normalization": "none", "dropout": 0.0,
          "residual": False}


def _start(out_channels: int, items=("weights",)) -> StartingPoint:
    torch.manual_seed(1)
    model = build_model("unet", 2, 1, out_channels, **KWARGS)
    meta = {"architecture": "unet", "ndim": 2, "in_channels": 1,
            "out_channels": out_channels, "model_kwargs": KWARGS}
    return StartingPoint(Path("old.pth"), {"model": model.state_dict(), "meta": meta,
                                           "optimizer": {"state": {}}}, frozenset(items))


def test_another_head_loads_with_the_key_and_its_layers_start_afresh(capsys):
    start = _start(1)
    torch.manual_seed(2)
    model = build_model("unet", 2, 1, 3, **KWARGS)
    fresh = {k: v.clone() for k, v in model.state_dict().items()}
    start.load_weights(model, skip_unmatched=True)
    state, old = model.state_dict(), start.payload["model"]
    mismatched = sorted(k for k in old if old[k].shape != state[k].shape)
    assert mismatched and sorted(start.skipped) == mismatched  # the head only
    assert len(mismatched) < len(old) // 2
    for name, value in state.items():
        expected = fresh[name] if name in mismatched else old[name]
        assert torch.equal(value, expected), name
    log = capsys.readouterr().out
    assert f"skipped {len(mismatched)}" in log and mismatched[0] in log
    start_opt = _start(1, ("weights", "optimizer"))
    start_opt.load_weights(build_model("unet", 2, 1, 3, **KWARGS), skip_unmatched=True)
    assert "optimizer" not in start_opt.initial_state()  # it belonged to the skipped tensors


def test_another_head_is_refused_without_the_key():
    with pytest.raises(ConfigError, match="do not fit the network.*SKIP_UNMATCHED_LAYERS"):
        _start(1).load_weights(build_model("unet", 2, 1, 3, **KWARGS))


def test_a_matching_checkpoint_loads_whole_either_way():
    start = _start(1)
    model = build_model("unet", 2, 1, 1, **KWARGS)
    start.load_weights(model, skip_unmatched=True)
    assert start.skipped == []
    assert all(torch.equal(v, start.payload["model"][k]) for k, v in model.state_dict().items())


def test_nothing_in_common_is_refused():
    start = _start(1)
    start.payload["model"] = {"other.weight": torch.zeros(2)}
    with pytest.raises(ConfigError, match="SKIP_UNMATCHED_LAYERS: no tensor"):
        start.load_weights(build_model("unet", 2, 1, 1, **KWARGS), skip_unmatched=True)


def test_the_key_is_a_config_field():
    assert config_from_dict({"MODEL": {"SKIP_UNMATCHED_LAYERS": True}}).model \
        .skip_unmatched_layers is True
    assert config_from_dict({}).model.skip_unmatched_layers is False
