"""YAML in and out: BiaPy-style files read into a validated :class:`Config`, and written back."""

from __future__ import annotations

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


def read_yaml(path: str | Path) -> dict:
    """The nested dict of a YAML config file (``yaml.safe_load``), or a ConfigError."""
    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text())
    except OSError as err:
        raise ConfigError(f"cannot read config file {path}: {err}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {path} is not valid YAML: {err}") from err
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
    """Write the whole effective config as BiaPy-style YAML."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(to_plain(cfg), sort_keys=False))
