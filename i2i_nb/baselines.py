"""Trivial baselines beside every score, and the guard that says when a model does not beat them.

Two baselines a model must beat to be worth using:

- **identity**: the input itself, or, when input and target channel counts differ, the
  input channel that best predicts each target channel after an affine least-squares fit
  (named in the tables, e.g. ``input ch 2 (affine fit)``);
- **constant**: every pixel set to the training targets' mean (per channel).

:func:`score_image` scores a test prediction and both baselines;
:func:`i2i_nb.guard.validation_check` measures them on the validation patches after
training, and :class:`QualityCheck` words the verdict, with what usually helps when the
model loses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from i2i_nb.metrics import (
    AffineChannels,
    crop_border,
    data_range,
    describe_fits,
    fit_channels,
    image_metrics,
)

GUARD_MARGIN_DB = 1.0  # a model must beat the better baseline's PSNR by this much
SUGGESTIONS = (
    "more training images (or a smaller DATA.VAL.SPLIT_TRAIN when there are few)",
    "more epochs (TRAIN.EPOCHS) or more patches per epoch (TRAIN.PATCHES_PER_EPOCH)",
    "larger patches (DATA.PATCH_SIZE) so the network sees more context",
    "augmentation (AUGMENTOR.ENABLE with flips and rotations)",
    "checking that inputs and targets are aligned and that the input holds the target's "
    "information (a saturated or empty input channel carries none)",
)


def identity_baseline(raw: np.ndarray, target: np.ndarray) -> tuple[Any, str]:
    """The identity prediction of ``target`` from ``raw`` and its name in tables."""
    if tuple(raw.shape) == tuple(target.shape):
        return raw, "input"
    fits = fit_channels(raw, target)
    return AffineChannels(raw, fits), describe_fits(fits)


def score_image(prediction: np.ndarray, raw: np.ndarray, target: np.ndarray,
                metrics: Sequence[str], border: Sequence[int] = (),
                constant: Sequence[float] | None = None) -> dict[str, Any]:
    """``metrics`` of the prediction, of the identity (``input_*``) and of the constant
    baseline (``constant_*``, when the training targets' mean is known) against the
    target, all cropped by ``border`` pixels at each end of every spatial axis first.

    Raises ValueError when the crop leaves nothing.
    """
    prediction, raw, target = (crop_border(a, border) for a in (prediction, raw, target))
    row: dict[str, Any] = dict(image_metrics(prediction, target, metrics))
    identity, name = identity_baseline(raw, target)
    row.update({f"input_{k}": v for k, v in image_metrics(identity, target, metrics).items()})
    row["identity"] = name
    if constant is not None:
        flat = np.broadcast_to(np.asarray(constant, dtype=np.float64), target.shape)
        row.update({f"constant_{k}": v for k, v in image_metrics(flat, target, metrics).items()})
    row["data_range"] = data_range(target)
    return row


@dataclass
class QualityCheck:
    """PSNR of the model and of both baselines on one set (validation patches or the test
    images), and whether the model beats the better baseline by ``margin_db``."""

    where: str
    model_psnr: float
    identity_psnr: float
    constant_psnr: float
    identity: str = "input"
    margin_db: float = GUARD_MARGIN_DB

    @property
    def baseline(self) -> tuple[str, float]:
        """Name and PSNR of the better baseline."""
        options = [(f"identity, {self.identity}", self.identity_psnr),
                   ("constant, the training targets' mean", self.constant_psnr)]
        options = [o for o in options if math.isfinite(o[1]) or o[1] == math.inf]
        return max(options, key=lambda o: o[1]) if options else ("none", math.nan)

    @property
    def gain(self) -> float:
        """Model PSNR minus the better baseline's, in dB."""
        return self.model_psnr - self.baseline[1]

    @property
    def passed(self) -> bool:
        """True unless the model fails to beat the better baseline by the margin."""
        return not (self.gain < self.margin_db)

    def message(self) -> str:
        """The verdict in plain words (with suggestions when the model loses)."""
        name, value = self.baseline
        head = (f"on the {self.where} the model scores {self.model_psnr:.2f} dB PSNR; the "
                f"better trivial baseline ({name}) {value:.2f} dB ({self.gain:+.2f} dB)")
        if self.passed:
            return f"Quality check: {head}."
        return (f"WARNING: {head}. The model does not beat doing nothing by "
                f"{self.margin_db:g} dB: do not trust its predictions yet. What usually "
                "helps: " + "; ".join(SUGGESTIONS) + ".")

    def to_dict(self) -> dict[str, Any]:
        """Plain values (for JSON), with the verdict."""
        return {**asdict(self), "baseline": self.baseline[0], "gain_db": self.gain,
                "passed": self.passed, "message": self.message()}


def check_on_test(mean: Mapping[str, Any]) -> QualityCheck | None:
    """The check on the test images from the mean row of the metrics (None without PSNR)."""
    if not math.isfinite(float(mean.get("psnr", math.nan))):
        return None
    return QualityCheck("test images", float(mean["psnr"]),
                        float(mean.get("input_psnr", math.nan)),
                        float(mean.get("constant_psnr", math.nan)),
                        str(mean.get("identity", "input")))
