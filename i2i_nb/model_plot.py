"""A picture of a network (``charts/model_plot_<name>_<run_id>.png``): its blocks in the
order data flows through them, each with its output shape and parameter count."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from i2i_nb.files import atomic_path


@dataclass(frozen=True)
class Block:
    """One block of the network as a forward pass meets it."""

    name: str
    kind: str
    shape: tuple[int, ...]
    parameters: int


def _blocks_of(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The model's direct blocks, with (nested) module lists opened."""
    net = getattr(model, "net", model)  # a wrapper (e.g. output activations) shows its net

    def opened(name: str, child: nn.Module) -> list[tuple[str, nn.Module]]:
        if isinstance(child, nn.ModuleList | nn.ModuleDict):
            return [b for sub, block in child.named_children()
                    for b in opened(f"{name}.{sub}", block)]
        return [(name, child)]

    return [b for name, child in net.named_children() for b in opened(name, child)]


def trace_blocks(model: nn.Module, in_channels: int, patch: tuple[int, ...]) -> list[Block]:
    """Run one ``(1, in_channels, *patch)`` batch and record each block it passes through."""
    seen: list[Block] = []
    hooks = []
    for name, block in _blocks_of(model):
        params = sum(p.numel() for p in block.parameters())

        def record(module: nn.Module, args: object, out: object, name: str = name,
                   params: int = params) -> None:
            shape = tuple(out.shape[1:]) if isinstance(out, torch.Tensor) else ()
            seen.append(Block(name, type(module).__name__, shape, params))

        hooks.append(block.register_forward_hook(record))
    device = next(model.parameters()).device
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, in_channels, *patch, device=device))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return seen


def plot_model(model: nn.Module, in_channels: int, patch: tuple[int, ...], path: Path,
               title: str) -> Path:
    """Draw the blocks of :func:`trace_blocks` as a column of labelled boxes into ``path``."""
    from matplotlib.figure import Figure  # imported when drawn, off the way to training

    blocks = trace_blocks(model, in_channels, patch)
    total = sum(p.numel() for p in model.parameters())
    rows = len(blocks) + 2
    fig = Figure(figsize=(7.5, 0.42 * rows + 0.8))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(rows + 0.5, -0.5)
    ax.axis("off")
    ax.text(0.5, 0, f"{title}: {total:,} parameters", ha="center", va="center",
            fontsize=11, weight="bold")
    ax.text(0.5, 1, f"input (C, *spatial) = {(in_channels, *patch)}", ha="center",
            va="center", fontsize=9)
    scale = max((b.parameters for b in blocks), default=1) or 1
    for row, block in enumerate(blocks, start=2):
        share = block.parameters / scale
        ax.add_patch(_box(row, share))
        ax.text(0.03, row, f"{block.name}", va="center", fontsize=8.5, family="monospace")
        ax.text(0.36, row, block.kind, va="center", fontsize=8.5)
        ax.text(0.62, row, str(block.shape), va="center", fontsize=8.5, family="monospace")
        ax.text(0.97, row, f"{block.parameters:,}", va="center", ha="right", fontsize=8.5)
    with atomic_path(path) as tmp:  # never a half-written PNG under the final name
        fig.savefig(tmp, dpi=110, format="png")
    return path


def _box(row: int, share: float) -> object:
    from matplotlib.patches import Rectangle

    return Rectangle((0.01, row - 0.42), 0.98, 0.84, facecolor=(0.85, 0.9, 1.0 - 0.3 * share),
                     edgecolor="0.6", linewidth=0.6)
