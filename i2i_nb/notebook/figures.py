"""Grids of image planes as PNG figures, with an optional z-slider for volumes."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from IPython.display import Image, display
from matplotlib.figure import Figure

from i2i_nb.notebook.frontend import resolve_interactive

Rows = list[tuple[str, list[np.ndarray]]]  # (label, one image per column) per row
PANEL = 3.2  # inches of a panel's width
TITLE_SIZE = 11  # points


@dataclass(frozen=True)
class Column:
    """One column of a grid: its title, colour map, whether its scale starts at 0, and
    whether it has a colour bar (to read its values)."""

    title: str
    cmap: str = "gray"
    from_zero: bool = False
    colorbar: bool = False


def slice_index(image: np.ndarray, z: int | None = None) -> int | None:
    """The z-slice of a ``(z, y, x, c)`` volume that is shown (default: the middle one),
    None for a 2D image."""
    if image.ndim != 4:
        return None
    depth = image.shape[0]
    return depth // 2 if z is None else min(max(z, 0), depth - 1)


def plane(image: np.ndarray, z: int | None = None) -> np.ndarray:
    """Channel 0 of a ``(y, x, c)`` image, or of slice ``z`` (default: the middle) of a volume."""
    index = slice_index(image, z)
    return (image if index is None else image[index])[..., 0]


def _row_title(label: str, image: np.ndarray, z: int | None) -> str:
    index = slice_index(image, z)
    return label if index is None else f"{label}\nz-slice {index} (of 0-{image.shape[0] - 1})"


def grid_figure(rows: Rows, columns: list[Column],
                z: int | None = None) -> Figure:
    """One row per ``(label, images)``, one panel per column, each scaled to its 1-99.8 %."""
    height, width = plane(rows[0][1][0]).shape if rows else (1, 1)
    fig = Figure(figsize=(PANEL * len(columns), max(1, len(rows)) * (PANEL * height / width + 0.8)))
    axes = fig.subplots(max(1, len(rows)), len(columns), squeeze=False)
    for ax_row, (label, images) in zip(axes, rows, strict=False):
        for ax, image, column in zip(ax_row, images, columns, strict=True):
            values = plane(image, z).astype(np.float32)
            low, high = np.percentile(values, (1.0, 99.8))
            shown = ax.imshow(values, cmap=column.cmap, vmin=0.0 if column.from_zero else low,
                              vmax=high)
            ax.set_title(f"{column.title}\n{_row_title(label, image, z)}", fontsize=TITLE_SIZE)
            ax.set_axis_off()
            if column.colorbar:
                bar = fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.03)
                bar.ax.tick_params(labelsize=TITLE_SIZE - 2)
    fig.tight_layout()
    return fig


def png(fig: Figure) -> Image:
    """The figure as a PNG image that every notebook front end shows."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return Image(data=buffer.getvalue(), format="png")


def show(rows: Rows, columns: list[Column], interactive: bool | None = None) -> None:
    """Display the grid; for volumes a z-slider redraws it when ``interactive`` (None:
    in a live front end, :func:`i2i_nb.notebook.frontend.live_frontend`)."""
    slices = max((images[0].shape[0] for _, images in rows if images[0].ndim == 4), default=0)
    if not (resolve_interactive(interactive) and slices):
        display(png(grid_figure(rows, columns)))
        return
    import ipywidgets

    slider = ipywidgets.IntSlider(value=slices // 2, min=0, max=slices - 1, description="z")
    ipywidgets.interact(lambda z: display(png(grid_figure(rows, columns, z))), z=slider)
