"""Birth dates: every contract format, impossible dates, range limits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from matching.standardise.dates import iso_date, iso_date_digits, standardise_date
from matching.standardise.issues import Issue

BAD = (None, (Issue.DATE_INVALID,))

CASES: list[tuple[str | None, tuple[str | None, tuple[str, ...]]]] = [
    # the contract's formats
    ("1985-03-07", ("1985-03-07", ())),
    ("19850307", ("1985-03-07", ())),
    ("1985/3/7", ("1985-03-07", ())),
    ("1985年03月07日", ("1985-03-07", ())),
    # and what clerks key besides
    ("1985年3月7日", ("1985-03-07", ())),
    ("1985年3月7号", ("1985-03-07", ())),
    ("1985 年 3 月 7 日", ("1985-03-07", ())),
    ("1985年3月7", ("1985-03-07", ())),
    ("1985.03.07", ("1985-03-07", ())),
    ("1985.3.7", ("1985-03-07", ())),
    ("1985-3-7", ("1985-03-07", ())),
    ("1985/03/07", ("1985-03-07", ())),
    ("  1985-03-07  ", ("1985-03-07", ())),
    ("１９８５－０３－０７", ("1985-03-07", ())),
    ("１９８５年３月７日", ("1985-03-07", ())),
    ("１９８５０３０７", ("1985-03-07", ())),
    ("1985-03-07 00:00:00", ("1985-03-07", ())),
    ("1985-03-07T00:00:00", ("1985-03-07", ())),
    ("1985-03-07 0:00", ("1985-03-07", ())),
    ("1985/3/7 12:30:45.123", ("1985-03-07", ())),
    ("1985-03-07T00:00:00+08:00", ("1985-03-07", ())),
    ("1985-03-07T00:00:00Z", ("1985-03-07", ())),
    ("19850307 00:00:00", ("1985-03-07", ())),
    ("1985年03月07日 00:00:00", ("1985-03-07", ())),
    # a day/month swap that is still a date stays as keyed
    ("1985-07-03", ("1985-07-03", ())),
    # leap years
    ("2000-02-29", ("2000-02-29", ())),
    ("1996年2月29日", ("1996-02-29", ())),
    ("1900-02-29", BAD),
    ("1985-02-29", BAD),
    # impossible dates
    ("1985-02-30", BAD),
    ("1985-04-31", BAD),
    ("1985-13-01", BAD),
    ("1985-00-10", BAD),
    ("1985-03-00", BAD),
    ("19851307", BAD),
    ("1985年13月1日", BAD),
    # out of range
    ("1900-01-01", ("1900-01-01", ())),
    ("1899-12-31", BAD),
    ("0001-01-01", BAD),
    ("2999-01-01", BAD),
    # not dates, or formats the contract does not name
    ("85-03-07", BAD),
    ("07/03/1985", BAD),
    ("1985", BAD),
    ("198537", BAD),
    ("1985-03", BAD),
    ("31113", BAD),
    ("1985-03-07 午夜", BAD),
    ("不详", BAD),
    # empty
    (None, (None, ())),
    ("", (None, ())),
    ("   ", (None, ())),
    ("\u3000", (None, ())),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_standardise_date(raw: str | None, expected: tuple[str | None, tuple[str, ...]]) -> None:
    assert standardise_date(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_standardise_date_is_idempotent(raw: str | None, expected: object) -> None:
    value, _ = standardise_date(raw)
    if value is not None:
        assert standardise_date(value) == (value, ())


@pytest.mark.parametrize(
    ("ymd", "expected"),
    [
        ((1985, 3, 7), "1985-03-07"),
        ((2024, 2, 29), "2024-02-29"),
        ((2023, 2, 29), None),
        ((1899, 12, 31), None),
        ((1985, 0, 1), None),
        ((1985, 12, 32), None),
    ],
)
def test_iso_date(ymd: tuple[int, int, int], expected: str | None) -> None:
    assert iso_date(*ymd) == expected


def test_today_is_a_birth_date_and_tomorrow_is_not() -> None:
    """Today's date is read when the test runs, not when it is collected: a run
    that crosses midnight must not judge yesterday's "tomorrow"."""
    today = date.today()
    tomorrow = today + timedelta(days=1)
    assert standardise_date(today.isoformat()) == (today.isoformat(), ())
    assert standardise_date(today.strftime("%Y年%m月%d日")) == (today.isoformat(), ())
    assert standardise_date(tomorrow.isoformat()) == BAD
    assert standardise_date(tomorrow.strftime("%Y%m%d")) == BAD
    assert iso_date(today.year, today.month, today.day) == today.isoformat()
    assert iso_date(tomorrow.year, tomorrow.month, tomorrow.day) is None


def test_iso_date_digits_agrees_with_iso_date() -> None:
    """The memoised 8-digit form: every day, month and day out of range, both
    sides of 1900 and of today, asked twice (the second answer from the memo)."""
    today = date.today()
    for year in (1, 1899, 1900, 1901, 1984, 2000, 2023, 2024, today.year - 1, today.year,
                 today.year + 1, 9999):
        for month in range(14):
            for day in range(33):
                digits = f"{year:04d}{month:02d}{day:02d}"
                expected = iso_date(year, month, day)
                assert iso_date_digits(digits) == expected, digits
                assert iso_date_digits(digits) == expected, digits
