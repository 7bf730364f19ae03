"""Write a trained model as a bioimage.io 0.5 package, checked by bioimageio.core first.

The package holds ``pytorch_state_dict`` weights with a self-contained architecture file
(:mod:`i2i_nb.bmz.source`) and TorchScript weights, a test input cut from a real test image
and the matching output, a cover and a README. Before it is written,
``bioimageio.core.test_model`` runs it on the CPU (both weight formats, the test tensors
and several input sizes); a failure stops the export with the reasons.
"""

from __future__ import annotations

import math
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from i2i_nb import __version__
from i2i_nb.bmz.describe import (
    CONFIG_KEY,
    Files,
    PackageInfo,
    describe,
    min_size,
    network_kwargs,
    package_halo,
    plain,
)
from i2i_nb.bmz.docs import ReadmeFacts, readme, write_cover
from i2i_nb.bmz.source import BundleError, architecture_source, check_source
from i2i_nb.bmz.write import expected_validation, place, save_folder, test_package
from i2i_nb.data.normalize import DatasetScaler, normalize_like
from i2i_nb.errors import ConfigError
from i2i_nb.metrics import image_metrics

if TYPE_CHECKING:
    from i2i_nb.model import Model

TEST_SIDE = {2: (256, 256), 3: (32, 128, 128)}  # largest test tensor per spatial axis


@dataclass
class ExportResult:
    """Where the package went and what the checks found."""

    path: Path
    validation: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    description: Any = None  # the bioimageio ModelDescr


