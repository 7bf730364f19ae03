"""The test metrics table: score one prediction with its baselines, the CSV columns,
the mean row, and ``test_metrics.csv``."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from i2i_nb.baselines import score_image
from i2i_nb.errors import DataError
from i2i_nb.files import write_text
from i2i_nb.metrics import METRICS

PREFIXES = ("", "input_", "constant_")  # the prediction, the identity, the constant baseline


def scorer(raw: np.ndarray, target: np.ndarray, metrics: Sequence[str], border: Sequence[int],
            constant: Sequence[float] | None, target_path: Path
            ) -> Callable[[np.ndarray], dict[str, Any]]:
    """Score a prediction of ``target`` with its baselines; a bad crop names the file."""

    def score(prediction: np.ndarray) -> dict[str, Any]:
        try:
            return score_image(prediction, raw, target, metrics, border, constant)
        except ValueError as err:
            raise DataError(f"{target_path}: TEST.EVAL_BORDER_CROP {list(border)}: {err}") from err

    return score


def metric_fields(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The CSV columns of ``rows``: file, each metric of the prediction, of the identity
    and of the constant baseline (in :data:`~i2i_nb.metrics.METRICS` order), the identity's
    name and the data range."""
    present = {key for row in rows for key in row}
    scores = [prefix + m for prefix in PREFIXES for m in METRICS if prefix + m in present]
    return ["file", *scores, *(k for k in ("identity", "data_range") if k in present)]


def mean_row(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The mean of each metric over images (NaN where no image has it); ``identity`` is kept
    when every image has the same one."""
    mean: dict[str, Any] = {"file": "mean"}
    present = {key for row in rows for key in row}
    for key in [prefix + m for prefix in PREFIXES for m in METRICS] + ["data_range"]:
        values = [row[key] for row in rows if key in row]
        if values or key in ("psnr", "input_psnr", "constant_psnr"):
            mean[key] = float(np.mean(values)) if values else math.nan
    if "identity" in present:
        names = {row.get("identity") for row in rows}
        mean["identity"] = names.pop() if len(names) == 1 else "per image"
    return mean


def write_metrics(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """Per-image metrics and their mean as CSV (columns: :func:`metric_fields`), written
    atomically."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=metric_fields(rows), restval="",
                            extrasaction="ignore")
    writer.writeheader()
    writer.writerows([*rows, mean_row(rows)])
    write_text(path, text.getvalue())
