"""The per-record path: one raw source row in, one standardised row out.

This is the single definition of how a record is standardised and admitted.
The batch path (:mod:`matching.standardise.batch`) runs it over chunks with
field results cached by distinct value; the real-time API calls it directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from matching.config import CodeMaps
from matching.standardise.address import standardise_address
from matching.standardise.columns import INPUT_COLUMNS, OUTPUT_COLUMNS
from matching.standardise.dates import standardise_date
from matching.standardise.email import standardise_email
from matching.standardise.issues import REJECTING, Issue
from matching.standardise.name import pinyin_key, standardise_person_name
from matching.standardise.org import (
    OrgId,
    standardise_org_code,
    standardise_org_name,
    standardise_uscc,
)
from matching.standardise.phone import standardise_landline, standardise_mobile
from matching.standardise.resident_id import standardise_other_id, standardise_resident_id
from matching.standardise.text import clean_text

__all__ = ["Outcome", "standardise_record", "cached_fields"]

_PERSON_ID_TYPES = frozenset(
    {"RESIDENT_ID", "PASSPORT", "MILITARY", "HK_MACAO_PASS", "TAIWAN_PASS", "FOREIGN_PR"}
)
_ORG_ID_TYPES = frozenset({"USCC", "ORG_CODE", "BUSINESS_LICENSE"})
_CUSTOMER_TYPES = {"P": "P", "G": "G", "p": "P", "g": "G"}


@dataclass(frozen=True, slots=True)
class Outcome:
    """A standardised row (keys: OUTPUT_COLUMNS, values: text or None) and, if the
    row cannot be admitted, the reasons (REJECTING issue codes) it was rejected for."""

    record: dict[str, str | None]
    rejected: tuple[str, ...]


class _Fields:
    """The field standardisers, each cached by distinct input value.

    Dirty data repeats (the same names, the same codes, the same addresses), so
    a bounded cache per field is where most of the batch speed comes from. The
    cache holds results only: a hit returns exactly what a call would.
    """

    def __init__(self, size: int = 1 << 17) -> None:
        cache = lru_cache(maxsize=size)
        self.name = cache(standardise_person_name)
        self.resident_id = cache(standardise_resident_id)
        self.other_id = cache(standardise_other_id)
        self.date = cache(standardise_date)
        self.mobile = cache(standardise_mobile)
        self.landline = cache(standardise_landline)
        self.email = cache(standardise_email)
        self.address = cache(standardise_address)
        self.org_name = cache(standardise_org_name)
        self.uscc = cache(standardise_uscc)
        self.org_code = cache(standardise_org_code)
        self.timestamp = cache(_standardise_timestamp)
        self.pinyin = cache(pinyin_key)


@lru_cache(maxsize=1)
def cached_fields() -> _Fields:
    """The process-wide field caches (one per process; workers build their own)."""
    return _Fields()


def _standardise_timestamp(raw: str | None) -> tuple[str | None, tuple[str, ...]]:
    text = clean_text(raw)
    if text is None:
        return None, ()
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None, (Issue.UPDATED_AT_INVALID,)
    return value.isoformat(), ()


def _texts(row: Mapping[str, object]) -> dict[str, str | None]:
    """Every contract column as trimmed text, None when empty or missing."""
    get = row.get
    out: dict[str, str | None] = {}
    for key in INPUT_COLUMNS:
        value = get(key)
        if value.__class__ is str:
            out[key] = value.strip() or None
        elif value is None or value != value:  # None, or a NaN from a dataframe
            out[key] = None
        else:
            out[key] = str(value).strip() or None
    return out


def standardise_record(raw_row: Mapping[str, object], codes: CodeMaps) -> Outcome:
    """Standardise one source row (CONTRACT.md §1 columns; missing keys = empty).

    Never raises on dirty data: every problem becomes an issue code, and a row
    that no customer can be made from comes back with ``rejected`` set.
    """
    f = cached_fields()
    row = _texts(raw_row)
    issues: list[str] = []
    out: dict[str, str | None] = dict.fromkeys(OUTPUT_COLUMNS)

    system = row["source_system"]
    key = row["source_customer_id"]
    out["source_system"] = system.upper() if system else None
    out["source_customer_id"] = key
    system = out["source_system"]
    if system is None or key is None:
        issues.append(Issue.SOURCE_KEY_MISSING)
    elif system not in codes.systems:
        issues.append(Issue.SOURCE_UNKNOWN)

    raw_type = row["customer_type"]
    ctype = _CUSTOMER_TYPES.get(raw_type or "")
    out["customer_type"] = ctype
    if ctype is None:
        issues.append(Issue.TYPE_INVALID)

    sys_code = system or ""
    gender, gender_ok = codes.gender(sys_code, row["gender"])
    id_type, id_type_ok = codes.id_type(sys_code, row["id_type"])
    if not (gender_ok and id_type_ok):
        issues.append(Issue.CODE_UNMAPPED)

    raw_name = row["name"]
    if ctype == "G":
        _organisation_fields(out, issues, f, raw_name, id_type, id_type_ok, row)
    else:
        _person_fields(out, issues, f, raw_name, gender, id_type, id_type_ok, row)
    if out["name"] is None:
        issues.append(Issue.NAME_MISSING)

    mobile, m_issues = f.mobile(row["mobile"])
    phone, p_issues = f.landline(row["phone"])
    email, e_issues = f.email(row["email"])
    address = f.address(row["address"])
    updated_at, t_issues = f.timestamp(row["updated_at"])
    out.update(
        mobile=mobile,
        phone=phone,
        email=email,
        address=address.normalised,
        province=address.province,
        city=address.city,
        district=address.district,
        address_detail=address.detail,
        updated_at=updated_at,
    )
    issues.extend(m_issues)
    issues.extend(p_issues)
    issues.extend(e_issues)
    issues.extend(address.issues)
    issues.extend(t_issues)

    if not issues:
        return Outcome(out, ())
    unique = tuple(dict.fromkeys(issues))  # Issue members are str: join needs no str()
    out["issues"] = ";".join(unique)
    return Outcome(out, tuple(i for i in unique if i in REJECTING))


def _person_fields(
    out: dict[str, str | None],
    issues: list[str],
    f: _Fields,
    raw_name: str | None,
    gender: str,
    id_type: str | None,
    id_type_known: bool,
    row: Mapping[str, str | None],
) -> None:
    name = f.name(raw_name)
    out.update(
        name=name.name,
        name_plain=name.name_plain,
        surname=name.surname,
        given_name=name.given_name,
        name_pinyin=name.pinyin,
    )
    issues.extend(name.issues)

    birth, d_issues = f.date(row["birth_date"])
    issues.extend(d_issues)
    raw_id = row["id_number"]
    out["id_raw"] = raw_id
    if (id_type is None or not id_type_known) and raw_id is not None:
        # A number keyed without a known type: a resident ID only if it is a valid one.
        id_type = "RESIDENT_ID" if f.resident_id(raw_id).valid else "OTHER"
    if id_type is not None and raw_id is None:
        issues.append(Issue.ID_MISSING)
    if id_type in _ORG_ID_TYPES:
        issues.append(Issue.ID_TYPE_MISMATCH)
    out["id_type"] = id_type

    id_gender: str | None = None
    id_birth: str | None = None
    if id_type == "RESIDENT_ID" and raw_id is not None:
        rid = f.resident_id(raw_id)
        issues.extend(rid.issues)
        out["id_number"] = rid.number
        out["id_cleaned"] = rid.cleaned
        out["id_valid"] = "1" if rid.valid else "0"
        if rid.valid:
            id_gender, id_birth = rid.gender, rid.birth_date
    elif raw_id is not None:
        other = f.other_id(raw_id)
        out["id_number"] = other
        out["id_cleaned"] = other
        out["id_valid"] = "1" if other else "0"

    if id_birth is not None and birth is not None and birth != id_birth:
        issues.append(Issue.ID_BIRTH_MISMATCH)
    if id_gender is not None and gender in ("M", "F") and gender != id_gender:
        issues.append(Issue.ID_GENDER_MISMATCH)
    # The keyed value is what the clerk saw; the ID only fills a gap.
    out["birth_date"] = birth or id_birth
    out["gender"] = gender if gender in ("M", "F") else (id_gender or gender)


def _organisation_fields(
    out: dict[str, str | None],
    issues: list[str],
    f: _Fields,
    raw_name: str | None,
    id_type: str | None,
    id_type_known: bool,
    row: Mapping[str, str | None],
) -> None:
    org = f.org_name(raw_name)
    out.update(
        name=org.name,
        org_core=org.core,
        org_region=org.region,
        org_legal_form=org.legal_form,
        org_branch=org.branch,
        name_pinyin=f.pinyin(org.core) if org.core else None,
        gender=None,
    )
    issues.extend(org.issues)
    rep = f.name(row["legal_rep"])
    out["legal_rep"] = rep.name
    out["legal_rep_pinyin"] = rep.pinyin

    raw_id = row["id_number"]
    out["id_raw"] = raw_id
    if (id_type is None or not id_type_known) and raw_id is not None:
        if f.uscc(raw_id).valid:
            id_type = "USCC"
        elif f.org_code(raw_id).valid:
            id_type = "ORG_CODE"
        else:
            id_type = "OTHER"
    if id_type is not None and raw_id is None:
        issues.append(Issue.ID_MISSING)
    if id_type in _PERSON_ID_TYPES:
        issues.append(Issue.ID_TYPE_MISMATCH)
    out["id_type"] = id_type
    if raw_id is None:
        return
    org_id: OrgId | None = None
    if id_type == "USCC":
        org_id = f.uscc(raw_id)
    elif id_type == "ORG_CODE":
        org_id = f.org_code(raw_id)
    if org_id is None:
        other = f.other_id(raw_id)
        out["id_number"] = other
        out["id_cleaned"] = other
        out["id_valid"] = "1" if other else "0"
        return
    issues.extend(org_id.issues)
    out["uscc"] = org_id.uscc
    out["org_code"] = org_id.org_code
    out["id_number"] = org_id.uscc if id_type == "USCC" else org_id.org_code
    out["id_cleaned"] = org_id.cleaned
    out["id_valid"] = "1" if org_id.valid else "0"