def test_crop(image: np.ndarray, divisor: tuple[int, ...], halo: tuple[int, ...]
              ) -> np.ndarray:
    """The centre of ``image`` (channel-last) at a size the package accepts: at most
    ``TEST_SIDE``, a valid size (minimum plus steps); images smaller than the minimum are
    reflect-padded."""
    ndim = len(divisor)
    crop, pads = image, []
    for axis, (n, d, h, cap) in enumerate(zip(image.shape[:ndim], divisor, halo,
                                              TEST_SIDE[ndim], strict=True)):
        low = min_size(d, h)
        size = max(low, low + (min(n, max(cap, low)) - low) // d * d)
        start = max(0, (n - size) // 2)
        crop = np.take(crop, range(start, min(n, start + size)), axis=axis)
        pads.append((0, size - crop.shape[axis]))
    if any(p for _, p in pads):
        crop = np.pad(crop, [*pads, (0, 0)], mode="reflect")
    return np.ascontiguousarray(crop)


def _network_output(model: Model, raw: np.ndarray) -> np.ndarray:
    """The test output ``bioimageio.core.test_model`` reproduces from the test input:
    preprocess, the network on the tensor as it is, postprocess (no halo padding)."""
    x = normalize_like(raw, model.meta["input_normalization"])
    with torch.inference_mode():
        y = model.network.cpu()(torch.from_numpy(np.moveaxis(x, -1, 0)[None].copy()))
    y = np.moveaxis(y[0].numpy(), 0, -1)
    return DatasetScaler.from_dict(model.meta["target_scaler"]).inverse(y)


def _channel_first(array: np.ndarray) -> np.ndarray:
    return np.moveaxis(array.astype(np.float32), -1, 0)[None].copy()


def _torchscript(network: torch.nn.Module, example: torch.Tensor, other: torch.Tensor,
                 path: Path) -> None:
    """Trace on the CPU, and check the trace on another input size."""
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(network, example, check_trace=False)
        for x in (example, other):
            if not torch.allclose(traced(x), network(x), atol=1e-5, rtol=1e-4):
                raise BundleError(f"the TorchScript trace differs from the network on input "
                                  f"{tuple(x.shape)}")
    traced.save(str(path))


def _weights(model: Model, crop: np.ndarray, folder: Path, notes: list[str]
             ) -> tuple[Path, Path | None, Path | None]:
    network = model.network.cpu().eval()
    weights = folder / "weights.pt"
    torch.save(network.state_dict(), weights)
    example = torch.from_numpy(_channel_first(normalize_like(crop, model.meta[
        "input_normalization"])))
    other = torch.randn(1, model.in_channels, *(d * max(1, math.ceil(s / 2 / d))
                                                 for d, s in zip(model.divisor,
                                                                 crop.shape[:-1], strict=True)))
    source_path: Path | None = folder / "i2i_nb_network.py"
    try:
        source = architecture_source()
        check_source(source, network_kwargs(model.meta), network, example)
        source_path.write_text(source)
    except BundleError as err:
        source_path = None
        notes.append(f"no pytorch_state_dict weights: {err}")
    torchscript: Path | None = folder / "weights_torchscript.pt"
    try:
        _torchscript(network, example, other, torchscript)
    except (BundleError, RuntimeError) as err:
        torchscript = None
        notes.append(f"no TorchScript weights: {err}")
    if source_path is None and torchscript is None:
        raise ConfigError("; ".join(notes))
    return weights, torchscript, source_path


def _metrics(model: Model, image: np.ndarray, target: np.ndarray | None,
             prediction: np.ndarray, extra_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = [dict(row) for row in extra_rows]
    if target is not None:
        if target.shape[:-1] != image.shape[:-1] or target.shape[-1] != model.out_channels:
            raise ConfigError(f"the target {target.shape} does not match the image "
                              f"{image.shape} and the model's {model.out_channels} output(s)")
        row = {"label": "the package's test image", **image_metrics(prediction, target)}
        if image.shape == target.shape:
            row.update({f"input_{k}": v for k, v in image_metrics(image, target).items()})
        rows.append(row)
    return rows


def export_package(model: Model, out: str | Path, image: np.ndarray,
                   target: np.ndarray | None = None, info: PackageInfo | None = None,
                   training_data: str = "", metrics: list[dict[str, Any]] | None = None,
                   validate: bool = True) -> ExportResult:
    """Write ``model`` as a package at ``out`` (a folder, or a zip when it ends in .zip).

    Parameters
    ----------
    model : Model
        The network and its normalisation.
    out : str or Path
        Destination; an existing folder or file is replaced.
    image, target : numpy.ndarray
        Channel-last raw test image (and its target): the test tensors are its centre, the
        cover and the README's metrics its whole-image prediction.
    info : PackageInfo, optional
        Name, authors, licence, citations... (defaults when empty).
    training_data : str
        One line on the training data, for the README.
    metrics : list of dict, optional
        More metric rows for the README (``label`` and the metric names).
    validate : bool
        Run ``bioimageio.core``'s model test on the package before it is placed at ``out``.

    Raises
    ------
    ValueError
        The network has a fixed input size (UNETR): its package is not built.
    """
    if getattr(model.network, "fixed_shape", None) is not None:
        raise ValueError(f"the {model.meta.get('architecture')} network takes inputs of one "
                         f"fixed size {tuple(model.network.fixed_shape)}; its BioImage Model "
                         "Zoo package (fixed-size axes) is not built in i2i_nb")
    info = info or PackageInfo()
    out = Path(out)
    meta = model.meta
    notes: list[str] = []
    crop = test_crop(image, model.divisor, package_halo(model.network))
    prediction = model.predict(image)
    prediction = prediction if prediction.ndim == image.ndim else prediction[..., None]
    with tempfile.TemporaryDirectory() as staging:
        folder = Path(staging)
        weights, torchscript, source = _weights(model, crop, folder, notes)
        np.save(folder / "test_input.npy", _channel_first(crop))
        np.save(folder / "test_output.npy", _channel_first(_network_output(model, crop)))
        files = Files(weights, torchscript, source, folder / "test_input.npy",
                      folder / "test_output.npy",
                      write_cover(folder / "cover.png", image, prediction), folder / "README.md")
        history = model.payload.get("history") or []
        facts = ReadmeFacts(
            info.name or f"i2i_nb {meta['architecture']} {meta['ndim']}D", meta["architecture"],
            meta["ndim"], meta["in_channels"], meta["out_channels"], meta["model_kwargs"],
            meta["input_normalization"], meta["target_scaler"], model.divisor, model.halo,
            tuple(model.network.receptive_field), meta["patch_size"],
            training_data or _dataset_line(info), len(history) or None,
            min((h["val_loss"] for h in history if h.get("val_loss") is not None),
                default=None),
            _metrics(model, image, target, prediction, metrics or []), notes,
            Path(info.documentation).read_text() if info.documentation else "")
        extra = {"meta": _plain_meta(meta), "i2i_nb_version": __version__}
        input_dtype = np.dtype(meta.get("input_dtype", image.dtype))
        formats = [name for name, path in (("pytorch_state_dict", source),
                                           ("torchscript", torchscript)) if path is not None]
        if validate:  # the claim is checked below; a package that fails is not written
            facts.validation = expected_validation(formats)
        files.readme.write_text(readme(facts))
        descr = describe(meta, model.network, files, info, input_dtype, extra)
        rdf = save_folder(descr, folder / "package")
        if validate:
            facts.validation = test_package(rdf, formats)
        place(folder / "package", out)
    return ExportResult(out, facts.validation, notes, descr)


def _dataset_line(info: PackageInfo) -> str:
    d = info.dataset_info
    return ", ".join(f"{k}: {v}" for k, v in d.items() if v) if d else ""


def _plain_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint metadata as YAML values (what :mod:`i2i_nb.bmz.load` reads back)."""
    keys = ("architecture", "ndim", "in_channels", "out_channels", "model_kwargs",
            "input_normalization", "target_scaler", "patch_size", "target_dtype",
            "input_dtype", "output_activations")
    return {k: plain(meta[k]) for k in keys if k in meta}


__all__ = ["CONFIG_KEY", "ExportResult", "export_package", "test_crop"]
