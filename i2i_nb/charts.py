"""PNG charts of the training history (``results/<run>/charts``), drawn without pyplot."""

from __future__ import annotations

import math
from pathlib import Path

from i2i_nb.files import atomic_path


def plot_history(history: list[dict[str, float]], charts_dir: Path, prefix: str) -> list[Path]:
    """Write ``<prefix>_loss.png`` (loss and validation loss) and one PNG per other logged
    value (each validation metric, the learning rate)."""
    from matplotlib.figure import Figure  # after training: not on the way to the first step

    charts_dir.mkdir(parents=True, exist_ok=True)
    epochs = [row["epoch"] for row in history]
    logged = list(history[0]) if history else []
    panels = {"loss": ("loss", "val_loss"), **{
        key: (key,) for key in logged if key not in ("epoch", "seconds", "loss", "val_loss")}}
    written = []
    for name, keys in panels.items():
        values = {k: [row.get(k, math.nan) for row in history] for k in keys}
        if not any(math.isfinite(v) for series in values.values() for v in series):
            continue
        fig = Figure(figsize=(5, 3.5))
        ax = fig.add_subplot()
        for key, series in values.items():
            ax.plot(epochs, series, marker="o", markersize=3, label=key)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.legend()
        fig.tight_layout()
        path = charts_dir / f"{prefix}_{name}.png"
        with atomic_path(path) as tmp:  # never a half-written PNG under the final name
            fig.savefig(tmp, dpi=100, format="png")
        written.append(path)
    return written
