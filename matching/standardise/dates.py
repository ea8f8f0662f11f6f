"""Birth dates (出生日期) to ISO ``YYYY-MM-DD``.

Accepted, after full-width digits are folded: ``1985-03-07``, ``1985-3-7``,
``1985/3/7``, ``1985.03.07``, ``19850307``, ``1985年3月7日`` (also ``号`` for
``日``, and spaces around 年 月 日), each optionally followed by a time of day
(``1985-03-07 00:00:00``, ``1985-03-07T00:00:00.000+08:00``), which is
dropped. The separators need not agree (``1985-03/07`` is read). Nothing else
is guessed: no two-digit years, no day-first orders, no Excel serials, and a
date whose day and month look swapped stays as keyed (the comparator scores
swaps).

A date is valid from 1900-01-01 up to today (the local date when called).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from matching.standardise.issues import Issue
from matching.standardise.text import to_halfwidth

__all__ = ["standardise_date", "iso_date", "iso_date_digits"]

_DATE = re.compile(
    r"(?P<y>\d{4})"
    r"(?:(?: *[-/.] *| *年 *)(?P<m>\d{1,2})(?: *[-/.] *| *月 *)(?P<d>\d{1,2})(?: *[日号])?"
    r"|(?P<mm>\d\d)(?P<dd>\d\d))"
    r"(?:(?: +|T)\d{1,2}:\d\d(?::\d\d(?:\.\d{1,9})?)?(?: *(?:Z|[+-]\d\d:?\d\d))?)?",
    re.ASCII,
)
_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MIN_YEAR = 1900
# Any year before this one is in the past for the rest of the process's life,
# so only dates in or after it need today's date.
_YEAR_AT_IMPORT = date.today().year
# 8-digit dates below this one lie in a past year: their verdict is final.
_PAST_YEARS_BELOW = f"{_YEAR_AT_IMPORT:04d}0000"
_INVALID: tuple[None, tuple[str, ...]] = (None, (Issue.DATE_INVALID,))
_NONE: tuple[None, tuple[str, ...]] = (None, ())


def iso_date(year: int, month: int, day: int) -> str | None:
    """``YYYY-MM-DD`` when the date exists and lies between 1900-01-01 and
    today, else None. Shared with the resident-ID check so that a birth date
    means the same thing in both places."""
    if year < _MIN_YEAR or not 1 <= month <= 12 or not 1 <= day <= _DAYS[month]:
        return None
    if month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return None
    iso = f"{year:04d}-{month:02d}-{day:02d}"
    if year >= _YEAR_AT_IMPORT and iso > date.today().isoformat():
        return None
    return iso


def iso_date_digits(digits: str) -> str | None:
    """:func:`iso_date` of an 8-digit ``YYYYMMDD`` string, memoised for years
    before the current one (their verdict does not depend on today)."""
    if digits < _PAST_YEARS_BELOW:
        return _past_iso_date(digits)
    return iso_date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


@lru_cache(maxsize=65536)
def _past_iso_date(digits: str) -> str | None:
    return iso_date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


def standardise_date(raw: str | None) -> tuple[str | None, tuple[str, ...]]:
    """A keyed date → (``YYYY-MM-DD``, ()) or (None, (DATE_INVALID,)); empty → (None, ())."""
    if raw is None:
        return _NONE
    text = to_halfwidth(str(raw)).strip()
    if not text:
        return _NONE
    m = _DATE.fullmatch(text)
    if m is None:
        return _INVALID
    year, month, day, month2, day2 = m.group("y", "m", "d", "mm", "dd")
    if month is None:
        month, day = month2, day2
    iso = iso_date(int(year), int(month), int(day))
    if iso is None:
        return _INVALID
    return iso, ()
