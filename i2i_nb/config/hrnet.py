"""``MODEL.HRNET``: the high-resolution network's keys, their checks and BiaPy's old forms."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from i2i_nb.errors import ConfigError

VARIANTS = ("W18", "W32", "W48", "W64", "custom")
BLOCK_TYPES = ("BASIC", "BOTTLENECK", "CONVNEXT_V1", "CONVNEXT_V2")
HEAD_TYPES = ("FCN", "ASPP", "PSP", "OCR")
_KEY = "MODEL.HRNET."


@dataclass
class HRNetConfig:
    """``MODEL.HRNET`` (BiaPy 3.7.1's keys; read with ``MODEL.ARCHITECTURE: hrnet``).

    ``VARIANT``: ``W18``, ``W32``, ``W48``, ``W64`` (3 stages of 1, 4 and 3 modules with 2,
    3 and 4 branches of 4 blocks, ``W * 2**b`` channels in branch ``b``) or ``custom``: the
    ``NUM_*`` lists, one entry per stage (``NUM_STAGES``), and per branch for ``NUM_BLOCKS``
    and ``NUM_CHANNELS``. ``Z_DOWN``, ``YX_DOWN``: the down-sampling (1 or 2) of each stage's
    new branch, the first stage's also applied twice in the stem; all 0: 1 in z and 2 in y, x
    (BiaPy's values for the named variants, which it imposes on them; here a given value is
    read for every variant). ``BLOCK_TYPE``: the blocks of the branches (BiaPy resets it to
    BASIC for the named variants; read here for every variant). ``HEAD_TYPE``: ``FCN`` (a 1x1
    convolution), ``ASPP``, ``PSP`` or ``OCR`` (2D only) context modules of 256 channels
    followed by a 1x1 convolution.
    """

    variant: str = "W48"
    z_down: list[int] = field(default_factory=lambda: [0, 0, 0])
    yx_down: list[int] = field(default_factory=lambda: [0, 0, 0])
    block_type: str = "BASIC"
    head_type: str = "FCN"
    num_stages: int = 3
    num_modules: list[int] = field(default_factory=lambda: [1, 4, 3])
    num_branches: list[int] = field(default_factory=lambda: [2, 3, 4])
    num_blocks: list[list[int]] = field(default_factory=lambda: [[4, 4], [4, 4, 4],
                                                                 [4, 4, 4, 4]])
    num_channels: list[list[int]] = field(default_factory=lambda: [[18, 36], [18, 36, 72],
                                                                   [18, 36, 72, 144]])


def _check(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ConfigError(f"{_KEY}{key}: {message}")


def validate_hrnet(h: HRNetConfig, ndim: int) -> None:
    """Check ``MODEL.HRNET`` and normalise it in place (upper-case names, ``custom``; all-0
    down-sampling lists emptied: the defaults); ConfigError names the key."""
    variant = {v.upper(): v for v in VARIANTS}.get(str(h.variant).upper())
    _check(variant is not None, "VARIANT", f"must be one of {', '.join(VARIANTS)}, got "
           f"{h.variant!r}")
    h.variant = str(variant)
    h.block_type, h.head_type = h.block_type.upper(), h.head_type.upper()
    _check(h.block_type in BLOCK_TYPES, "BLOCK_TYPE", f"must be one of "
           f"{', '.join(BLOCK_TYPES)}, got {h.block_type!r}")
    _check(h.head_type in HEAD_TYPES, "HEAD_TYPE", f"must be one of {', '.join(HEAD_TYPES)}, "
           f"got {h.head_type!r}")
    _check(not (ndim == 3 and h.head_type == "OCR"), "HEAD_TYPE",
           "'OCR' is not available for 3D (as in BiaPy); choose ASPP, PSP or FCN")
    stages = h.num_stages if h.variant == "custom" else 3
    if h.variant == "custom":
        _check(stages >= 1, "NUM_STAGES", f"must be at least 1, got {stages}")
        for key in ("NUM_MODULES", "NUM_BRANCHES", "NUM_BLOCKS", "NUM_CHANNELS"):
            values = getattr(h, key.lower())
            _check(len(values) == stages, key, f"needs one entry per stage (NUM_STAGES: "
                   f"{stages}), got {values}")
        _check(all(m >= 1 for m in h.num_modules), "NUM_MODULES",
               f"values must be at least 1, got {h.num_modules}")
        _check(all(b >= 1 for b in h.num_branches) and h.num_branches == sorted(h.num_branches),
               "NUM_BRANCHES", f"values must be at least 1 and never decrease (a stage adds "
               f"branches), got {h.num_branches}")
        for key in ("NUM_BLOCKS", "NUM_CHANNELS"):
            for i, row in enumerate(getattr(h, key.lower())):
                _check(len(row) == h.num_branches[i] and all(v >= 1 for v in row), key,
                       f"stage {i} needs {h.num_branches[i]} positive values (NUM_BRANCHES"
                       f"[{i}]), got {row}")
    for key in ("Z_DOWN", "YX_DOWN"):
        values = list(getattr(h, key.lower()))
        if all(v == 0 for v in values):
            values = []
        _check(not values or len(values) == stages, key, f"needs one value per stage "
               f"({stages}), got {values}")
        _check(all(v in (1, 2) for v in values), key, "values must be 1 or 2 (or all 0: "
               f"{'1' if key == 'Z_DOWN' else '2'} at every stage), got {values}")
        setattr(h, key.lower(), values)


def old_hrnet_keys(flat: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """BiaPy's conversions of old HRNet configs: ``MODEL.HRNET_<W>`` sections,
    ``ARCHITECTURE: hrnet<W>``, ``HRNET.CUSTOM``, ``HRNET.STAGE<n>`` and a boolean
    ``HRNET.Z_DOWN``."""
    flat = dict(flat)
    for width in (64, 48, 32, 18):
        old = f"MODEL.HRNET_{width}."
        moved = [k for k in flat if k.startswith(old)]
        for key in moved:
            flat.setdefault(_KEY + key[len(old):], flat.pop(key))
        if moved:
            notes.append(f"{old}* are old keys: read as {_KEY}*")
            break
    arch = str(flat.get("MODEL.ARCHITECTURE", ""))
    custom = flat.pop(_KEY + "CUSTOM", None)
    if custom is not None:
        notes.append(f"{_KEY}CUSTOM is an old key: read as {_KEY}VARIANT")
        if custom is True:
            flat[_KEY + "VARIANT"] = "custom"
    match = re.fullmatch(r"hrnet_?w?(\d+)", arch.lower())
    if match:
        flat["MODEL.ARCHITECTURE"] = "hrnet"
        if custom is not True:
            flat.setdefault(_KEY + "VARIANT", f"W{int(match.group(1))}")
        notes.append(f"MODEL.ARCHITECTURE {arch!r} is an old name: read as hrnet with "
                     f"{_KEY}VARIANT {flat[_KEY + 'VARIANT']}")
    flat = {k: v for k, v in flat.items() if not k.startswith(_KEY + "STAGE1.")}
    stages = [n for n in range(2, 6) if any(k.startswith(f"{_KEY}STAGE{n}.") for k in flat)]
    lists: dict[str, list] = {}
    for n in stages:
        stage = {k.rsplit(".", 1)[1]: flat.pop(k) for k in list(flat)
                 if k.startswith(f"{_KEY}STAGE{n}.")}
        for key, default in (("NUM_MODULES", 1), ("NUM_BRANCHES", n), ("NUM_BLOCKS", [4] * n),
                             ("NUM_CHANNELS", [18 * 2 ** i for i in range(n)])):
            lists.setdefault(key, []).append(stage.get(key, default))
    if stages:
        flat.update({_KEY + k: v for k, v in lists.items()}, **{_KEY + "NUM_STAGES": len(stages)})
        notes.append(f"{_KEY}STAGE<n> sections are old keys: read as {_KEY}NUM_*")
    if isinstance(flat.get(_KEY + "Z_DOWN"), bool):
        z = flat[_KEY + "Z_DOWN"]
        flat[_KEY + "Z_DOWN"] = [2 if z else 1] * int(flat.get(_KEY + "NUM_STAGES", 3))
        notes.append(f"{_KEY}Z_DOWN as a flag is an old form: read as one value per stage")
    return flat
