"""Errors raised by ECIF. Standardisers never raise on dirty data; these are
for configuration and usage errors whose message names the bad value."""

from __future__ import annotations

__all__ = ["ECIFError", "ConfigError", "InputFileError"]


class ECIFError(Exception):
    """Base class of every error ECIF raises on purpose."""


class ConfigError(ECIFError):
    """A file under config/ is missing or malformed."""


class InputFileError(ECIFError):
    """An input file cannot be read (missing, wrong encoding, missing columns)."""
