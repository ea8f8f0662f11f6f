"""How a record is standardised and admitted, as a fixed sequence of steps.

This module is the single definition of a record's standardisation. Each
:class:`Step` is a pure function of a few values of the row — raw cells
(``in:<column>``) or what earlier steps produced — returning its output values
and the issue codes it found. Both paths run :data:`STEPS` in order:

* the per-record path (:mod:`matching.standardise.record`) calls each step
  once for the row;
* the batch path (:mod:`matching.standardise.batch`) calls each step once per
  distinct combination of its inputs in a chunk and maps the results back.

So the two cannot drift: there is no second copy of any field or cross-field
rule, only two ways of driving the same steps. A row's issue codes are the
steps' issues in step order, each code once (:func:`finish_issues`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matching.config import CodeMaps
from matching.standardise.address import standardise_address
from matching.standardise.columns import FIELD_LIMITS, INPUT_COLUMNS
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

__all__ = [
    "Context",
    "PASS_THROUGH",
    "STEPS",
    "Step",
    "cached_fields",
    "plain_fields",
    "clean_cell",
    "finish_issues",
    "input_key",
    "raw_key",
    "utc_instant",
    "CHINA_TIME",
]

_PERSON_ID_TYPES = frozenset(
    {"RESIDENT_ID", "PASSPORT", "MILITARY", "HK_MACAO_PASS", "TAIWAN_PASS", "FOREIGN_PR"}
)
_ORG_ID_TYPES = frozenset({"USCC", "ORG_CODE", "BUSINESS_LICENSE"})
_CUSTOMER_TYPES = {"P": "P", "G": "G", "p": "P", "g": "G"}
_NONE: tuple[str, ...] = ()
#: The contract's zone for a time keyed without an offset.
CHINA_TIME = timezone(timedelta(hours=8))
_CHINA_OFFSET = timedelta(hours=8)
Issues = tuple[str, ...]


class _Fields:
    """The field standardisers, each cached by distinct input value.

    Dirty data repeats (the same names, the same codes, the same addresses), so
    for the per-record path a bounded cache per field saves work across rows.
    The cache holds results only: a hit returns exactly what a call would.
    """

    def __init__(self, size: int = 1 << 17) -> None:
        """``size`` results per field; 0 for no caches, the plain functions."""
        cache: Callable[[Callable[..., Any]], Callable[..., Any]] = (
            lru_cache(maxsize=size) if size else _plain)
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


def _plain(function: Callable[..., Any]) -> Callable[..., Any]:
    return function


@lru_cache(maxsize=1)
def cached_fields() -> _Fields:
    """The process-wide field caches (one per process; workers build their own)."""
    return _Fields()


@lru_cache(maxsize=1)
def plain_fields() -> _Fields:
    """The field standardisers without caches, for the batch path: it already
    calls each once per distinct value of a chunk, and across chunks a cache
    costs more than it saves (on the generated data, 19.5 against 23.7 µs a
    row, and 330 MiB less per process)."""
    return _Fields(size=0)


@dataclass(frozen=True, slots=True)
class Context:
    """What every step may consult besides the row: the code tables and the
    field standardisers."""

    codes: CodeMaps
    fields: _Fields


@dataclass(frozen=True, slots=True)
class Step:
    """``run(context, *inputs)`` returns ``(*outputs, issues)``: one value per
    name in ``outputs``, then a tuple of issue codes. ``inputs`` name raw cells
    (``in:<column>``, see :func:`input_key`) or earlier steps' outputs."""

    run: Callable[..., tuple[Any, ...]]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    #: For a one-input step that returns most values unchanged and without issues:
    #: given the distinct input values (object array, None for empty), which ones
    #: ``run`` may change or flag. The batch path calls ``run`` on those alone and
    #: passes the others through; the per-record path ignores it.
    screen: Callable[[np.ndarray], np.ndarray] | None = None
    #: For a one-input step: given the distinct input values, the ones it computes
    #: column-wise (a mask) and, for those, every output (object arrays as long as
    #: the values; no issue codes for them); ``run`` does the rest, one value at a
    #: time. The per-record path ignores it; the batch path must give exactly what
    #: ``run`` gives (tests/standardise/test_batch_parity.py).
    batch: Callable[[np.ndarray], tuple[np.ndarray, tuple[np.ndarray, ...]]] | None = None
    #: Inputs whose values ``run`` passes to ``to_simplified`` (as they are or width
    #: folded): the batch path converts their distinct values together beforehand
    #: (:func:`matching.standardise.text.simplified_in_advance`).
    simplifies: tuple[str, ...] = ()


