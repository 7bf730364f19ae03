"""Training that starts from a checkpoint: BiaPy's ``MODEL.LOAD_CHECKPOINT`` with
``TRAIN.ENABLE`` and ``MODEL.ITEMS_TO_LOAD_FROM_CHECKPOINT``.

The checkpoint is ``PATHS.CHECKPOINT_FILE``, or this job's best or last one
(``MODEL.LOAD_CHECKPOINT_EPOCH``). It is read weights-only (plain tensors and metadata,
never pickled objects). What it gives: ``weights``, ``norm`` (its input and target
normalisation statistics instead of new ones), ``model_arch`` (its network instead of the
config's), ``optimizer`` and ``epoch`` (continue its optimiser state and epoch count).
With ``MODEL.SKIP_UNMATCHED_LAYERS`` the weights whose name or shape the network lacks are
skipped (named in the log) and those layers start afresh; the optimiser state, which
belongs to the checkpoint's tensors, is then not taken.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from i2i_nb.checkpoint import load_checkpoint
from i2i_nb.errors import ConfigError
from i2i_nb.models.factory import load_weights


@dataclass
class StartingPoint:
    """A checkpoint to start training from and the items to take from it."""

    path: Path
    payload: dict[str, Any]
    items: frozenset[str]

    @property
    def meta(self) -> dict[str, Any]:
        """The checkpoint's metadata (network, channels, normalisation)."""
        return self.payload["meta"]

    skipped: list[str] = field(default_factory=list)
    skip_unmatched: bool = False

    def load_weights(self, model: nn.Module, skip_unmatched: bool = False) -> None:
        """Copy the checkpoint's weights into ``model``; a ConfigError names what differs.

        With ``skip_unmatched`` (``MODEL.SKIP_UNMATCHED_LAYERS``) the checkpoint's tensors
        that ``model`` has no tensor of the same name and shape for are skipped instead
        (listed in :attr:`skipped` and in the log); ``model``'s others keep their values.
        """
        self.skip_unmatched = skip_unmatched
        try:
            load_weights(model, self.payload["model"])
            return
        except RuntimeError as err:
            if not skip_unmatched:
                lines = [line.strip() for line in str(err).splitlines()[1:] if line.strip()]
                raise ConfigError(
                    f"MODEL.LOAD_CHECKPOINT: the weights in {self.path} do not fit the network "
                    f"this config builds ({lines[0] if lines else err}); add 'model_arch' to "
                    "MODEL.ITEMS_TO_LOAD_FROM_CHECKPOINT to train the checkpoint's own network, "
                    "or set MODEL.SKIP_UNMATCHED_LAYERS to load only the layers that fit"
                ) from err
        self.skipped = _load_matching(model, self.payload["model"], self.path)

    def load_discriminator(self, discriminator: nn.Module | None) -> None:
        """A GAN checkpoint's discriminator weights into ``discriminator`` (with
        ``weights``), whole, or with ``MODEL.SKIP_UNMATCHED_LAYERS`` those that fit by name
        and shape (the others named in the log and in :attr:`skipped`)."""
        if discriminator is None or "weights" not in self.items or \
                "discriminator" not in self.payload:
            return
        state = self.payload["discriminator"]
        try:
            load_weights(discriminator, state)
            return
        except RuntimeError as err:
            if not self.skip_unmatched:
                raise ConfigError(
                    f"MODEL.LOAD_CHECKPOINT: the discriminator weights in {self.path} do not "
                    "fit the discriminator this config builds (MODEL.NAFNET.PATCHGAN or the "
                    "channels differ); set MODEL.SKIP_UNMATCHED_LAYERS to load only the "
                    "layers that fit") from err
        self.skipped += [f"discriminator.{name}" for name in
                         _load_matching(discriminator, state, self.path)]

    def initial_state(self) -> dict[str, Any]:
        """What the fit loop continues: the optimiser state and/or the next epoch (and a
        GAN's discriminator optimiser, when the checkpoint has it; its weights are loaded by
        :meth:`load_discriminator`)."""
        state: dict[str, Any] = {}
        if "optimizer" in self.items and "optimizer_d" in self.payload and not self.skipped:
            state["optimizer_d"] = self.payload["optimizer_d"]
        if "optimizer" in self.items:
            if self.skipped:
                print(f"note: MODEL.SKIP_UNMATCHED_LAYERS skipped weights of {self.path}; its "
                      "optimiser state belongs to them, so the optimiser starts afresh")
            elif "optimizer" not in self.payload:
                print(f"note: {self.path} holds no optimiser state (only a run's last "
                      "checkpoint does); the optimiser starts afresh")
            else:
                state["optimizer"] = self.payload["optimizer"]
        if "epoch" in self.items:
            state["epoch"] = int(self.payload.get("epoch", -1)) + 1
        return state


