"""One factory: a :class:`ModelSpec` (or the same values as keywords) to a network."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from i2i_nb.models import (
    gan_generator,
    hrnet,
    multiresunet,
    resunet_pp,
    sr,
    stunet,
    unet,
    unetr,
    unext,
)
from i2i_nb.models.blocks import ACTIVATIONS, NORMALIZATIONS
from i2i_nb.models.spec import ModelSpec

_BUILDERS: dict[str, Callable[[ModelSpec], nn.Module]] = {
    **{name: unet.UNet for name in unet.FAMILY},
    **{name: unext.UNeXt for name in unext.FAMILY},
    "resunet++": resunet_pp.ResUNetPP, "multiresunet": multiresunet.MultiResUNet,
    "rcan": sr.RCAN, "edsr": sr.EDSR, "wdsr": sr.WDSR, "dfcan": sr.DFCAN,
    "stunet": stunet.STUNet.from_spec,
    "unetr": unetr.UNETR,
    "nafnet": gan_generator.build_generator,
    "hrnet": hrnet.HRNet,
}
# MODEL.NAFNET.GENERATOR_BACKBONE values built here (all of BiaPy's).
GENERATOR_BACKBONES = tuple(gan_generator.BACKBONES)
ARCHITECTURES = tuple(_BUILDERS)
# BiaPy image-to-image networks not built here, each with the piece that is missing.
NOT_BUILT: dict[str, str] = {}


def _check(spec: ModelSpec) -> None:
    arch = spec.architecture
    if arch in NOT_BUILT:
        raise ValueError(f"architecture {arch!r} is not built by i2i_nb: {NOT_BUILT[arch]}")
    if arch not in _BUILDERS:
        raise ValueError(f"unknown architecture {arch!r}; valid: {', '.join(ARCHITECTURES)}")
    if spec.ndim not in (2, 3):
        raise ValueError(f"ndim must be 2 or 3, got {spec.ndim}")
    if arch == "wdsr" and spec.ndim == 3:
        raise ValueError("architecture 'wdsr' is 2D only (as in BiaPy)")
    if spec.residual and spec.in_channels != spec.out_channels:
        raise ValueError("residual=True needs in_channels == out_channels, got "
                         f"{spec.in_channels} != {spec.out_channels}")
    if not spec.feature_maps:
        raise ValueError("feature_maps must not be empty")
    if spec.normalization not in NORMALIZATIONS:
        raise ValueError(f"unknown normalization {spec.normalization!r}; valid: "
                         f"{', '.join(NORMALIZATIONS)}")
    if spec.activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {spec.activation!r}; valid: {', '.join(ACTIVATIONS)}")
    if spec.upsample_layer not in ("convtranspose", "upsampling"):
        raise ValueError(f"upsample_layer must be convtranspose or upsampling, got "
                         f"{spec.upsample_layer!r}")
    if spec.heads and sum(spec.heads) != spec.out_channels:
        raise ValueError(f"heads {spec.heads} must add up to the {spec.out_channels} output "
                         "channel(s)")
    if spec.separated_decoders and arch not in (*unet.FAMILY, "resunet++", *unext.FAMILY):
        raise ValueError(f"separated_decoders: {arch!r} has one decoder (as in BiaPy); "
                         f"the U-Net family, resunet++ and U-NeXt can split theirs per head")
    if arch == "stunet":
        stunet.spec_layout(spec)  # raises ValueError naming the stunet_* field
    if arch == "unetr":
        token = unetr.vit_sizes(spec).token
        if len(spec.input_shape) != spec.ndim or any(s < 1 or s % token
                                                     for s in spec.input_shape):
            raise ValueError(f"unetr needs input_shape (its fixed input size): {spec.ndim} "
                             f"sizes, each a multiple of the token size {token}, got "
                             f"{spec.input_shape}")
        if spec.unetr_vit_num_filters < 1:
            raise ValueError("unetr_vit_num_filters must be at least 1, got "
                             f"{spec.unetr_vit_num_filters}")
        if spec.kernel_size < 1 or spec.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {spec.kernel_size}")
    if arch == "hrnet":
        hrnet.check(spec.hrnet, spec.ndim)
    levels = len(spec.feature_maps)
    if arch == "resunet++" and levels < 3:
        raise ValueError(f"resunet++ needs at least 3 feature_maps (its first two levels share "
                         f"the full resolution), got {spec.feature_maps}")
    if arch == "multiresunet":
        _check_multiresunet(spec)
    if arch in unext.FAMILY:
        if spec.convnext_stem_k_size < 1:
            raise ValueError(f"convnext_stem_k_size must be at least 1, got "
                             f"{spec.convnext_stem_k_size}")
        if not 0 <= spec.convnext_sd_prob <= 1:
            raise ValueError(f"convnext_sd_prob must be in [0, 1], got {spec.convnext_sd_prob}")
    if arch in (*unet.FAMILY, "resunet++", *unext.FAMILY):
        z_down = spec.z_down or [2] * (levels - 1)
        if len(z_down) != levels - 1 or any(z not in (1, 2) for z in z_down):
            raise ValueError(f"z_down must be {levels - 1} values in {{1, 2}}, got {z_down}")
        yx_down = spec.yx_down or [2] * (levels - 1)
        if len(yx_down) != levels - 1 or any(z not in (1, 2) for z in yx_down):
            raise ValueError(f"yx_down must be {levels - 1} values in {{1, 2}}, got {yx_down}")
        drops = spec.dropout if isinstance(spec.dropout, list) else [spec.dropout]
        if isinstance(spec.dropout, list) and len(drops) != levels:
            raise ValueError(f"dropout needs {levels} values, got {len(drops)}")
        for name in ("isotropy", "conv_layers"):
            values = getattr(spec, name)
            if values and len(values) != levels:
                raise ValueError(f"{name} needs {levels} values (one per level), got {values}")
        if spec.kernel_size < 1 or spec.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {spec.kernel_size}")
    if arch == "nafnet":
        _check_nafnet(spec)


def _check_nafnet(spec: ModelSpec) -> None:
    depth = len(spec.feature_maps) - 1
    if spec.nafnet_generator_backbone not in GENERATOR_BACKBONES:
        raise ValueError(f"generator backbone {spec.nafnet_generator_backbone!r} is not built "
                         f"(valid: {', '.join(GENERATOR_BACKBONES)})")
    if spec.nafnet_generator_backbone == "stunet":
        if not spec.nafnet_output_sigmoid:
            raise ValueError("nafnet_output_sigmoid must be True with the stunet generator "
                             "backbone: BiaPy's wrapper always ends it in the sigmoid")
        stunet.spec_layout(spec)  # the STU-Net generator: the NAF-block fields are not read
        return
    for name in ("nafnet_enc_blk_nums", "nafnet_dec_blk_nums"):
        values = getattr(spec, name)
        if len(values) < depth or any(n < 0 for n in values):
            raise ValueError(f"{name} needs {depth} block counts >= 0 (one per down-sampling), "
                             f"got {values}")
    if spec.nafnet_middle_blk_num < 0 or min(spec.nafnet_dw_expand, spec.nafnet_ffn_expand) < 1:
        raise ValueError("nafnet_middle_blk_num must be >= 0 and the expansions >= 1")
    for name in ("z_down", "yx_down"):
        values = getattr(spec, name) or [2] * depth
        if len(values) != depth or any(v < 1 for v in values):
            raise ValueError(f"{name} must be {depth} factors >= 1, got {values}")
    drops = spec.dropout if isinstance(spec.dropout, list) else [spec.dropout]
    if isinstance(spec.dropout, list) and len(drops) != depth + 1:
        raise ValueError(f"dropout needs {depth + 1} values, got {len(drops)}")
    if spec.isotropy and len(spec.isotropy) != depth + 1:
        raise ValueError(f"isotropy needs {depth + 1} values (one per level), got "
                         f"{spec.isotropy}")
    if spec.kernel_size < 1 or spec.kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd, got {spec.kernel_size}")


def _check_multiresunet(spec: ModelSpec) -> None:
    levels = len(spec.feature_maps)
    if levels < 2:
        raise ValueError(f"multiresunet needs at least 2 feature_maps, got {spec.feature_maps}")
    if min(spec.feature_maps) < 4:
        raise ValueError("multiresunet needs feature_maps of at least 4 (its smallest branch "
                         f"has int(1.67 * 0.167 * f) channels), got {spec.feature_maps}")
    for name in ("z_down", "yx_down"):
        values = getattr(spec, name) or [2] * (levels - 1)
        if len(values) != levels - 1 or any(v not in (1, 2) for v in values):
            raise ValueError(f"{name} must be {levels - 1} values in {{1, 2}}, got {values}")


def build_model(
    spec: ModelSpec | str | None = None,
    ndim: int | None = None,
    in_channels: int | None = None,
    out_channels: int | None = None,
    *args: Any,
    architecture: str | None = None,
    **kwargs: Any,
) -> nn.Module:
    """Build an image-to-image regression network.

    Parameters
    ----------
    spec : ModelSpec or str
        The network; or its architecture name, with ``ndim``, ``in_channels``,
        ``out_channels`` and the other :class:`ModelSpec` fields as keywords
        (``feature_maps``, ``z_down``, ``normalization``, ``dropout``, ``residual``, ...;
        these five may also follow positionally, as in the first networks' signature).
    architecture : str, optional
        The architecture name as a keyword, instead of ``spec``.

    Returns
    -------
    nn.Module
        Model with ``ndim``, ``divisor``, ``receptive_field``, ``halo`` and ``fixed_shape``.

    Raises
    ------
    ValueError
        An unknown or refused architecture, or values that do not fit it.
    """
    spec = architecture if spec is None else spec
    if spec is None:
        raise ValueError("build_model needs a ModelSpec or an architecture name")
    if not isinstance(spec, ModelSpec):
        if ndim is None or in_channels is None or out_channels is None:
            raise ValueError("build_model needs ndim, in_channels and out_channels")
        positional = ("feature_maps", "z_down", "normalization", "dropout", "residual")
        if len(args) > len(positional):
            raise TypeError(f"build_model takes at most {4 + len(positional)} positional "
                            "arguments")
        kwargs.update(zip(positional, args, strict=False))
        kwargs.pop("version", None)  # written by ModelSpec.kwargs
        dropout = kwargs.pop("dropout", 0.0)
        spec = ModelSpec(spec, ndim, in_channels, out_channels,
                         dropout=[float(d) for d in dropout]
                         if isinstance(dropout, list | tuple) else float(dropout), **kwargs)
    spec.architecture = spec.architecture.lower()
    spec.normalization = spec.normalization.lower()
    spec.activation = spec.activation.lower()
    spec.upsample_layer = spec.upsample_layer.lower()
    spec.unetr_vit_model = spec.unetr_vit_model.lower()
    for name in ("feature_maps", "z_down", "yx_down", "isotropy", "conv_layers", "heads",
                 "stunet_depth", "stunet_dims", "input_shape", "nafnet_enc_blk_nums",
                 "nafnet_dec_blk_nums"):
        value = getattr(spec, name)
        if isinstance(value, tuple):
            setattr(spec, name, list(value))
    for name in ("stunet_pool_op_kernel_sizes", "stunet_conv_kernel_sizes"):
        setattr(spec, name, [[int(k) for k in entry] for entry in getattr(spec, name)])
    spec.stunet_variant = spec.stunet_variant.lower()
    spec.nafnet_generator_backbone = spec.nafnet_generator_backbone.lower()
    _check(spec)
    model = _BUILDERS[spec.architecture](spec)
    if spec.normalization == "sync_bn" and torch.distributed.is_available() \
            and torch.distributed.is_initialized():
        if torch.cuda.is_available():
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        else:
            warnings.warn("MODEL.NORMALIZATION sync_bn: torch synchronises batch norm across "
                          "GPU processes only; on CPU each process normalises its own batch",
                          stacklevel=2)
    model.spec = spec
    return model


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def load_weights(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load a state dict; one of a legacy checkpoint (``spec.legacy``), whose layers had
    other names, is matched to the model's tensors by order and shape.

    Raises
    ------
    RuntimeError
        The tensors do not fit the model.
    """
    own = model.state_dict()
    spec = getattr(model, "spec", None) or getattr(getattr(model, "net", None), "spec", None)
    if set(state) == set(own) or spec is None or not spec.legacy:
        model.load_state_dict(state)
        return
    if len(state) != len(own) or any(
            a.shape != b.shape for a, b in zip(state.values(), own.values(), strict=True)):
        raise RuntimeError("Error(s) in loading state_dict:\n  the legacy checkpoint's tensors "
                           f"({len(state)}) do not match the model's ({len(own)}) in order and "
                           "shape")
    model.load_state_dict(dict(zip(own, state.values(), strict=True)))