def raw_key(column: str) -> str:
    """The name of a cell of ``column`` as read (trimmed): the input of the first steps."""
    return f"raw:{column}"


def input_key(column: str) -> str:
    """The name a step uses for a cell of ``column`` once admitted (see :func:`_admit`)."""
    return f"in:{column}"


def clean_cell(value: object) -> str | None:
    """A raw cell as trimmed text; None when empty, missing or NaN."""
    if value.__class__ is str:
        return value.strip() or None
    if value is None or value != value:  # None, or a NaN from a dataframe
        return None
    return str(value).strip() or None


def finish_issues(issues: Iterable[str]) -> tuple[str | None, tuple[str, ...]]:
    """A row's issue codes in order, each once: the ``;``-joined text (None when
    there is none) and the codes that reject the row."""
    unique = tuple(dict.fromkeys(issues))  # Issue members are str: join needs no str()
    if not unique:
        return None, _NONE
    return ";".join(unique), tuple(i for i in unique if i in REJECTING)


def utc_instant(value: datetime) -> str:
    """The instant as comparable UTC text to the microsecond,
    ``YYYY-MM-DDTHH:MM:SS.ffffff``; a time without offset is China time (+08:00)."""
    offset = value.utcoffset()
    naive = value.replace(tzinfo=None) - (_CHINA_OFFSET if offset is None else offset)
    return naive.isoformat(timespec="microseconds")


def _standardise_timestamp(raw: str | None) -> tuple[str | None, str, tuple[str, ...]]:
    """The ISO 8601 text as keyed (normalised), its UTC instant ('' when missing or
    invalid: it orders first), and the issue codes."""
    # Printable ASCII without spaces is what clean_text would return it as: skip it.
    plain = raw and raw.isascii() and raw.isprintable() and " " not in raw
    text = raw if plain else clean_text(raw)
    if text is None:
        return None, "", _NONE
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        instant = utc_instant(value)
    except (ValueError, OverflowError):  # not a time; or beyond year 9999 in UTC
        return None, "", (Issue.UPDATED_AT_INVALID,)
    return value.isoformat(), instant, _NONE


