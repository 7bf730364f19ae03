"""Typed fields: a YAML value converted to a dataclass field's type, or a ConfigError."""

from __future__ import annotations

import ast
import dataclasses
import types
import typing
from typing import Any

from i2i_nb.errors import ConfigError


def all_keys(section: Any, prefix: str = "") -> list[str]:
    """Every dotted upper-case key below ``section``."""
    keys = []
    for f in dataclasses.fields(section):
        key = prefix + f.name.upper()
        value = getattr(section, f.name)
        keys.extend(all_keys(value, key + ".") if dataclasses.is_dataclass(value) else [key])
    return keys


def _sequence(key: str, text: str, of_strings: bool) -> Any:
    """A sequence written as text: ``(64, 64, 1)``, ``64, 64``, ``[MAE, SSIM]`` or ``MAE``."""
    text = text.strip()
    try:
        return ast.literal_eval(text or "()")
    except (ValueError, SyntaxError) as err:
        if of_strings:
            return [part.strip() for part in text.strip("()[]").split(",") if part.strip()]
        raise ConfigError(f"{key}: cannot read {text!r} as a sequence") from err


def coerce(key: str, value: Any, annotation: Any) -> Any:
    """Convert a YAML value to the field's type, or raise ConfigError naming the key."""
    if isinstance(annotation, types.UnionType):
        args = typing.get_args(annotation)
        if type(None) in args and (value is None or value == "None"):
            return None  # an optional field (BiaPy's None)
        annotation = args[0]
    origin = typing.get_origin(annotation)
    if isinstance(value, str) and (origin in (tuple, list)):
        value = _sequence(key, value, typing.get_args(annotation)[0] is str)
    try:
        if annotation is bool:
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            if not isinstance(value, bool):
                raise TypeError
            return value
        if annotation is int:
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise TypeError
            return int(float(value))
        if annotation is float:
            if isinstance(value, bool):
                raise TypeError
            return float(value)
        if annotation is dict:
            if not isinstance(value, dict):
                raise TypeError
            return {str(k): v for k, v in value.items()}
        if annotation is str:
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise TypeError
            return str(value)
        if origin in (tuple, list):
            if isinstance(value, int | float | str) and not isinstance(value, bool):
                value = [value]
            if not isinstance(value, list | tuple):
                raise TypeError
            item_type = typing.get_args(annotation)[0]
            items = [coerce(f"{key}[{i}]", v, item_type) for i, v in enumerate(value)]
            return origin(items)
    except (TypeError, ValueError, OverflowError) as err:
        name = getattr(annotation, "__name__", str(annotation))
        raise ConfigError(f"{key}: expected {name}, got {value!r}") from err
    raise ConfigError(f"{key}: unsupported type {annotation}")


def set_key(root: Any, key: str, value: Any) -> bool:
    """Set the dotted upper-case ``key`` below ``root``; False when no such field exists."""
    *parents, leaf = key.lower().split(".")
    section = root
    for part in parents:
        section = getattr(section, part, None)
        if section is None or not dataclasses.is_dataclass(section):
            return False
    names = {f.name: f for f in dataclasses.fields(section)}
    if leaf not in names or dataclasses.is_dataclass(getattr(section, leaf)):
        return False
    hints = typing.get_type_hints(type(section))
    setattr(section, leaf, coerce(key, value, hints[leaf]))
    return True


def is_section(root: Any, key: str) -> bool:
    """Whether the dotted ``key`` names a section (not a value) below ``root``."""
    node = root
    for part in key.lower().split("."):
        node = getattr(node, part, None)
        if node is None:
            return False
    return dataclasses.is_dataclass(node)
