"""The engine's match columns for one record, in Python.

The same columns as :mod:`matching.engine.features` computes in SQL for the
batch, for one standardised record at a time (the real-time API). Written
to give exactly what DuckDB gives: ``tests/realtime/test_parity.py`` checks
every record of the sample column by column against the SQL.

SQL semantics kept: ``regexp_extract`` answers '' on no match and ``nullif``
turns that into NULL; ``least``/``greatest`` skip NULLs; ``$`` is the end of
the text (RE2), which Python spells ``\\Z``; ``substr``/``length`` count
characters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from matching.engine.features import HEAD_OFFICE

__all__ = ["person_features", "organisation_features", "branch_state", "record_features",
           "Features"]

Features = dict[str, str | None]

_FIRST = re.compile(r"^([^ ]+)")
_LAST = re.compile(r"([^ ]+)\Z")
_ADDRESS_NUMBER = re.compile(r"^([0-9]+[A-Z]?) ")
_ADDRESS_LAST = re.compile(r" ([^ ]+)\Z")

_COMMON = ("source_system", "source_customer_id", "customer_type", "name", "name_plain",
           "name_pinyin", "id_type", "id_number", "id_cleaned", "mobile", "email", "phone",
           "address", "province", "city", "district", "address_detail")


def _ascii(value: str) -> bool:
    return value.isascii()


def _extract(pattern: re.Pattern[str], value: str) -> str:
    found = pattern.search(value)
    return found.group(1) if found else ""


def _name_word(name: str | None, pattern: re.Pattern[str]) -> str | None:
    if name is None or not _ascii(name):
        return None
    word = _extract(pattern, name).replace("-", "").replace("'", "")
    return word or None


def _least(a: str | None, b: str | None) -> str | None:
    values = [v for v in (a, b) if v is not None]
    return min(values) if values else None


def _greatest(a: str | None, b: str | None) -> str | None:
    values = [v for v in (a, b) if v is not None]
    return max(values) if values else None


def _latin_word(value: str | None, pattern: re.Pattern[str]) -> str | None:
    if value is None or not _ascii(value) or " " not in value:
        return None
    return _extract(pattern, value) or None


def _common(rec: Mapping[str, str | None]) -> Features:
    out: Features = {c: rec.get(c) for c in _COMMON}
    address = rec.get("address")
    out["unique_id"] = f"{rec.get('source_system')}:{rec.get('source_customer_id')}"
    out["address_latin"] = (address.replace(" ", "")
                            if address is not None and _ascii(address) else None)
    out["address_number"] = _latin_word(address, _ADDRESS_NUMBER)
    out["address_last"] = _latin_word(address, _ADDRESS_LAST)
    return out


def _substr(value: str | None, start: int, length: int) -> str | None:
    return None if value is None else value[start - 1:start - 1 + length]


def person_features(rec: Mapping[str, str | None]) -> Features:
    """:func:`matching.engine.features.person_features_sql` for one record."""
    out = _common(rec)
    name = rec.get("name")
    first, last = _name_word(name, _FIRST), _name_word(name, _LAST)
    gender = rec.get("gender")
    birth_date = rec.get("birth_date")
    out.update(
        surname=rec.get("surname"), given_name=rec.get("given_name"),
        name_first=first, name_last=last, name_lo=_least(first, last),
        name_hi=_greatest(first, last),
        gender=gender if gender in ("M", "F") else None,
        birth_date=birth_date, birth_year=_substr(birth_date, 1, 4),
        resident_id=rec.get("id_number") if rec.get("id_type") == "RESIDENT_ID" else None,
        id_prefix=_substr(rec.get("id_cleaned"), 1, 14),
    )
    return out


def branch_state(org_branch: str | None, org_code: str | None,
                 branches_of_code: tuple[str | None, str | None]) -> str | None:
    """The branch state (features.py ``_branch_state``): ``branches_of_code`` is
    (min, max) of ``org_branch`` over the organisations holding ``org_code``."""
    if org_branch is not None:
        return org_branch
    if org_code is None:
        return None
    lo, hi = branches_of_code
    if hi is None:
        return HEAD_OFFICE
    if lo == hi:
        return hi
    return None


def organisation_features(rec: Mapping[str, str | None],
                          branches_of_code: tuple[str | None, str | None] = (None, None)
                          ) -> Features:
    """:func:`matching.engine.features.organisation_features_sql` for one record;
    ``branches_of_code`` as for :func:`branch_state`."""
    out = _common(rec)
    id_type, cleaned = rec.get("id_type"), rec.get("id_cleaned")
    code_any = None
    if id_type == "USCC" and cleaned is not None and len(cleaned) == 18:
        code_any = cleaned[8:17]
    elif id_type == "ORG_CODE" and cleaned is not None and len(cleaned) == 9:
        code_any = cleaned
    org_core = rec.get("org_core")
    out.update(
        org_core=org_core, org_region=rec.get("org_region"),
        org_legal_form=rec.get("org_legal_form"), org_branch=rec.get("org_branch"),
        branch_state=branch_state(rec.get("org_branch"), rec.get("org_code"),
                                  branches_of_code),
        org_code=rec.get("org_code"), org_code_any=code_any,
        core_prefix=_substr(org_core, 1, 2),
        legal_rep=rec.get("legal_rep"), legal_rep_pinyin=rec.get("legal_rep_pinyin"),
    )
    return out


def record_features(rec: Mapping[str, str | None],
                    branches_of_code: tuple[str | None, str | None] = (None, None)
                    ) -> Features:
    """The match columns of a standardised record of either type."""
    if rec.get("customer_type") == "G":
        return organisation_features(rec, branches_of_code)
    return person_features(rec)
