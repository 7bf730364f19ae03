"""Checkpoint files: written atomically, read with ``weights_only=True``.

A checkpoint is a ``.pth`` file (``torch.save``) or, with ``MODEL.OUT_CHECKPOINT_FORMAT:
safetensors``, a ``.safetensors`` file (:mod:`i2i_nb.safetensors_ckpt`: the same tree,
tensors as safetensors, the rest as JSON metadata); the suffix tells which, and every
reader takes both.

A checkpoint holds the model's state dict and plain metadata (architecture,
channels, normalisation statistics...) so that it alone is enough to predict.
Training checkpoints add the optimizer, scheduler, epoch, history and RNG state.

Reading never runs code from the file: ``torch.load(weights_only=True)`` refuses
any pickled object other than tensors and plain containers, so a crafted file is
rejected with :class:`~i2i_nb.errors.ConfigError` before anything in it executes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from i2i_nb.activations import with_activations
from i2i_nb.errors import ConfigError
from i2i_nb.files import atomic_path
from i2i_nb.models import ModelSpec, build_model
from i2i_nb.models.factory import load_weights
from i2i_nb.safetensors_ckpt import SUFFIX, from_safetensors, is_safetensors, to_safetensors

META_KEYS = ("architecture", "ndim", "in_channels", "out_channels", "model_kwargs")
_TORCH_ADVICE = ("Weights only load failed", "(1)", "(2)", "Please file", "Check the doc")


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to a temporary file, flush it to disk, then rename it over ``path``
    (a safetensors file when ``path`` ends in ``.safetensors``, else ``torch.save``'s).

    An interrupted or killed process leaves either the previous file or the new one,
    never a partial file (at worst a stray ``.<name>.<random>.tmp`` beside it). The file
    gets the usual permissions (those of ``open``, after the umask). A failure of the
    operating system (disk full, read-only...) raises an :class:`OSError` naming ``path``.
    """
    with atomic_path(Path(path)) as tmp, open(tmp, "xb") as handle:
        if is_safetensors(path):
            handle.write(to_safetensors(payload))
        else:
            torch.save(payload, handle)
        handle.flush()
        os.fsync(handle.fileno())


def checkpoint_suffix(fmt: str) -> str:
    """The file suffix of ``MODEL.OUT_CHECKPOINT_FORMAT`` ``fmt`` (``pth``/``safetensors``)."""
    return SUFFIX if fmt.lower() == "safetensors" else ".pth"


def _refusal(path: Path, err: Exception) -> ConfigError:
    """A short message for a file ``torch.load`` could not read (without torch's advice to
    load it unsafely)."""
    text = str(err)
    detail = text.splitlines()[0] if text.strip() else type(err).__name__
    if "Weights only load failed" in text:
        after = text.split("WeightsUnpickler error:", 1)[-1]
        lines = [line.strip() for line in after.splitlines() if line.strip()]
        detail = next((line for line in lines if not line.startswith(_TORCH_ADVICE)), "")
        detail = detail.split(" Please use")[0]
        if "global" in detail.lower():
            return ConfigError(f"{path}: refused to load this checkpoint: it holds Python "
                               "objects other than tensors and plain values, which could run "
                               f"code; nothing in it was run ({detail})")
    return ConfigError(f"{path}: cannot read this checkpoint: it is not a PyTorch checkpoint "
                       "file, it is corrupt or truncated, or it holds objects other than "
                       f"tensors and plain values; nothing in it was run ({detail})")


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint safely (tensors and plain values only, no code is run), ``.pth``
    or ``.safetensors``.

    Raises
    ------
    ConfigError
        Missing file, unreadable or unsafe content, or not an i2i_nb checkpoint; the
        message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no checkpoint file at {path}")
    try:
        if is_safetensors(path):
            payload = from_safetensors(path)
        else:
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any failure means the file is unusable
        if is_safetensors(path):
            raise ConfigError(f"{path}: cannot read this checkpoint: it is not a safetensors "
                              f"file written by i2i_nb, or it is corrupt or truncated ({err})"
                              ) from err
        raise _refusal(path, err) from err
    meta = payload.get("meta") if isinstance(payload, dict) else None
    if not (isinstance(meta, dict) and isinstance(payload.get("model"), dict)
            and all(key in meta for key in META_KEYS)):
        raise ConfigError(f"{path} is not an i2i_nb checkpoint (it lacks the model weights or "
                          "the metadata i2i_nb writes: architecture, ndim, channels)")
    return payload


def model_from_checkpoint(payload: dict[str, Any], path: str | Path | None = None) -> nn.Module:
    """Rebuild the network described by a checkpoint's metadata and load its weights.

    Parameters
    ----------
    payload : dict
        From :func:`load_checkpoint`.
    path : str or Path, optional
        The file it was read from, named in messages.

    Raises
    ------
    ConfigError
        The metadata does not describe a model i2i_nb can build, or the weights do not
        fit it (a checkpoint of another architecture or size); the message names ``path``.
    """
    where = f"{path}: " if path else ""
    meta = payload["meta"]
    described = (f"{meta.get('architecture')} {meta.get('ndim')}D, {meta.get('in_channels')} -> "
                 f"{meta.get('out_channels')} channel(s)")
    try:
        model = with_activations(
            build_model(ModelSpec.from_meta(meta["architecture"], meta["ndim"],
                                            meta["in_channels"], meta["out_channels"],
                                            meta["model_kwargs"])),
            meta.get("output_activations", []), meta["out_channels"])
    except (KeyError, TypeError, ValueError) as err:
        raise ConfigError(f"{where}the checkpoint describes a model i2i_nb cannot build "
                          f"({described}): {err}") from err
    try:
        load_weights(model, payload["model"])
    except RuntimeError as err:
        lines = [line.strip() for line in str(err).splitlines()[1:] if line.strip()]
        raise ConfigError(f"{where}the weights in this checkpoint do not match the model it "
                          f"describes ({described}); it was written by another architecture "
                          f"or is damaged ({lines[0] if lines else err})") from err
    return model
