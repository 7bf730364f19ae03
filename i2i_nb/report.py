"""The text report of the test metrics and the quality checks' file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from i2i_nb.baselines import QualityCheck, check_on_test
from i2i_nb.files import write_text
from i2i_nb.metrics import METRICS
from i2i_nb.metrics_table import mean_row


def report(rows: list[dict[str, Any]], metrics: tuple[str, ...] = ("psnr", "si_psnr", "ssim")
           ) -> str:
    """A text table of per-image ``metrics`` of the model and of both baselines, the mean,
    and the verdict of the quality check (the metrics present when none of ``metrics`` is;
    empty without metrics)."""
    present = [m for m in METRICS if any(m in row for row in rows)]
    shown = [m for m in metrics if m in present] or present
    if not shown:
        return ""
    who = (("", "model"), ("input_", "identity"), ("constant_", "constant"))
    width = 9 * len(shown) - 1
    lines = [f"{'':<32} " + " | ".join(f"{w:^{width}}" for _, w in who),
             f"{'image':<32} " + " | ".join(" ".join(f"{NAMES[m]:>8}" for m in shown)
                                            for _ in who)]
    mean = mean_row(rows)
    for row in [*rows, mean]:
        lines.append(f"{row['file']:<32} " + " | ".join(
            " ".join(f"{row.get(p + m, math.nan):8.4g}" for m in shown) for p, _ in who))
    lines.append(f"identity baseline: {mean.get('identity', 'input')}; constant baseline: the "
                 "training targets' mean. PSNR uses the data range max(gt) - min(0, min(gt)) "
                 "of each raw target (BiaPy 3.7); SI-PSNR fits the prediction to the target "
                 "(affine) first.")
    check = check_on_test(mean)
    if check is not None:
        lines.append(check.message())
    return "\n".join(lines)


NAMES = {"psnr": "PSNR", "si_psnr": "SI-PSNR", "pcc": "r", "ssim": "SSIM", "mae": "MAE",
         "mse": "MSE", "nrmse": "NRMSE"}


def write_checks(checks: dict[str, QualityCheck], path: Path) -> None:
    """The quality checks (validation, test) as JSON (written atomically)."""
    write_text(path, json.dumps({k: c.to_dict() for k, c in checks.items()}, indent=1))
