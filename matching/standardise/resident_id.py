"""Resident identity card numbers (居民身份证号码, GB 11643-1999) and other
identity document numbers.

A resident ID is ``AAAAAA YYYYMMDD SSS C``: area code, birth date, sequence
(odd for men), check digit. Choices (the contract is silent on them):

* Separators dropped before anything else: white space, hyphens and dashes,
  dots, slashes, underscores, commas, colons, quotes, brackets. Any other
  character left (a letter other than a final ``X``, a CJK label) makes the
  number ``ID_FORMAT``; nothing else is guessed.
* A 15-digit legacy ID is widened to 18 digits (``19`` inserted before its
  two-digit year, check digit computed) and flagged ``ID_LEGACY_15``; it is
  valid when its date and area are.
* Every fault found is reported, not only the first: an ID can carry
  ``ID_CHECKSUM``, ``ID_DATE_INVALID`` and ``ID_AREA_INVALID`` together.
* The birth date must exist and lie between 1900-01-01 and today
  (:func:`matching.standardise.dates.iso_date`, the same rule as keyed dates).
* The area is valid when its six digits name a county, city or province in
  python-stdnum's area table (``cn/loc.dat``, the table ``ric.get_birth_place``
  reads) in ANY year. Retired codes stay valid: numbers are never reissued
  and a person keeps the number issued under the old code. Nor is the birth
  year checked against a code's start year, since IDs were first issued in
  1984, decades after most holders' births. Placeholder codes (``市辖区``,
  e.g. 110100) are in the table and accepted. The table is walked once into a
  set of codes (:func:`_known_areas`): ``ric.is_valid`` costs about 37 µs a
  call and one ``numdb`` lookup about 150 µs.
* The birth-date verdict (:func:`matching.standardise.dates.iso_date_digits`)
  is memoised per ``YYYYMMDD`` for years before the current one.
* ``birth_date``, ``gender`` and ``area`` come from valid IDs only;
  ``cleaned`` is filled whatever the validity, for fuzzy comparison.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

from stdnum import numdb
from stdnum.cn.ric import calc_check_digit

from matching.standardise.dates import iso_date_digits
from matching.standardise.issues import Issue
from matching.standardise.text import to_halfwidth

__all__ = ["ResidentId", "standardise_resident_id", "standardise_other_id"]

_SEPARATORS = "-_./\\,:;'\"()[]{}·\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_DROP = str.maketrans("", "", _SEPARATORS)
_ID18 = re.compile(r"\d{17}[\dX]", re.ASCII)
_ID15 = re.compile(r"\d{15}", re.ASCII)


@dataclass(frozen=True, slots=True, init=False)
class ResidentId:
    number: str | None      # the valid 18-character ID, else None
    cleaned: str | None     # compacted (and widened if 15-digit) form, valid or not
    valid: bool
    birth_date: str | None  # ISO YYYY-MM-DD, from a valid ID
    gender: str | None      # "M" / "F" from a valid ID (17th digit odd = M)
    area: str | None        # 6-digit area code, from a valid ID
    issues: tuple[str, ...]

    def __init__(self, number: str | None, cleaned: str | None, valid: bool, birth_date: str | None,
                 gender: str | None, area: str | None, issues: tuple[str, ...]) -> None:
        # What dataclass(frozen=True) would generate, except that each slot is set
        # through its descriptor, not object.__setattr__: 40% cheaper, once a record.
        (set_number, set_cleaned, set_valid, set_birth_date,
         set_gender, set_area, set_issues) = _ID_SLOTS
        set_number(self, number)
        set_cleaned(self, cleaned)
        set_valid(self, valid)
        set_birth_date(self, birth_date)
        set_gender(self, gender)
        set_area(self, area)
        set_issues(self, issues)


_ID_SLOTS = tuple(getattr(ResidentId, f.name).__set__ for f in fields(ResidentId))


_EMPTY = ResidentId(None, None, False, None, None, None, ())
_LEGACY: tuple[str, ...] = (Issue.ID_LEGACY_15,)
_FORMAT: tuple[str, ...] = (Issue.ID_FORMAT,)


def standardise_resident_id(raw: str | None) -> ResidentId:
    """Clean and validate a resident ID as keyed; never raises."""
    if raw is None:
        return _EMPTY
    text = _compact(raw)
    if len(text) == 18 and _ID18.fullmatch(text):
        legacy = False
        checksum_ok = calc_check_digit(text) == text[17]
    elif len(text) == 15 and _ID15.fullmatch(text):
        body = text[:6] + "19" + text[6:]
        text = body + calc_check_digit(body + "0")
        legacy = checksum_ok = True
    elif not text:
        return _EMPTY
    else:
        return ResidentId(None, text, False, None, None, None, _FORMAT)
    birth = iso_date_digits(text[6:14])
    area = text[:6]
    area_ok = area in _known_areas()
    if checksum_ok and birth is not None and area_ok:
        gender = "M" if text[16] in "13579" else "F"
        return ResidentId(text, text, True, birth, gender, area, _LEGACY if legacy else ())
    # ID_LEGACY_15 is informational and always first: any later code is a fault.
    faults = ((Issue.ID_LEGACY_15, legacy), (Issue.ID_CHECKSUM, not checksum_ok),
              (Issue.ID_DATE_INVALID, birth is None), (Issue.ID_AREA_INVALID, not area_ok))
    issues = tuple(code for code, found in faults if found)
    return ResidentId(None, text, False, None, None, None, issues)


def _compact(raw: object) -> str:
    """Full-width folded, white space and separators dropped, upper-cased."""
    text = str(raw)
    if text.isascii() and text.isalnum():  # the common case: nothing to drop
        return text.upper()
    return "".join(to_halfwidth(text).split()).translate(_DROP).upper()


@lru_cache(maxsize=1)
def _known_areas() -> frozenset[str]:
    """Every 6-digit code that python-stdnum's area table marks ``county`` (in
    any year): the codes for which ``any("county" in props for _, props in
    numdb.get("cn/loc").info(code))`` holds, as a set. The table nests
    province prefixes over the remaining digits; the tests check the two
    definitions agree."""
    found: set[str] = set()

    def walk(prefixes: list[Any], head: str) -> None:
        for length, low, high, props, children in prefixes:
            for n in range(int(low), int(high) + 1):
                code = head + str(n).zfill(length)
                if len(code) == 6 and "county" in props:
                    found.add(code)
                elif len(code) < 6:
                    walk(children, code)

    walk(numdb.get("cn/loc").prefixes, "")
    return frozenset(found)


def standardise_other_id(raw: str | None) -> str | None:
    """Passports and other IDs: full-width folded, upper-cased, separators
    (white space, hyphens, dots, slashes, brackets, …) dropped; empty → None."""
    if raw is None:
        return None
    return _compact(raw) or None
