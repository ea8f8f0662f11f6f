"""Mobiles and landlines."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import PhoneNumber, PhoneNumberType

from matching.standardise.issues import Issue
from matching.standardise.phone import (
    _area_code_length,
    _cn_number_type,
    _format_probes,
    _type_probes,
    standardise_landline,
    standardise_mobile,
)

BAD_MOBILE = (None, (Issue.MOBILE_INVALID,))
BAD_PHONE = (None, (Issue.PHONE_INVALID,))
MOBILE = ("13812345678", ())
Result = tuple[str | None, tuple[str, ...]]

MOBILE_CASES: list[tuple[str | None, Result]] = [
    ("13812345678", MOBILE),
    ("+8613812345678", MOBILE),
    ("+86 138 1234 5678", MOBILE),
    ("+86-138-1234-5678", MOBILE),
    ("(+86)13812345678", MOBILE),
    ("8613812345678", MOBILE),
    ("86 13812345678", MOBILE),
    ("008613812345678", MOBILE),
    ("0086 138 1234 5678", MOBILE),
    ("138-1234-5678", MOBILE),
    ("138 1234 5678", MOBILE),
    ("138.1234.5678", MOBILE),
    ("(138)12345678", MOBILE),
    (" 13812345678 ", MOBILE),
    ("１３８１２３４５６７８", MOBILE),
    ("＋８６　１３８－１２３４－５６７８", MOBILE),
    ("013812345678", MOBILE),
    # current ranges
    ("19912345678", ("19912345678", ())),
    ("16612345678", ("16612345678", ())),
    ("17012345678", ("17012345678", ())),
    ("14712345678", ("14712345678", ())),
    ("17405123456", ("17405123456", ())),
    # invalid: length, leading digit, unallocated ranges, labels, two numbers
    ("1381234567", BAD_MOBILE),
    ("138123456789", BAD_MOBILE),
    ("23812345678", BAD_MOBILE),
    ("03812345678", BAD_MOBILE),
    ("12012345678", BAD_MOBILE),
    ("10012345678", BAD_MOBILE),
    ("17406123456", BAD_MOBILE),
    ("861381234567", BAD_MOBILE),
    ("+1 415 555 1234", BAD_MOBILE),
    ("010-65529988", BAD_MOBILE),
    ("手机13812345678", BAD_MOBILE),
    ("13812345678/13912345678", BAD_MOBILE),
    ("1381234567x", BAD_MOBILE),
    ("无", BAD_MOBILE),
    # empty
    (None, (None, ())),
    ("", (None, ())),
    (" - ", (None, ())),
]


@pytest.mark.parametrize(("raw", "expected"), MOBILE_CASES)
def test_standardise_mobile(raw: str | None, expected: Result) -> None:
    assert standardise_mobile(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), MOBILE_CASES)
def test_standardise_mobile_is_idempotent(raw: str | None, expected: object) -> None:
    value, _ = standardise_mobile(raw)
    if value is not None:
        assert standardise_mobile(value) == (value, ())


def _oracle(number: str) -> bool:
    parsed = PhoneNumber(country_code=86, national_number=int(number))
    return phonenumbers.is_valid_number_for_region(parsed, "CN") and phonenumbers.number_type(
        parsed
    ) in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def test_mobile_verdict_cached_per_prefix_agrees_with_phonenumbers() -> None:
    """The verdict is cached per 5-digit prefix: sound only while phonenumbers'
    CN mobile ranges are decided by five digits. Checked over every prefix at
    the edges of its range so that a phonenumbers upgrade that splits a range
    more finely fails here."""
    for prefix in range(10000, 20000):
        for suffix in ("000000", "999999", "500000", "049999"):
            number = f"{prefix}{suffix}"
            expected = (number, ()) if _oracle(number) else BAD_MOBILE
            assert standardise_mobile(number) == expected, number


LANDLINE_CASES: list[tuple[str | None, Result]] = [
    ("(010)6552 9988", ("010-65529988", ())),
    ("010-65529988", ("010-65529988", ())),
    ("01065529988", ("010-65529988", ())),
    ("+86 10 6552 9988", ("010-65529988", ())),
    ("0086 10 65529988", ("010-65529988", ())),
    ("+86 21 5888 1234", ("021-58881234", ())),
    ("86 21 5888 1234", ("021-58881234", ())),
    ("021-5888-1234", ("021-58881234", ())),
    ("（０２１）５８８８１２３４", ("021-58881234", ())),
    ("075512345678", ("0755-12345678", ())),
    ("0755-12345678", ("0755-12345678", ())),
    ("(0571)88888888", ("0571-88888888", ())),
    ("0991-4567890", ("0991-4567890", ())),
    # extensions are dropped
    ("010-65529988-123", ("010-65529988", ())),
    ("010-65529988转123", ("010-65529988", ())),
    ("010-65529988 轉 8001", ("010-65529988", ())),
    ("010-65529988分机123", ("010-65529988", ())),
    ("0755 1234 5678 ext. 88", ("0755-12345678", ())),
    ("0755-12345678#601", ("0755-12345678", ())),
    # a mobile in the phone column comes back as the mobile
    ("13812345678", MOBILE),
    ("+86 138 1234 5678", MOBILE),
    ("0086-138-1234-5678", MOBILE),
    # service lines and foreign numbers
    ("400-810-8888", ("4008108888", ())),
    ("+852 2123 4567", ("+85221234567", ())),
    # no area code, too short, not a number
    ("65529988", BAD_PHONE),
    ("6552-9988", BAD_PHONE),
    ("0571-8888888", BAD_PHONE),
    ("010-6552", BAD_PHONE),
    ("abc", BAD_PHONE),
    ("无", BAD_PHONE),
    # empty
    (None, (None, ())),
    ("", (None, ())),
    ("  ", (None, ())),
]


@pytest.mark.parametrize(("raw", "expected"), LANDLINE_CASES)
def test_standardise_landline(raw: str | None, expected: Result) -> None:
    assert standardise_landline(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), LANDLINE_CASES)
def test_standardise_landline_is_idempotent(raw: str | None, expected: object) -> None:
    value, _ = standardise_landline(raw)
    if value is not None:
        assert standardise_landline(value) == (value, ())


def test_area_code_memo_agrees_with_phonenumbers() -> None:
    """Area-code lengths are memoised per (first four digits, length): compare
    with phonenumbers itself on random valid CN fixed lines."""
    rng = random.Random(11643)
    checked = 0
    while checked < 2000:
        national = str(rng.randrange(10**9, 10**11))
        parsed = PhoneNumber(country_code=86, national_number=int(national))
        if phonenumbers.number_type(parsed) != PhoneNumberType.FIXED_LINE:
            continue
        area = phonenumbers.length_of_geographical_area_code(parsed)
        assert area in (2, 3)
        expected = f"0{national[:area]}-{national[area:]}"
        assert standardise_landline("0" + national) == (expected, ()), national
        assert standardise_landline(f"+86 {national}") == (expected, ()), national
        checked += 1


def test_every_cn_pattern_can_be_probed() -> None:
    """Else nothing is settled and the memos hold whole numbers."""
    assert len(_type_probes()) >= 6
    assert all(probe is not None for _, probe in _type_probes())
    assert len(_format_probes()) >= 5
    assert all(pattern is not None and pattern.free for _, pattern in _format_probes())
    assert all(leading is not None for leading, _ in _format_probes())


def _national_numbers(count: int) -> list[str]:
    """Random CN national numbers of every length, many sharing prefixes (area
    codes, mobile and service ranges)."""
    rng = random.Random(11643)
    heads = ["10", "20", "21", "22", "23", "24", "25", "27", "28", "29", "311", "335", "351",
             "371", "431", "433", "451", "471", "512", "571", "591", "731", "755", "757",
             "769", "851", "871", "898", "931", "978", "991", "994", "13", "147", "166", "174",
             "1740", "1349", "400", "800", "950", "95", "96", "106", "108", "218"]
    numbers = []
    for _ in range(count):
        head = rng.choice(heads) if rng.random() < 0.8 else str(rng.randrange(1, 10))
        head += "".join(rng.choice("0123456789") for _ in range(rng.randrange(3)))
        length = rng.randrange(max(7, len(head) + 1), 13)
        numbers.append(head + "".join(rng.choice("0123456789")
                                      for _ in range(length - len(head))))
    return numbers


def test_number_type_memo_agrees_with_phonenumbers() -> None:
    """number_type is memoised per settled prefix and length: compare with
    phonenumbers, every number asked twice."""
    numbers = _national_numbers(6000)
    for number in numbers + numbers:
        expected = phonenumbers.number_type(
            PhoneNumber(country_code=86, national_number=int(number)))
        assert _cn_number_type(number) == expected, number


def test_area_code_memo_agrees_with_phonenumbers_on_shared_prefixes() -> None:
    """The area-code length is memoised per prefix that settles the format:
    compare with phonenumbers on fixed lines sharing prefixes, asked twice."""
    numbers = []
    for number in _national_numbers(12000):
        parsed = PhoneNumber(country_code=86, national_number=int(number))
        if phonenumbers.number_type(parsed) == PhoneNumberType.FIXED_LINE:
            numbers.append((number, phonenumbers.length_of_geographical_area_code(parsed)))
    assert len(numbers) > 1200
    for number, expected in numbers + numbers:
        assert _area_code_length(number, None) == expected, number


def test_plain_local_digits_parse_as_themselves() -> None:
    """standardise_landline skips phonenumbers.parse for plain digits starting
    2-9 (not 86): sound while parse reads them as +86 and that national number."""
    rng = random.Random(11643)
    for _ in range(3000):
        number = str(rng.randrange(2, 10)) + "".join(
            rng.choice("0123456789") for _ in range(rng.randrange(6, 12)))
        if number.startswith("86"):
            continue
        parsed = phonenumbers.parse(number, "CN")
        assert (parsed.country_code, parsed.national_number) == (86, int(number)), number
        assert not parsed.italian_leading_zero and parsed.extension is None, number
