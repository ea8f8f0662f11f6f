"""Telephone numbers: CN mobiles (手机) as 11 digits, landlines (固定电话) as
``0AA-NNNNNNNN`` / ``0AAA-NNNNNNN``.

Choices (the contract is silent on them):

* Mobiles: full-width digits folded; white space, hyphens, brackets, dots,
  slashes and ``+`` dropped; then a ``0086`` / ``86`` country prefix (which
  also covers ``+86``) or a single trunk ``0`` (``013812345678``, keyed as
  when dialling from another city) is removed. What is left must be 11
  digits starting with 1 that phonenumbers calls a CN MOBILE (or
  FIXED_LINE_OR_MOBILE). Nothing else is guessed: labels (``手机:``) or two
  numbers in one field make the value invalid.
* phonenumbers' verdict is cached per 5-digit prefix. That is sound: for an
  11-digit number starting with 1 the CN mobile ranges are decided by at most
  the first five digits (``1740[0-5]`` is the longest), which the tests check
  across all 10,000 prefixes; a 3-digit prefix would not be (``1740x``). A
  7-digit key would be sound too but gives ~500,000 keys on real data
  against at most 10,000.
* Landlines are parsed and validated by phonenumbers (region CN). A number
  keyed as plain digits with its trunk ``0`` skips ``phonenumbers.parse``
  (23 µs) and goes straight to the validity check; the area-code length
  (``length_of_geographical_area_code``, 31 µs) is memoised per first four
  digits and length of the national number, which decide it. A number keyed
  without its area code cannot be placed: None + ``PHONE_INVALID``.
  phonenumbers skips text before the first digit (``电话:010-65529988`` is
  read); text after the number makes it invalid unless it is an extension.
* An extension (``转123``, ``分机123``, ``ext 123``, ``x123``, ``#123``, or a
  third hyphenated group as in ``010-65529988-123``) is DROPPED: the value is
  the line that reaches the person's switchboard, the same for everyone behind
  it, and the output keeps one shape.
* A mobile keyed in the phone column comes back as the 11-digit mobile.
* Non-geographic CN numbers (400/800 service lines) come back as their
  national digits (``4008108888``); a valid foreign number (a Hong Kong or
  Macao customer's) as E.164 (``+85221234567``). Both are stable when fed back.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberType

from matching.standardise.issues import Issue
from matching.standardise.text import to_halfwidth

__all__ = ["standardise_mobile", "standardise_landline"]

_DROP = str.maketrans("", "", " \t-()[].+/\u2010\u2011\u2012\u2013\u2014\u2212")
_MOBILE = re.compile(r"1\d{10}", re.ASCII)
_EXTENSION = re.compile(r"\s*(?:转|轉|分机|分機|ext\.?|x|#|-)\s*\d{1,6}\s*$", re.IGNORECASE)
_TRUNK_DIGITS = re.compile(r"0[1-9]\d{8,10}", re.ASCII)
#: Memo of area-code lengths (at most ~30,000 keys): see _area_code_length.
_AREA_CODE_LENGTHS: dict[tuple[str, int], int] = {}
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_NONE: tuple[None, tuple[str, ...]] = (None, ())
_BAD_MOBILE: tuple[None, tuple[str, ...]] = (None, (Issue.MOBILE_INVALID,))
_BAD_PHONE: tuple[None, tuple[str, ...]] = (None, (Issue.PHONE_INVALID,))


def standardise_mobile(raw: str | None) -> tuple[str | None, tuple[str, ...]]:
    """A keyed CN mobile → (11 digits, ()) or (None, (MOBILE_INVALID,)); empty → (None, ())."""
    if raw is None:
        return _NONE
    text = str(raw)
    if not (text.isascii() and text.isdigit()):  # else nothing to fold or drop
        text = "".join(to_halfwidth(text).split()).translate(_DROP)
    if not text:
        return _NONE
    number = _mobile_digits(text)
    return (number, ()) if number is not None else _BAD_MOBILE


def _mobile_digits(text: str) -> str | None:
    """The 11-digit mobile in a separator-free text, or None."""
    if len(text) == 15 and text.startswith("0086"):
        text = text[4:]
    elif len(text) == 13 and text.startswith("86"):
        text = text[2:]
    elif len(text) == 12 and text.startswith("01"):
        text = text[1:]
    if len(text) != 11 or not _MOBILE.fullmatch(text) or not _mobile_prefix_valid(text[:5]):
        return None
    return text


@lru_cache(maxsize=16384)
def _mobile_prefix_valid(prefix: str) -> bool:
    """phonenumbers' verdict on CN mobiles starting with these five digits."""
    return _is_cn_mobile(prefix + "000000")


def _is_cn_mobile(number: str) -> bool:
    """phonenumbers' uncached verdict on one 11-digit national number."""
    parsed = PhoneNumber(country_code=86, national_number=int(number))
    return (
        phonenumbers.is_valid_number_for_region(parsed, "CN")
        and phonenumbers.number_type(parsed) in _MOBILE_TYPES
    )


def standardise_landline(raw: str | None) -> tuple[str | None, tuple[str, ...]]:
    """A keyed phone number → (``0AA-NNNNNNNN`` or an 11-digit mobile, ()), or
    (None, (PHONE_INVALID,)); empty → (None, ())."""
    if raw is None:
        return _NONE
    text = to_halfwidth(str(raw)).strip()
    if not text:
        return _NONE
    compact = "".join(text.split()).translate(_DROP)
    mobile = _mobile_digits(compact)
    if mobile is not None:
        return mobile, ()
    if _TRUNK_DIGITS.fullmatch(compact):  # the common case: 0 + area code + number
        formatted = _format(PhoneNumber(country_code=86, national_number=int(compact[1:])))
        if formatted is not None:
            return formatted, ()
    formatted = _format_parsed(text)
    if formatted is None:
        head = _EXTENSION.sub("", text)
        if head != text:
            formatted = _format_parsed(head)
    return (formatted, ()) if formatted is not None else _BAD_PHONE


def _format_parsed(text: str) -> str | None:
    """Let phonenumbers read the text (country prefixes, brackets, its own
    extension markers); the formatted number if valid, else None."""
    try:
        parsed = phonenumbers.parse(text, "CN")
    except NumberParseException:
        return None
    parsed.extension = None
    return _format(parsed)


def _format(parsed: PhoneNumber) -> str | None:
    """The output form of a number, or None when phonenumbers calls it invalid."""
    if parsed.country_code != 86:
        if not phonenumbers.is_valid_number(parsed):
            return None
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    # For +86 a known type is the same verdict as is_valid_number, at half the cost.
    kind = phonenumbers.number_type(parsed)
    if kind == PhoneNumberType.UNKNOWN:
        return None
    national = str(parsed.national_number)
    if kind in _MOBILE_TYPES:
        return national
    if kind != PhoneNumberType.FIXED_LINE:
        return national  # 400 / 800 / 95xxx service lines have no area code
    area = _area_code_length(parsed, national)
    if area == 0:
        return national
    return f"0{national[:area]}-{national[area:]}"


def _area_code_length(parsed: PhoneNumber, national: str) -> int:
    """phonenumbers' area-code length (31 µs a call), memoised per first four
    digits and length of the national number, which decide it for CN fixed
    lines (checked in the tests against phonenumbers on random numbers)."""
    key = (national[:4], len(national))
    length = _AREA_CODE_LENGTHS.get(key)
    if length is None:
        length = _AREA_CODE_LENGTHS[key] = phonenumbers.length_of_geographical_area_code(parsed)
    return length
