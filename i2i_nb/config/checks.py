"""The two checks every config validation is made of: a condition, and a choice."""

from __future__ import annotations

from i2i_nb.errors import ConfigError


def check(condition: bool, key: str, message: str) -> None:
    """Raise :class:`~i2i_nb.errors.ConfigError` ``"<key>: <message>"`` unless ``condition``."""
    if not condition:
        raise ConfigError(f"{key}: {message}")


def check_choice(value: str, choices: tuple[str, ...], key: str) -> None:
    """Refuse ``value`` (case-insensitive) unless it is one of ``choices``, listing them."""
    check(value.lower() in choices, key, f"{value!r} is not one of {', '.join(choices)}")