def _load_matching(model: nn.Module, state: dict[str, torch.Tensor], path: Path) -> list[str]:
    """Load the tensors of ``state`` that ``model`` has by name and shape; return (and log)
    the names of the others. A ConfigError when none fits."""
    own = model.state_dict()
    fits = {k: v for k, v in state.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    if not fits:
        raise ConfigError(f"MODEL.SKIP_UNMATCHED_LAYERS: no tensor of {path} fits the network "
                          "this config builds (no name and shape in common)")
    skipped = [k for k in state if k not in fits]
    model.load_state_dict(fits, strict=False)
    fresh = len(own) - len(fits)

    def why(name: str) -> str:
        if name not in own:
            return f"{name} (not in this network)"
        return f"{name} {tuple(state[name].shape)} vs {tuple(own[name].shape)}"

    print(f"MODEL.SKIP_UNMATCHED_LAYERS: loaded {len(fits)} of {len(state)} tensors of {path}; "
          f"skipped {len(skipped)}: {', '.join(why(k) for k in skipped[:6])}"
          f"{' ...' if len(skipped) > 6 else ''}; {fresh} of the network's {len(own)} tensors "
          "start afresh")
    return skipped


def starting_point(checkpoint_file: str, job_checkpoint: Path, items: list[str]
                   ) -> StartingPoint:
    """Read the checkpoint to start from: ``checkpoint_file`` when given, else the job's."""
    path = Path(checkpoint_file) if checkpoint_file else job_checkpoint
    if not path.is_file():
        raise ConfigError(f"MODEL.LOAD_CHECKPOINT is True but there is no checkpoint at {path} "
                          "(set PATHS.CHECKPOINT_FILE)")
    return StartingPoint(path, load_checkpoint(path), frozenset(items))


def freeze_matching(model: nn.Module, patterns: Sequence[str]) -> list[str]:
    """``MODEL.FREEZE_LAYERS_MATCHING``: stop training every parameter whose name one of
    ``patterns`` finds (``re.search``, as BiaPy); returns the frozen names.

    A pattern that matches no name warns, listing the names' module prefixes; freezing
    every parameter is a ConfigError (nothing would train).
    """
    if not patterns:
        return []
    names = [name for name, _ in model.named_parameters()]
    compiled = [re.compile(p) for p in patterns]
    for pattern, regex in zip(patterns, compiled, strict=True):
        if not any(regex.search(n) for n in names):
            prefixes = sorted({".".join(n.split(".")[:2]) for n in names})
            warnings.warn(f"MODEL.FREEZE_LAYERS_MATCHING: {pattern!r} matches no parameter of "
                          f"this network; its names start with: {', '.join(prefixes)}",
                          stacklevel=2)
    frozen = [n for n in names if any(r.search(n) for r in compiled)]
    if len(frozen) == len(names):
        raise ConfigError("MODEL.FREEZE_LAYERS_MATCHING: the patterns freeze every parameter; "
                          "nothing would be trained")
    for name, param in model.named_parameters():
        if name in frozen:
            param.requires_grad_(False)
    print(f"MODEL.FREEZE_LAYERS_MATCHING: froze {len(frozen)} of {len(names)} parameter "
          f"tensors: {', '.join(frozen[:8])}{' ...' if len(frozen) > 8 else ''}")
    return frozen