# The common ISO 8601 shape, which the batch path reads column-wise; anything
# else (other separators, compact or partial forms, odd offsets) goes through
# _standardise_timestamp one value at a time.
_ISO_SHAPE = (r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[T ](?P<h>\d{2}):(?P<mi>\d{2}):"
              r"(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?(?P<tz>Z|[+-]\d{2}:\d{2})?$")
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_CHINA_SECONDS = 8 * 3600


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (years >= 1)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def _timestamps_batch(values: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """:func:`_standardise_timestamp` for the distinct values of a column at once: the
    values of the common shape that are valid times (years 1001-9998, so that no
    instant leaves the years datetime keeps) are done here, with numpy and Arrow;
    the mask says which."""
    n = len(values)
    keyed, instant = np.empty(n, dtype=object), np.empty(n, dtype=object)
    text = pa.array(values, pa.string())
    parts = pc.extract_regex(text, _ISO_SHAPE)
    shaped = np.asarray(parts.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    done = np.zeros(n, dtype=bool)
    if not shaped.any():
        return done, (keyed, instant)
    at = np.flatnonzero(shaped)
    parts, text = parts.filter(pa.array(shaped)), text.filter(pa.array(shaped))

    def number(field: str) -> np.ndarray:
        return np.asarray(pc.cast(parts.field(field), pa.int64()).to_numpy(), dtype=np.int64)

    y, mo, d, h, mi, s = (number(f) for f in ("y", "mo", "d", "h", "mi", "s"))
    fraction = pc.utf8_rpad(parts.field("f"), 6, "0")
    micro = np.asarray(pc.cast(fraction, pa.int64()).to_numpy(), dtype=np.int64)
    tz = parts.field("tz")
    signed = pc.utf8_length(tz).to_numpy() == 6
    tz_h = np.where(signed, np.asarray(pc.cast(pc.if_else(
        pa.array(signed), pc.utf8_slice_codeunits(tz, 1, 3), "0"), pa.int64()).to_numpy()), 0)
    tz_m = np.where(signed, np.asarray(pc.cast(pc.if_else(
        pa.array(signed), pc.utf8_slice_codeunits(tz, 4, 6), "0"), pa.int64()).to_numpy()), 0)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    month_days = _MONTH_DAYS[np.clip(mo, 0, 12)] + (leap & (mo == 2))
    valid = ((y >= 1001) & (y <= 9998) & (mo >= 1) & (mo <= 12) & (d >= 1)
             & (d <= month_days) & (h <= 23) & (mi <= 59) & (s <= 59)
             & (tz_h <= 23) & (tz_m <= 59))
    if not valid.any():
        return done, (keyed, instant)
    minus = np.asarray(pc.starts_with(tz, "-").to_numpy(zero_copy_only=False), dtype=bool)
    offset = np.where(signed, np.where(minus, -1, 1) * (tz_h * 3600 + tz_m * 60),
                      np.where(pc.utf8_length(tz).to_numpy() == 1, 0, _CHINA_SECONDS))
    seconds = (_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset)
    utc = np.datetime_as_string(seconds[valid].astype("datetime64[s]"), unit="s")
    micro_text = pa.array(np.char.zfill(micro[valid].astype(str), 6))
    instant_text = pc.binary_join_element_wise(pa.array(utc), ".", micro_text, "")
    # as datetime.isoformat writes it: "T", microseconds only when not zero, and
    # the offset as +HH:MM (Z and -00:00 are +00:00)
    text = text.filter(pa.array(valid))
    tz = tz.filter(pa.array(valid))
    zero = pc.or_(pc.equal(tz, "Z"), pc.equal(tz, "-00:00"))
    tz_text = pc.if_else(zero, "+00:00", tz)
    frac_text = pc.if_else(pa.array(micro[valid] != 0),
                           pc.binary_join_element_wise(".", micro_text, ""), "")
    keyed_text = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(text, 0, 10), "T", pc.utf8_slice_codeunits(text, 11, 19),
        frac_text, tz_text, "")
    rows = at[valid]
    keyed[rows] = keyed_text.to_numpy(zero_copy_only=False)
    instant[rows] = instant_text.to_numpy(zero_copy_only=False)
    done[rows] = True
    return done, (keyed, instant)


# --- the steps, in the order their issue codes are reported -----------------

# NUL and the other C0 controls (but tab, line feed, carriage return), DEL, and the
# BOM a file joined to another brings along: never part of a value, and a key holding
# one would be a different key.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff]")


def _admission_screen(limit: int) -> Callable[[np.ndarray], np.ndarray]:
    def screen(values: np.ndarray) -> np.ndarray:
        """The values :func:`_admitter` changes: with a control character, or too long."""
        text = pa.array(values, pa.string())
        odd = pc.or_(pc.match_substring_regex(text, _CONTROL.pattern),
                     pc.greater(pc.utf8_length(text), limit))
        return np.asarray(pc.fill_null(odd, False).to_numpy(zero_copy_only=False), dtype=bool)

    return screen


def _admitter(limit: int) -> Callable[[Context, str | None], tuple[str | None, Issues]]:
    def admit(ctx: Context, cell: str | None) -> tuple[str | None, Issues]:
        """A cell as every later step sees it: control characters taken out. One
        longer than its column's limit rejects the row (FIELD_TOO_LONG); later steps
        see it cut to the limit, so that they neither chew on megabytes nor report
        the field missing."""
        if cell is None:
            return None, _NONE
        issues = _NONE
        if _CONTROL.search(cell):
            cell = _CONTROL.sub("", cell).strip() or None
            issues = (Issue.CONTROL_CHAR_REMOVED,)
            if cell is None:
                return None, issues
        if len(cell) > limit:
            return cell[:limit], (*issues, Issue.FIELD_TOO_LONG)
        return cell, issues

    return admit


def _source(ctx: Context, system: str | None, key: str | None) -> tuple[str | None, Issues]:
    system = system.upper() if system else None
    if system is None or key is None:
        return system, (Issue.SOURCE_KEY_MISSING,)
    if system not in ctx.codes.systems:
        return system, (Issue.SOURCE_UNKNOWN,)
    return system, _NONE


def _customer_type(ctx: Context, raw: str | None) -> tuple[str | None, Issues]:
    ctype = _CUSTOMER_TYPES.get(raw or "")
    return ctype, (_NONE if ctype is not None else (Issue.TYPE_INVALID,))


def _code_maps(
    ctx: Context, system: str | None, raw_gender: str | None, raw_id_type: str | None
) -> tuple[str, str | None, bool, Issues]:
    gender, gender_ok = ctx.codes.gender(system or "", raw_gender)
    id_type, id_type_ok = ctx.codes.id_type(system or "", raw_id_type)
    issues = _NONE if gender_ok and id_type_ok else (Issue.CODE_UNMAPPED,)
    return gender, id_type, id_type_ok, issues


def _name(ctx: Context, ctype: str | None, raw: str | None) -> tuple[Any, ...]:
    """Persons: name parts and pinyin. Organisations: name parts, pinyin of the core."""
    f = ctx.fields
    if ctype == "G":
        org = f.org_name(raw)
        pinyin = f.pinyin(org.core) if org.core else None
        return (org.name, None, None, None, pinyin,
                org.core, org.region, org.legal_form, org.branch, org.issues)
    name = f.name(raw)
    return (name.name, name.name_plain, name.surname, name.given_name, name.pinyin,
            None, None, None, None, name.issues)


def _birth_date(ctx: Context, ctype: str | None, raw: str | None) -> tuple[Any, ...]:
    if ctype == "G":
        return None, _NONE
    return ctx.fields.date(raw)


def _identity(
    ctx: Context, ctype: str | None, id_type: str | None, id_type_known: bool, raw: str | None
) -> tuple[Any, ...]:
    """Returns (id_type, id_number, id_cleaned, id_valid, uscc, org_code,
    the ID's birth date, the ID's gender, issues)."""
    if ctype == "G":
        return _org_identity(ctx.fields, id_type, id_type_known, raw)
    return _person_identity(ctx.fields, id_type, id_type_known, raw)


def _id_presence(id_type: str | None, raw: str | None, wrong_kind: frozenset[str]) -> list[str]:
    issues: list[str] = []
    if id_type is not None and raw is None:
        issues.append(Issue.ID_MISSING)
    if id_type in wrong_kind:
        issues.append(Issue.ID_TYPE_MISMATCH)
    return issues


def _person_identity(
    f: _Fields, id_type: str | None, id_type_known: bool, raw: str | None
) -> tuple[Any, ...]:
    if (id_type is None or not id_type_known) and raw is not None:
        # A number keyed without a known type: a resident ID only if it is a valid one.
        id_type = "RESIDENT_ID" if f.resident_id(raw).valid else "OTHER"
    issues = _id_presence(id_type, raw, _ORG_ID_TYPES)
    if raw is None:
        return id_type, None, None, None, None, None, None, None, tuple(issues)
    if id_type == "RESIDENT_ID":
        rid = f.resident_id(raw)
        issues.extend(rid.issues)
        if rid.valid:
            return (id_type, rid.number, rid.cleaned, "1", None, None,
                    rid.birth_date, rid.gender, tuple(issues))
        return id_type, rid.number, rid.cleaned, "0", None, None, None, None, tuple(issues)
    other = f.other_id(raw)
    return (id_type, other, other, "1" if other else "0", None, None,
            None, None, tuple(issues))


def _org_identity(
    f: _Fields, id_type: str | None, id_type_known: bool, raw: str | None
) -> tuple[Any, ...]:
    if (id_type is None or not id_type_known) and raw is not None:
        if f.uscc(raw).valid:
            id_type = "USCC"
        elif f.org_code(raw).valid:
            id_type = "ORG_CODE"
        else:
            id_type = "OTHER"
    issues = _id_presence(id_type, raw, _PERSON_ID_TYPES)
    if raw is None:
        return id_type, None, None, None, None, None, None, None, tuple(issues)
    org_id: OrgId | None = None
    if id_type == "USCC":
        org_id = f.uscc(raw)
    elif id_type == "ORG_CODE":
        org_id = f.org_code(raw)
    if org_id is None:
        other = f.other_id(raw)
        return (id_type, other, other, "1" if other else "0", None, None,
                None, None, tuple(issues))
    issues.extend(org_id.issues)
    number = org_id.uscc if id_type == "USCC" else org_id.org_code
    return (id_type, number, org_id.cleaned, "1" if org_id.valid else "0",
            org_id.uscc, org_id.org_code, None, None, tuple(issues))


def _cross_check(
    ctx: Context,
    ctype: str | None,
    birth: str | None,
    gender: str,
    id_birth: str | None,
    id_gender: str | None,
) -> tuple[str | None, str | None, Issues]:
    """A valid resident ID's birth date and gender against the keyed ones.
    The keyed value is what the clerk saw; the ID only fills a gap."""
    if ctype == "G":
        return None, None, _NONE
    issues: Issues = _NONE
    if id_birth is not None and birth is not None and birth != id_birth:
        issues = (Issue.ID_BIRTH_MISMATCH,)
    if id_gender is not None and gender in ("M", "F") and gender != id_gender:
        issues = (*issues, Issue.ID_GENDER_MISMATCH)
    return birth or id_birth, gender if gender in ("M", "F") else (id_gender or gender), issues


def _legal_rep(ctx: Context, ctype: str | None, raw: str | None) -> tuple[Any, ...]:
    if ctype != "G":
        return None, None, _NONE
    rep = ctx.fields.name(raw)
    return rep.name, rep.pinyin, _NONE


def _name_present(ctx: Context, name: str | None) -> tuple[Issues]:
    return ((Issue.NAME_MISSING,) if name is None else _NONE),


def _mobile(ctx: Context, raw: str | None) -> tuple[str | None, Issues]:
    return ctx.fields.mobile(raw)


def _landline(ctx: Context, raw: str | None) -> tuple[str | None, Issues]:
    return ctx.fields.landline(raw)


def _email(ctx: Context, raw: str | None) -> tuple[str | None, Issues]:
    return ctx.fields.email(raw)


def _address(ctx: Context, raw: str | None) -> tuple[Any, ...]:
    a = ctx.fields.address(raw)
    return a.normalised, a.province, a.city, a.district, a.detail, a.issues


def _updated_at(ctx: Context, raw: str | None) -> tuple[str | None, str, Issues]:
    return ctx.fields.timestamp(raw)


_IN = input_key

#: Every step, in the order issue codes are reported.
STEPS: tuple[Step, ...] = (
    *(Step(_admitter(FIELD_LIMITS[c]), (raw_key(c),), (input_key(c),),
           screen=_admission_screen(FIELD_LIMITS[c])) for c in INPUT_COLUMNS),
    Step(_source, (_IN("source_system"), _IN("source_customer_id")), ("source_system",)),
    Step(_customer_type, (_IN("customer_type"),), ("customer_type",)),
    Step(_code_maps, ("source_system", _IN("gender"), _IN("id_type")),
         ("keyed_gender", "keyed_id_type", "id_type_known")),
    Step(_name, ("customer_type", _IN("name")),
         ("name", "name_plain", "surname", "given_name", "name_pinyin",
          "org_core", "org_region", "org_legal_form", "org_branch"),
         simplifies=(_IN("name"),)),
    Step(_birth_date, ("customer_type", _IN("birth_date")), ("keyed_birth_date",)),
    Step(_identity, ("customer_type", "keyed_id_type", "id_type_known", _IN("id_number")),
         ("id_type", "id_number", "id_cleaned", "id_valid", "uscc", "org_code",
          "id_birth_date", "id_gender")),
    Step(_cross_check, ("customer_type", "keyed_birth_date", "keyed_gender",
                        "id_birth_date", "id_gender"), ("birth_date", "gender")),
    Step(_legal_rep, ("customer_type", _IN("legal_rep")), ("legal_rep", "legal_rep_pinyin"),
         simplifies=(_IN("legal_rep"),)),
    Step(_name_present, ("name",), ()),
    Step(_mobile, (_IN("mobile"),), ("mobile",)),
    Step(_landline, (_IN("phone"),), ("phone",)),
    Step(_email, (_IN("email"),), ("email",)),
    Step(_address, (_IN("address"),),
         ("address", "province", "city", "district", "address_detail"),
         simplifies=(_IN("address"),)),
    Step(_updated_at, (_IN("updated_at"),), ("updated_at", "updated_key"),
         batch=_timestamps_batch),
)

#: Output columns copied from a raw cell, as keyed (trimmed).
PASS_THROUGH: dict[str, str] = {
    "source_customer_id": _IN("source_customer_id"),
    "id_raw": _IN("id_number"),
}
