"""Checkpoints in the safetensors format (``MODEL.OUT_CHECKPOINT_FORMAT: safetensors``).

A safetensors file holds named tensors and a table of string metadata, and reading it
never runs code. An i2i_nb checkpoint is a tree of dicts, lists and plain values with
tensors among them (the model's state dict, the optimiser's state, the RNG state...). It
is written as one file:

- the model's tensors under their own names (``encoders.0.conv1.weight``...), so that the
  file is also a plain state dict for other tools (BiaPy writes only these);
- every other tensor under its path in the tree, ``<item>/<key>/...`` (e.g.
  ``optimizer/state/0/exp_avg``);
- the rest of the tree as JSON in the metadata entry ``i2i_nb``, each tensor replaced by
  ``{"__tensor__": name}``. Dicts whose keys are not all strings (an optimiser's state is
  keyed by parameter number) are written as ``{"__items__": [[key, value], ...]}`` and
  tuples as ``{"__tuple__": [...]}``, so that the tree read back equals the one written.

A safetensors file without the ``i2i_nb`` entry (e.g. one BiaPy wrote) is read as the
state dict alone; :func:`~i2i_nb.checkpoint.load_checkpoint` then refuses it for lacking
the metadata i2i_nb needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file
from safetensors.torch import save as to_bytes

SUFFIX = ".safetensors"
META_ENTRY = "i2i_nb"


def is_safetensors(path: str | Path) -> bool:
    """Whether ``path`` names a safetensors checkpoint (by its suffix, as BiaPy)."""
    return Path(path).suffix.lower() == SUFFIX


def _encode(value: Any, name: str, tensors: dict[str, torch.Tensor]) -> Any:
    """``value`` as JSON values, its tensors moved into ``tensors`` under their path."""
    if isinstance(value, torch.Tensor):
        if name in tensors:
            raise ValueError(f"two tensors of the checkpoint are both named {name!r}")
        tensors[name] = value.detach().cpu().contiguous().clone()  # no storage shared
        return {"__tensor__": name}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _encode(v, f"{name}/{k}", tensors) for k, v in value.items()}
        return {"__items__": [[k, _encode(v, f"{name}/{k}", tensors)]
                              for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, f"{name}/{i}", tensors) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, f"{name}/{i}", tensors) for i, v in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"a checkpoint for safetensors holds tensors and plain values; {name} is "
                    f"a {type(value).__name__}")


def _decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The inverse of :func:`_encode`."""
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"__tensor__"}:
        return tensors[value["__tensor__"]]
    if set(value) == {"__items__"}:
        return {k: _decode(v, tensors) for k, v in value["__items__"]}
    if set(value) == {"__tuple__"}:
        return tuple(_decode(v, tensors) for v in value["__tuple__"])
    return {k: _decode(v, tensors) for k, v in value.items()}


def to_safetensors(payload: dict[str, Any]) -> bytes:
    """The bytes of a safetensors file holding the checkpoint ``payload``."""
    tensors: dict[str, torch.Tensor] = {}
    model = payload.get("model", {})
    tree: dict[str, Any] = {"model": {k: {"__tensor__": k} for k in model}}
    for key, tensor in model.items():
        tensors[key] = tensor.detach().cpu().contiguous().clone()
    for key, value in payload.items():
        if key != "model":
            tree[key] = _encode(value, key, tensors)
    return to_bytes(tensors, metadata={"format": "pt", META_ENTRY: json.dumps(tree)})


def from_safetensors(path: str | Path) -> dict[str, Any]:
    """Read a safetensors checkpoint (tensors on the CPU; no code is run)."""
    tensors = load_file(str(path), device="cpu")
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    if META_ENTRY not in metadata:
        return {"model": tensors}
    return _decode(json.loads(metadata[META_ENTRY]), tensors)
