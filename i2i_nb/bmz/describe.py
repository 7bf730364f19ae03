"""The bioimage.io 0.5 model description of a checkpoint: axes, sizes, halo, weights."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from bioimageio.spec.model import v0_5

from i2i_nb import __version__
from i2i_nb.bmz.processing import postprocessing, preprocessing
from i2i_nb.bmz.source import ENTRY

INPUT_ID, OUTPUT_ID = v0_5.TensorId("raw"), v0_5.TensorId("prediction")
SPATIAL = ("z", "y", "x")
CONFIG_KEY = "i2i_nb"  # the package's config entry holding this project's metadata
BIAPY_CITATION = {"text": "Franco-Barranco et al., BiaPy: accessible deep learning on bioimages "
                  "(Nature Methods 2025); the workflow and configuration followed here",
                  "doi": "10.1038/s41592-025-02699-y"}
NETWORK_CITATIONS = {
    "unet": {"text": "Ronneberger et al., U-Net (MICCAI 2015)",
             "doi": "10.1007/978-3-319-24574-4_28"},
    "rcan": {"text": "Zhang et al., Image super-resolution using very deep residual channel "
             "attention networks (ECCV 2018)", "doi": "10.1007/978-3-030-01234-2_18"},
    "nafnet": {"text": "Chen et al., Simple baselines for image restoration (ECCV 2022)",
               "doi": "10.1007/978-3-031-20071-7_2"},
}


@dataclass
class PackageInfo:
    """What a package says about itself (``MODEL.BMZ.EXPORT.*``; defaults when empty)."""

    name: str = ""
    description: str = ""
    authors: list[dict[str, str]] = field(default_factory=list)
    license: str = "CC-BY-4.0"
    tags: list[str] = field(default_factory=list)
    cite: list[dict[str, str]] = field(default_factory=list)
    version: str = "0.1.0"
    documentation: str = ""  # a Markdown file added to the generated README
    dataset_info: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Files:
    """The files of a package before it is written (all in one staging folder)."""

    weights: Path
    torchscript: Path | None
    source: Path | None
    test_input: Path
    test_output: Path
    cover: Path
    readme: Path


def package_halo(model: torch.nn.Module) -> tuple[int, ...]:
    """The network's ``halo`` rounded up to its ``divisor``: the zoo pads (and blocks) by the
    halo, and a multiple of the divisor keeps the down-sampling grid of the whole image."""
    return tuple(-(-h // d) * d for h, d in zip(model.halo, model.divisor, strict=True))


def min_size(divisor: int, halo: int) -> int:
    """Smallest input size: a multiple of ``divisor`` leaving output beyond both halos."""
    return max(divisor, math.ceil((2 * halo + 1) / divisor) * divisor)


def _axes(meta: dict[str, Any], divisor: tuple[int, ...], halo: tuple[int, ...]
          ) -> tuple[list[Any], list[Any]]:
    spatial = SPATIAL[-meta["ndim"]:]
    ins: list[Any] = [v0_5.BatchAxis(), v0_5.ChannelAxis(
        channel_names=[v0_5.Identifier(f"channel{i}") for i in range(meta["in_channels"])])]
    outs: list[Any] = [v0_5.BatchAxis(), v0_5.ChannelAxis(
        channel_names=[v0_5.Identifier(f"channel{i}") for i in range(meta["out_channels"])])]
    for name, d, h in zip(spatial, divisor, halo, strict=True):
        axis = v0_5.AxisId(name)
        ins.append(v0_5.SpaceInputAxis(id=axis, size=v0_5.ParameterizedSize(
            min=min_size(d, h), step=d)))
        outs.append(v0_5.SpaceOutputAxisWithHalo(
            id=axis, halo=h, size=v0_5.SizeReference(tensor_id=INPUT_ID, axis_id=axis)))
    return ins, outs


def _author(entry: dict[str, str]) -> v0_5.Author:
    given = {k: str(entry[k]) for k in ("name", "github_user", "affiliation", "email", "orcid")
             if entry.get(k)}
    return v0_5.Author(**given)


def describe(meta: dict[str, Any], model: torch.nn.Module, files: Files, info: PackageInfo,
             input_dtype: np.dtype, extra_config: dict[str, Any]) -> v0_5.ModelDescr:
    """The model description of the network ``model`` trained as ``meta`` says.

    Input sizes are parameterized (minimum and step from the network's ``divisor``),
    the output has the network's ``halo``; pre- and post-processing come from the stored
    normalisation (:mod:`i2i_nb.bmz.processing`); ``extra_config`` is kept under
    ``config.i2i_nb`` for :mod:`i2i_nb.bmz.load`.
    """
    ndim = meta["ndim"]
    divisor, halo = tuple(model.divisor), package_halo(model)
    in_axes, out_axes = _axes(meta, divisor, halo)
    spatial = [v0_5.AxisId(a) for a in SPATIAL[-ndim:]]
    data = v0_5.IntervalOrRatioDataDescr(type="float32")
    inputs = [v0_5.InputTensorDescr(
        id=INPUT_ID, axes=in_axes, test_tensor=v0_5.FileDescr(source=files.test_input),
        data=data, description="raw image, channel-first; normalised by the preprocessing",
        preprocessing=preprocessing(meta["input_normalization"], spatial, input_dtype))]
    outputs = [v0_5.OutputTensorDescr(
        id=OUTPUT_ID, axes=out_axes, test_tensor=v0_5.FileDescr(source=files.test_output),
        data=data, description="prediction in the training targets' units",
        postprocessing=postprocessing(meta["target_scaler"]))]
    pytorch = torch.__version__.split("+")[0]
    weights: dict[str, Any] = {}
    if files.source is not None:
        weights["pytorch_state_dict"] = v0_5.PytorchStateDictWeightsDescr(
            source=files.weights, pytorch_version=v0_5.Version(pytorch),
            architecture=v0_5.ArchitectureFromFileDescr(
                source=files.source, callable=v0_5.Identifier(ENTRY),
                kwargs=network_kwargs(meta)))
    if files.torchscript is not None:
        weights["torchscript"] = v0_5.TorchscriptWeightsDescr(
            source=files.torchscript, pytorch_version=v0_5.Version(pytorch),
            parent="pytorch_state_dict" if files.source is not None else None)
    authors = [_author(a) for a in info.authors] or [v0_5.Author(name="i2i-notebooks user")]
    cite = [v0_5.CiteEntry(text=c["text"], doi=c.get("doi") or None, url=c.get("url") or None)
            for c in info.cite] or [v0_5.CiteEntry(**c) for c in default_citations(meta)]
    tags = list(dict.fromkeys([*info.tags, f"{ndim}d", "pytorch", "image-to-image",
                               "i2i-notebooks"]))
    descr = v0_5.ModelDescr(
        name=info.name or f"i2i_nb {meta['architecture']} {ndim}D image-to-image",
        description=info.description or (
            f"{meta['architecture']} {ndim}D image-to-image network ({meta['in_channels']} -> "
            f"{meta['out_channels']} channel(s)) trained with i2i-notebooks {__version__}"),
        authors=authors, cite=cite, license=v0_5.LicenseId(info.license), tags=tags,
        version=v0_5.Version(info.version) if info.version else None,
        documentation=v0_5.FileDescr(source=files.readme),
        covers=[v0_5.FileDescr(source=files.cover)],
        inputs=inputs, outputs=outputs, weights=v0_5.WeightsDescr(**weights),
        config=v0_5.Config(**{CONFIG_KEY: extra_config}))
    # borders reflect-padded as this project's tiler does (set after construction: given to
    # the constructor, the mode is dropped when the YAML is written and zeros are padded)
    descr.inputs[0].pad = v0_5.ReflectPadding(mode="reflect")
    return descr


def default_citations(meta: dict[str, Any]) -> list[dict[str, str]]:
    """BiaPy's paper and the network's (the U-Net's for the U-Net family)."""
    family = meta["architecture"] if meta["architecture"] in NETWORK_CITATIONS else "unet"
    return [BIAPY_CITATION, NETWORK_CITATIONS[family]]


def network_kwargs(meta: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :data:`~i2i_nb.bmz.source.ENTRY` for this checkpoint."""
    return {"architecture": meta["architecture"], "ndim": int(meta["ndim"]),
            "in_channels": int(meta["in_channels"]), "out_channels": int(meta["out_channels"]),
            "output_activations": [str(a) for a in meta.get("output_activations") or []],
            **plain(meta["model_kwargs"])}


def plain(value: Any) -> Any:
    """Nested dicts, lists and scalars as YAML values (tuples become lists)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
