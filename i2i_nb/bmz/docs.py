"""The human side of a package: the cover image and the README."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import image as mpimg

from i2i_nb import __version__

COVER_SIDE = 256


def _panel(volume: np.ndarray) -> np.ndarray:
    """Channel 0 of the middle z-slice, scaled by its 1st-99.8th percentiles, resampled to a
    ``COVER_SIDE`` square."""
    plane = volume[volume.shape[0] // 2] if volume.ndim == 4 else volume
    plane = plane[..., 0].astype(np.float64)
    low, high = np.percentile(plane, [1, 99.8])
    scaled = np.clip((plane - low) / (high - low if high > low else 1.0), 0, 1)
    rows = np.linspace(0, plane.shape[0] - 1, COVER_SIDE).round().astype(int)
    cols = np.linspace(0, plane.shape[1] - 1, COVER_SIDE).round().astype(int)
    return scaled[np.ix_(rows, cols)]


def write_cover(path: Path, image: np.ndarray, prediction: np.ndarray) -> Path:
    """A 2:1 PNG: the input | the prediction (channel-last arrays, 2D or 3D)."""
    gap = np.ones((COVER_SIDE, 4))
    mpimg.imsave(path, np.hstack([_panel(image), gap, _panel(prediction)]), cmap="gray",
                 vmin=0, vmax=1)
    return path


@dataclass
class ReadmeFacts:
    """What the README reports about the model, its training and its checks."""

    name: str
    architecture: str
    ndim: int
    in_channels: int
    out_channels: int
    model_kwargs: dict[str, Any]
    input_normalization: dict[str, Any]
    target_scaler: dict[str, Any]
    divisor: Sequence[int]
    halo: Sequence[int]
    receptive_field: Sequence[int]
    patch_size: Sequence[int]
    training_data: str = ""
    epochs: int | None = None
    best_val_loss: float | None = None
    metrics: list[dict[str, Any]] = field(default_factory=list)  # rows: label, psnr, ...
    validation: list[str] = field(default_factory=list)
    documentation: str = ""


def _number(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _metrics_table(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["No test image with a target was given, so no metrics were measured."]
    lines = ["| images | PSNR (dB) | SSIM | MAE | input PSNR | input SSIM | input MAE |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        values = [row.get(k, math.nan) for k in ("psnr", "ssim", "mae", "input_psnr",
                                                  "input_ssim", "input_mae")]
        lines.append(f"| {row['label']} | " + " | ".join(_number(v) for v in values) + " |")
    lines.append("")
    lines.append("'input' scores the input itself against the target (the identity baseline). "
                 "PSNR uses the data range max(gt) - min(0, min(gt)) of each raw target "
                 "(BiaPy 3.7).")
    return lines


def readme(facts: ReadmeFacts) -> str:
    """The package's README (Markdown)."""
    norm = facts.input_normalization
    how = ("statistics of all training inputs (fixed preprocessing)" if norm["dataset"]
           else "each image's own statistics")
    target = facts.target_scaler
    lines = [
        f"# {facts.name}", "",
        f"A {facts.ndim}D image-to-image network ({facts.architecture}, "
        f"{facts.in_channels} -> {facts.out_channels} channel(s)) trained with "
        f"i2i-notebooks {__version__}. Its output is in the training "
        "targets' intensity units.", "",
        "## Training", "",
        f"- Training data: {facts.training_data or 'not recorded'}",
        f"- Network keyword arguments: `{facts.model_kwargs}`",
        f"- Training patch size: {tuple(facts.patch_size)}"
        + (f"; epochs run: {facts.epochs}" if facts.epochs is not None else "")
        + (f"; best validation loss: {facts.best_val_loss:.4g}"
           if facts.best_val_loss is not None else ""),
        f"- Input normalisation: `{norm['type']}` from {how}"
        + (f", clipped to the {norm['p_low']}-{norm['p_high']} percentiles of each image"
           if norm["clip"] else ""),
        f"- Targets: `{target['method']}` statistics of all training targets; the "
        "postprocessing maps the output back (per channel `scale_linear`, gain "
        f"{[round(v, 6) for v in target['scale']]}, offset "
        f"{[round(v, 6) for v in target['offset']]}).", "",
        "## Inputs and tiling", "",
        f"Spatial sizes must be multiples of {tuple(facts.divisor)} (the network's "
        f"down-sampling). The output's halo, {tuple(facts.halo)} pixels per side, is where "
        f"the receptive field ({tuple(facts.receptive_field)} pixels per side in theory) has "
        "measurable influence; tiles must overlap by at least twice the halo, as the zoo's "
        "tools do when they read it from the package.", "",
        "## Metrics", "", *_metrics_table(facts.metrics), "",
        "## Validation", "",
        *([f"- {line}" for line in facts.validation] or ["- Not validated at export."]),
    ]
    if facts.documentation:
        lines += ["", "## Notes", "", facts.documentation.strip()]
    return "\n".join(lines) + "\n"
