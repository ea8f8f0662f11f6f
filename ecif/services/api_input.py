"""An integrator's JSON body (CONTRACT.md §1 columns) checked and standardised:
every bad field named (:class:`BadInput` with ``fields``), never an exception
a caller did not ask for. The record then goes through the same per-record
standardisation and admission as a file row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from matching.config import CodeMaps
from matching.exceptions import BadInput
from matching.standardise.columns import FIELD_LIMITS, INPUT_COLUMNS
from matching.standardise.issues import Issue
from matching.standardise.record import standardise_record

__all__ = ["parse_record", "MATCH_FIELDS", "REGISTER_FIELDS", "DEFAULT_SOURCE"]

#: The source system of a body that names none (standard codes).
DEFAULT_SOURCE = "API"
#: match-check: the §1 columns but the source key and the time.
MATCH_FIELDS = tuple(c for c in INPUT_COLUMNS if c not in ("source_customer_id", "updated_at"))
REGISTER_FIELDS = INPUT_COLUMNS
#: source_customer_id of a match-check record (it is no record of any system)
_PROBE_ID = "match-check"

_REJECTED_FIELD = {Issue.NAME_MISSING: ("name", "required"),
                   Issue.TYPE_INVALID: ("customer_type", "must be P or G"),
                   Issue.UPDATED_AT_FUTURE: ("updated_at", "in the future")}


def parse_record(body: Any, codes: CodeMaps, *, register: bool) -> dict[str, str | None]:
    """The standardised record of ``body``; BadInput naming every bad field."""
    if not isinstance(body, Mapping):
        raise BadInput("the body must be a JSON object", fields={"body": "not a JSON object"})
    allowed = REGISTER_FIELDS if register else MATCH_FIELDS
    fields: dict[str, str] = {}
    raw: dict[str, str] = {}
    for name, value in body.items():
        if name not in allowed:
            fields[str(name)[:100]] = "unknown field"
        elif value is None:
            continue
        elif not isinstance(value, str):
            fields[name] = f"must be a string, not {type(value).__name__}"
        elif len(value) > FIELD_LIMITS.get(name, 1000):
            fields[name] = f"longer than {FIELD_LIMITS.get(name, 1000)} characters"
        else:
            raw[name] = value
    ctype = raw.get("customer_type", "").strip()
    if "customer_type" not in fields and ctype not in ("P", "G"):
        fields["customer_type"] = "required: P or G" if not ctype else f"unknown {ctype!r}: P or G"
    if register:
        for name in ("source_system", "source_customer_id"):
            if name not in fields and not raw.get(name, "").strip():
                fields[name] = "required"
    else:
        raw.setdefault("source_system", DEFAULT_SOURCE)
        raw["source_customer_id"] = _PROBE_ID
    if fields:
        raise BadInput("bad fields: " + ", ".join(sorted(fields)), fields)
    outcome = standardise_record(raw, codes)
    issues = set((outcome.record.get("issues") or "").split(";"))
    for code in outcome.rejected:
        name, why = _REJECTED_FIELD.get(Issue(code), ("body", code))
        fields[name] = why
    if raw.get("birth_date", "").strip() and Issue.DATE_INVALID in issues:
        fields["birth_date"] = "unparseable or impossible date"
    if register and raw.get("updated_at", "").strip() and Issue.UPDATED_AT_INVALID in issues:
        fields["updated_at"] = "unparseable ISO 8601 time"
    if fields:
        raise BadInput("bad fields: " + ", ".join(sorted(fields)), fields)
    return outcome.record
