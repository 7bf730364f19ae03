"""YAML in and out: BiaPy-style files read into a validated :class:`Config`, and written back."""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import warnings
from pathlib import Path
from typing import Any

import yaml

from i2i_nb.config.biapy import flatten, translate
from i2i_nb.config.fields import set_key
from i2i_nb.config.root import Config
from i2i_nb.config.validate import validate
from i2i_nb.errors import ConfigError
from i2i_nb.files import write_text


def config_from_dict(values: dict, base: Config | None = None) -> Config:
    """Build a validated config from nested BiaPy-style keys, on top of ``base``.

    BiaPy's alternative and old values are translated first (one note line per old key);
    a BiaPy key without a meaning here warns once, saying why; anything else unknown
    warns with the closest known key.
    """
    cfg = from_plain(to_plain(base)) if base is not None else Config()
    translation = translate(flatten(values or {}), cfg)
    for line in translation.notes:
        print(f"note: {line}")
    for line in translation.warnings:
        warnings.warn(line, stacklevel=2)
    for key, value in translation.values.items():
        set_key(cfg, key, value)
    validate(cfg, translation.given)
    return cfg


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(raw: bytes, path: Path) -> str:
    """The text of a config file: UTF-8, or UTF-8/16/32 with a byte-order mark (as Windows
    editors save "Unicode"), or UTF-16 without one; else ConfigError naming the file."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError as err:
                raise ConfigError(f"config file {path}: starts as {codec} text but is not "
                                  f"valid {codec} ({err.reason} at byte {err.start})") from err
    if raw and len(raw) % 2 == 0 and raw.count(0) * 3 >= len(raw):  # UTF-16 without a BOM
        codec = "utf-16-le" if raw[1::2].count(0) > raw[0::2].count(0) else "utf-16-be"
        with contextlib.suppress(UnicodeDecodeError):
            return raw.decode(codec)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte 0x{raw[err.start]:02x} "
                          f"at position {err.start}); save it as UTF-8") from err


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping (plain YAML keeps
    the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                first = seen.setdefault(key, line)
            except TypeError:  # an unhashable key: the base class refuses it
                continue
            if first != line:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice (lines {first} and {line}); "
                    "keep one", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | Path) -> dict:
    """The nested dict of a YAML config file, or a ConfigError naming it.

    Safe loading (plain values only, no Python tags); UTF-8, or UTF-16/32 with a
    byte-order mark; a key given twice in one section is refused.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read config file {path}: {err.strerror or err}") from err
    try:
        values = yaml.load(decode_text(raw, path), Loader=_UniqueKeyLoader)  # noqa: S506
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {path} is not valid YAML: {err}") from err
    except RecursionError as err:
        raise ConfigError(f"config file {path} is nested too deeply to be a config") from err
    if values is not None and not isinstance(values, dict):
        raise ConfigError(f"config file {path} must hold sections of keys, not {type(values)}")
    return values or {}


def load_config(path: str | Path, overrides: dict | None = None) -> Config:
    """Read a BiaPy-style YAML file into a validated config; ``overrides`` (nested keys, as
    ``--set`` gives them) are laid over the file's values before validation."""
    values = read_yaml(path)
    return config_from_dict(merge(values, overrides or {}))


def merge(base: dict, extra: dict) -> dict:
    """``base`` with ``extra``'s nested keys laid over it (``base`` is changed)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def to_plain(cfg: Config) -> dict:
    """Nested dict with BiaPy's upper-case key names and plain YAML-safe values."""

    def convert(section: Any) -> dict:
        out = {}
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            if dataclasses.is_dataclass(value):
                out[f.name.upper()] = convert(value)
            elif isinstance(value, tuple):
                out[f.name.upper()] = list(value)
            else:
                out[f.name.upper()] = value
        return out

    return convert(cfg)


def from_plain(values: dict) -> Config:
    """Inverse of :func:`to_plain` without translation, validation or warnings."""
    cfg = Config()
    for key, value in flatten(values).items():
        set_key(cfg, key, value)
    return cfg


def save_config(cfg: Config, path: str | Path) -> None:
    """Write the whole effective config as BiaPy-style YAML (atomically)."""
    write_text(Path(path), yaml.safe_dump(to_plain(cfg), sort_keys=False))
