"""``MODEL.STUNET`` checks and the network values it gives (torch-free): for ``stunet`` and
for networks built around a STU-Net (BiaPy's NAFNet GAN generator)."""

from __future__ import annotations

from typing import Any

from i2i_nb.config.model import StunetConfig
from i2i_nb.config.root import Config
from i2i_nb.errors import ConfigError

STUNET_VARIANTS = ("small", "base", "large", "custom")


def check(condition: bool, key: str, message: str) -> None:
    """Raise ConfigError ``key: message`` unless ``condition``."""
    if not condition:
        raise ConfigError(f"{key}: {message}")


def check_choice(value: str, choices: tuple[str, ...], key: str) -> None:
    """Refuse ``value`` (any case) outside ``choices``, naming ``key``."""
    check(value.lower() in choices, key, f"{value!r} is not one of {', '.join(choices)}")


def check_stunet(cfg: Config) -> None:
    """``MODEL.STUNET`` (for ``stunet``, or a network built around it): the variant, the
    four lists of ``custom`` (as BiaPy's check_configuration, plus positive sizes and odd
    kernels), and ``PRETRAINED``, refused as its weights would be downloaded."""
    st = cfg.model.stunet
    check(not st.pretrained or cfg.model.load_checkpoint, "MODEL.STUNET.PRETRAINED",
          "True downloads OrgMIM's pretrained STU-Net encoder weights (huggingface.co) at "
          "run time, which i2i_nb never does; set it to False (BiaPy skips the download too "
          "when MODEL.LOAD_CHECKPOINT is True, as the checkpoint's weights replace them)")
    check_choice(st.variant, STUNET_VARIANTS, "MODEL.STUNET.VARIANT")
    st.variant = st.variant.lower()
    if st.variant != "custom":
        return  # the lists are read only by 'custom', as in BiaPy
    n = len(st.dims)
    check(n >= 2 and all(d >= 1 for d in st.dims), "MODEL.STUNET.DIMS",
          f"needs at least 2 stages of positive channel counts, got {st.dims}")
    lengths = (("DEPTH", st.depth, n), ("CONV_KERNEL_SIZES", st.conv_kernel_sizes, n),
               ("POOL_OP_KERNEL_SIZES", st.pool_op_kernel_sizes, n - 1))
    for key, values, count in lengths:
        check(len(values) == count, f"MODEL.STUNET.{key}", f"needs {count} entries for the "
              f"{n} stages of MODEL.STUNET.DIMS, got {len(values)}: {values}")
    check(all(d >= 1 for d in st.depth), "MODEL.STUNET.DEPTH",
          f"blocks per stage must be at least 1, got {st.depth}")
    axes = "z, y, x" if cfg.ndim == 3 else "y, x"
    for key, values, odd in (("POOL_OP_KERNEL_SIZES", st.pool_op_kernel_sizes, False),
                             ("CONV_KERNEL_SIZES", st.conv_kernel_sizes, True)):
        for entry in values:
            fits = len(entry) == cfg.ndim and all(k >= 1 and (k % 2 or not odd) for k in entry)
            check(fits, f"MODEL.STUNET.{key}", f"each entry needs {cfg.ndim} "
                  f"{'odd ' if odd else ''}positive sizes ({axes}) for PROBLEM.NDIM "
                  f"{cfg.problem.ndim}, got {entry}")


def stunet_kwargs(st: StunetConfig) -> dict[str, Any]:
    """The ``stunet_*`` fields of the network's ModelSpec from ``MODEL.STUNET`` (the four
    lists only with the ``custom`` variant, which alone reads them, as in BiaPy)."""
    custom = st.variant.lower() == "custom"
    return {"stunet_variant": st.variant.lower(),
            "stunet_depth": list(st.depth) if custom else [],
            "stunet_dims": list(st.dims) if custom else [],
            "stunet_pool_op_kernel_sizes": [list(p) for p in st.pool_op_kernel_sizes]
            if custom else [],
            "stunet_conv_kernel_sizes": [list(k) for k in st.conv_kernel_sizes]
            if custom else []}
