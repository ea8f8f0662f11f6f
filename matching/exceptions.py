"""Errors raised by ECIF. Standardisers never raise on dirty data; these are
for configuration and usage errors whose message names the bad value.

Errors come by kind, so that every caller maps them once: the CLI to a
one-line message, a web view to a status code (``http_status``).

| class | meaning | HTTP |
|---|---|---|
| :class:`BadInput` | the caller sent something malformed | 400 |
| :class:`NotFound` | what the caller names does not exist | 404 |
| :class:`Conflict` | stale version, contradicting decision, already done | 409 |
| :class:`Forbidden` | the caller may not do this | 403 |
| :class:`Busy` | the nightly batch or an ingest holds the store: try again later | 503 |
"""

from __future__ import annotations

__all__ = ["ECIFError", "ConfigError", "InputFileError", "BadInput", "NotFound", "Conflict",
           "Forbidden", "Busy", "TrainingError"]


class ECIFError(Exception):
    """Base class of every error ECIF raises on purpose."""

    http_status = 500
    code = "error"


class ConfigError(ECIFError):
    """A file under config/ is missing or malformed."""

    code = "config_error"


class TrainingError(ECIFError):
    """The data cannot train a model: too few records, or no field to learn from.
    The message says what was tried and which fields the data holds."""

    code = "training_error"


class BadInput(ECIFError):
    """The caller's input is malformed. ``fields`` names each bad field and why."""

    http_status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})


class InputFileError(BadInput):
    """An input file cannot be read (missing, wrong encoding, missing columns)."""


class NotFound(ECIFError):
    http_status = 404
    code = "not_found"


class Conflict(ECIFError):
    """The request contradicts the store's state: a stale version, a decision that
    contradicts a standing one, a key already registered with other fields."""

    http_status = 409
    code = "conflict"


class Forbidden(ECIFError):
    http_status = 403
    code = "forbidden"


class Busy(ECIFError):
    """The store is held by the nightly batch or an ingest; the caller may retry."""

    http_status = 503
    code = "busy"
