"""Masked PII (脱敏) for roles and API keys that may not see it: resident IDs as
``110***********1234``, mobiles as ``138****5678``; other identifiers keep their
first and last characters. One definition for the pages and the API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["mask_id", "mask_mobile", "mask_phone", "mask_email", "mask_fields", "PII_FIELDS"]

#: Fields masked for a viewer (and an API key without the ``pii`` scope).
PII_FIELDS = ("id_number", "mobile", "phone", "email", "id_raw", "id_cleaned")


def _keep(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail:]


def mask_id(value: str | None) -> str | None:
    """An ID number: the first 3 and last 4 characters kept (18-digit resident ID:
    ``110***********1234``); a short one is starred whole."""
    if not value:
        return value
    return _keep(value, 3, 4) if len(value) >= 10 else _keep(value, 1, 1)


def mask_mobile(value: str | None) -> str | None:
    """A mobile: ``138****5678``."""
    if not value:
        return value
    return _keep(value, 3, 4)


def mask_phone(value: str | None) -> str | None:
    """A landline: the area code and the last 2 digits kept."""
    if not value:
        return value
    head = value.find("-") + 1 if "-" in value else 3
    return _keep(value, head, 2)


def mask_email(value: str | None) -> str | None:
    """An e-mail: the first character of the name and the domain kept."""
    if not value or "@" not in value:
        return mask_id(value)
    name, domain = value.split("@", 1)
    return _keep(name, 1, 0) + "@" + domain


_MASKS = {"id_number": mask_id, "id_raw": mask_id, "id_cleaned": mask_id,
          "mobile": mask_mobile, "phone": mask_phone, "email": mask_email}


def mask_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``record`` with its PII fields masked."""
    out = dict(record)
    for name, mask in _MASKS.items():
        if isinstance(out.get(name), str):
            out[name] = mask(out[name])
    return out
