"""Checkpoint files: written atomically, read with ``weights_only=True``.

A checkpoint holds the model's state dict and plain metadata (architecture,
channels, normalisation statistics...) so that it alone is enough to predict.
Training checkpoints add the optimizer, scheduler, epoch, history and RNG state.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from i2i_nb.errors import ConfigError
from i2i_nb.models import build_model


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` with ``torch.save`` to a temporary file, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint safely (tensors and plain values only, no code is run)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"PATHS.CHECKPOINT_FILE: no checkpoint file at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any failure means the file is unusable
        raise ConfigError(f"cannot read checkpoint {path}: {err}") from err
    if not isinstance(payload, dict) or "model" not in payload or "meta" not in payload:
        raise ConfigError(f"{path} is not an i2i_nb checkpoint (no model state and metadata)")
    return payload


def model_from_checkpoint(payload: dict[str, Any]) -> nn.Module:
    """Rebuild the network described by a checkpoint's metadata and load its weights."""
    meta = payload["meta"]
    model = build_model(
        meta["architecture"], meta["ndim"], meta["in_channels"], meta["out_channels"],
        **meta["model_kwargs"],
    )
    model.load_state_dict(payload["model"])
    return model
