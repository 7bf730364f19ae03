"""This project's normalisation written as bioimage.io 0.5 pre- and post-processing.

Inputs normalised with dataset statistics (``MEASURE_BY: dataset``) get *fixed*
preprocessing, the same numbers for every image: ``fixed_zero_mean_unit_variance``
(mean and standard deviation per channel) for ``zero_mean_unit_variance``, ``scale_linear``
for the other types. The spec's own ``zero_mean_unit_variance`` measures each sample, which
is what per-image normalisation (``MEASURE_BY: image``) does, so that one is used there
(``scale_range`` for ``percentile`` and min-max ``scale_range``). The optional per-image
percentile clip is a ``clip`` step first. Outputs get the training targets' statistics back
as ``scale_linear`` (``pred * scale + offset`` per channel): the zoo's output is in the
targets' units, as this project's own prediction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from bioimageio.spec.model import v0_5

from i2i_nb.data.io import dtype_max
from i2i_nb.data.normalize import DatasetScaler
from i2i_nb.errors import ConfigError

CHANNEL = v0_5.AxisId("channel")


def _scale_linear(gain: list[float], offset: list[float]) -> v0_5.ScaleLinearDescr:
    return v0_5.ScaleLinearDescr(kwargs=v0_5.ScaleLinearAlongAxisKwargs(
        axis=CHANNEL, gain=[float(g) for g in gain], offset=[float(o) for o in offset]))


def preprocessing(spec: dict[str, Any], spatial: list[v0_5.AxisId], input_dtype: np.dtype
                  ) -> list[Any]:
    """The preprocessing steps equal to the input normalisation ``spec`` of a checkpoint.

    Parameters
    ----------
    spec : dict
        ``meta["input_normalization"]`` (see :func:`i2i_nb.data.normalize.input_normalization`).
    spatial : list of AxisId
        The input's spatial axes: per-sample statistics are taken over them, per channel.
    input_dtype : numpy.dtype
        dtype of the images the model was trained on (``div`` divides by its maximum).
    """
    kind, steps = spec["type"], []
    if spec["clip"]:
        steps.append(v0_5.ClipDescr(kwargs=v0_5.ClipKwargs(
            min_percentile=float(spec["p_low"]), max_percentile=float(spec["p_high"]),
            axes=spatial)))
    dataset = spec["dataset"]
    if dataset is not None:
        scaler = DatasetScaler.from_dict(dataset)
        if kind == "zero_mean_unit_variance":
            steps.append(v0_5.FixedZeroMeanUnitVarianceDescr(
                kwargs=v0_5.FixedZeroMeanUnitVarianceAlongAxisKwargs(
                    axis=CHANNEL, mean=list(scaler.offset), std=list(scaler.scale))))
        elif kind != "none":
            steps.append(_scale_linear([1 / s for s in scaler.scale],
                                       [-o / s for o, s in zip(scaler.offset, scaler.scale,
                                                               strict=True)]))
    elif kind == "zero_mean_unit_variance":
        steps.append(v0_5.ZeroMeanUnitVarianceDescr(
            kwargs=v0_5.ZeroMeanUnitVarianceKwargs(axes=spatial)))
    elif kind in ("percentile", "scale_range"):
        low, high = (spec["p_low"], spec["p_high"]) if kind == "percentile" else (0.0, 100.0)
        steps.append(v0_5.ScaleRangeDescr(kwargs=v0_5.ScaleRangeKwargs(
            axes=spatial, min_percentile=float(low), max_percentile=float(high))))
    elif kind == "div":
        top = dtype_max(input_dtype)
        if top:
            steps.append(v0_5.ScaleLinearDescr(kwargs=v0_5.ScaleLinearKwargs(gain=1 / top)))
    elif kind != "none":
        raise ConfigError(f"input normalisation {kind!r} has no bioimage.io equivalent")
    return steps


def postprocessing(target_scaler: dict[str, Any]) -> list[Any]:
    """``scale_linear`` back to the targets' units (nothing for ``none``)."""
    scaler = DatasetScaler.from_dict(target_scaler)
    if scaler.method == "none":
        return []
    return [_scale_linear(scaler.scale, scaler.offset)]
