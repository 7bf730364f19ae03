"""Exceptions raised for problems in the user's data or configuration."""


class DataError(ValueError):
    """A problem with the user's images: the message names the file(s) and the problem."""


class ConfigError(ValueError):
    """A problem with the configuration: the message names the key and the problem."""
