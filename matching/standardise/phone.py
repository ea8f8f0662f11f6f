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
  keyed as plain digits (with its trunk ``0``, or without an area code) skips
  ``phonenumbers.parse`` (23 µs) and goes straight to the validity check.
  The type check (``number_type``, 5 µs) is memoised per length and shortest
  prefix that settles it: the prefix after which every CN type pattern reads
  only "any digit" (worked out from the patterns themselves, see
  ``_settled``). The area-code length (``length_of_geographical_area_code``,
  31 µs) is memoised per first four digits and length of the national number,
  which decide it. A number keyed without its area code cannot be placed:
  None + ``PHONE_INVALID``.
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
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberType

from matching.standardise.issues import Issue
from matching.standardise.text import to_halfwidth

__all__ = ["standardise_mobile", "standardise_landline"]

_DROP_CHARS = " \t-()[].+/\u2010\u2011\u2012\u2013\u2014\u2212"
_DROP = str.maketrans("", "", _DROP_CHARS)
_DROP_ASCII = bytes(ord(c) for c in _DROP_CHARS if c.isascii())
_MOBILE = re.compile(r"1\d{10}", re.ASCII)
_EXTENSION = re.compile(r"\s*(?:转|轉|分机|分機|ext\.?|x|#|-)\s*\d{1,6}\s*$", re.IGNORECASE)
_TRUNK_DIGITS = re.compile(r"0[1-9]\d{8,10}", re.ASCII)
# Plain digits that phonenumbers.parse reads as themselves: no trunk 0, no
# carrier or international prefix (those start with 0 or 1), no 86 country code.
_LOCAL_DIGITS = re.compile(r"(?!86)[2-9]\d{6,11}", re.ASCII)
#: Memos of area-code lengths and of CN number types, per settled prefix
#: and length: see _area_code_length and _cn_number_type.
_AREA_CODE_LENGTHS: dict[tuple[str, int], int] = {}
_CN_TYPES: dict[tuple[str, int], int] = {}
_MEMO_LIMIT = 1 << 17
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
        text = _drop_separators(to_halfwidth(text))
    if not text:
        return _NONE
    number = _mobile_digits(text)
    return (number, ()) if number is not None else _BAD_MOBILE


def _drop_separators(text: str) -> str:
    """White space and the characters of _DROP_CHARS removed."""
    text = "".join(text.split())
    if text.isascii():  # the same deletion, several times faster on bytes
        return text.encode().translate(None, _DROP_ASCII).decode()
    return text.translate(_DROP)


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
    compact = _drop_separators(text)
    mobile = _mobile_digits(compact)
    if mobile is not None:
        return mobile, ()
    if _TRUNK_DIGITS.fullmatch(compact):  # the common case: 0 + area code + number
        formatted = _cn_format(compact[1:])
        if formatted is not None:
            return formatted, ()
    elif compact == text and _LOCAL_DIGITS.fullmatch(text):
        # Plain digits without area code: phonenumbers.parse would read exactly
        # this national number, and no extension can be split off.
        formatted = _cn_format(text)
        return (formatted, ()) if formatted is not None else _BAD_PHONE
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
    if parsed.italian_leading_zero:  # not seen for CN: phonenumbers decides, unmemoised
        return _cn_output(str(parsed.national_number), phonenumbers.number_type(parsed), parsed)
    return _cn_format(str(parsed.national_number))


def _cn_format(national: str) -> str | None:
    """The output form of a +86 national number (no trunk 0, no leading zero)."""
    return _cn_output(national, _cn_number_type(national), None)


def _cn_output(national: str, kind: int, parsed: PhoneNumber | None) -> str | None:
    # For +86 a known type is the same verdict as is_valid_number, at half the cost.
    if kind == PhoneNumberType.UNKNOWN:
        return None
    if kind in _MOBILE_TYPES:
        return national
    if kind != PhoneNumberType.FIXED_LINE:
        return national  # 400 / 800 / 95xxx service lines have no area code
    area = _area_code_length(national, parsed)
    if area == 0:
        return national
    return f"0{national[:area]}-{national[area:]}"


def _area_code_length(national: str, parsed: PhoneNumber | None) -> int:
    """phonenumbers' area-code length of a CN fixed line (31 µs a call),
    memoised per length and shortest prefix that settles which format
    phonenumbers picks (:func:`_format_settled`): given the type, the length
    is the first group of that format."""
    key = _memo_key(national, _format_settled)
    length = _AREA_CODE_LENGTHS.get(key)
    if length is None:
        if parsed is None:
            parsed = PhoneNumber(country_code=86, national_number=int(national))
        length = _AREA_CODE_LENGTHS[key] = phonenumbers.length_of_geographical_area_code(parsed)
    return length


def _cn_number_type(national: str) -> int:
    """``phonenumbers.number_type`` of a +86 national number (5 µs a call),
    memoised per length and shortest prefix that settles it (:func:`_type_settled`)."""
    key = _memo_key(national, _type_settled)
    kind = _CN_TYPES.get(key)
    if kind is None:
        if len(_CN_TYPES) >= _MEMO_LIMIT:
            _CN_TYPES.clear()
        parsed = PhoneNumber(country_code=86, national_number=int(national))
        kind = _CN_TYPES[key] = phonenumbers.number_type(parsed)
    return kind


def _memo_key(national: str, settled: Callable[[str, int], bool]) -> tuple[str, int]:
    """(shortest prefix that ``settled`` accepts, length); the whole number at worst."""
    length = len(national)
    cut = min(2, length)
    while cut < length and not settled(national[:cut], length):
        cut += 1
    return national[:cut], length


# --- which prefixes settle phonenumbers' verdicts -----------------------------
#
# phonenumbers decides a CN number's type by which of its type patterns the
# national number fully matches (and its length), and the format, hence the
# area code, by which leading-digits patterns match its start and which
# format patterns it fully matches. A verdict is settled for a prefix and a
# length when every pattern accepts all numbers of that length starting with
# the prefix, or none. _Probe tells by matching the prefix followed by ``?``
# for each unknown digit against two rewrites of the pattern.

# A token of a phonenumbers pattern: what _probe knows how to rewrite.
_TOKEN = re.compile(r"\\d|\[[^\]^][^\]]*\]|\{\d+(?:,\d*)?\}|\(\?:|[()|?]|\d")


class _Probe(NamedTuple):
    whole: bool                  # fullmatch (number patterns), else match (leading digits)
    any_digit: re.Pattern[str]   # "?" accepted where the pattern takes any digit
    some_digit: re.Pattern[str]  # "?" accepted wherever the pattern takes a digit

    def verdict(self, probe: str) -> bool | None:
        """True: every number the probe stands for matches; False: none; None: some."""
        run = re.Pattern.fullmatch if self.whole else re.Pattern.match
        if run(self.any_digit, probe):
            return True
        return None if run(self.some_digit, probe) else False

    @property
    def free(self) -> bool:
        """Does the pattern take any digit at every position?"""
        return self.any_digit.pattern == self.some_digit.pattern


def _probe(pattern: str, *, whole: bool) -> _Probe | None:
    """The two rewrites of a pattern; None when it holds a construct not handled."""
    any_digit: list[str] = []
    some_digit: list[str] = []
    end = 0
    for m in _TOKEN.finditer(pattern):
        if m.start() != end:
            return None
        end = m.end()
        token = m.group()
        if token == r"\d":
            any_digit.append(r"[\d?]")
            some_digit.append(r"[\d?]")
        elif token.startswith("["):
            any_digit.append(token)
            some_digit.append(token[:-1] + "?]")
        elif token.isdigit():
            any_digit.append(token)
            some_digit.append(f"[{token}?]")
        else:
            any_digit.append(token)
            some_digit.append(token)
    if end != len(pattern):
        return None
    return _Probe(whole, re.compile("".join(any_digit)), re.compile("".join(some_digit)))


@lru_cache(maxsize=1)
def _type_probes() -> tuple[tuple[tuple[int, ...], _Probe | None], ...]:
    """(possible lengths, probe) of every CN type pattern number_type reads."""
    cn = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    if cn is None:  # nothing is ever settled
        return (((), None),)
    descs = (cn.general_desc, cn.premium_rate, cn.toll_free, cn.shared_cost, cn.voip,
             cn.personal_number, cn.pager, cn.uan, cn.voicemail, cn.fixed_line, cn.mobile)
    return tuple((tuple(d.possible_length), _probe(d.national_number_pattern, whole=True))
                 for d in descs if d is not None and d.national_number_pattern)


@lru_cache(maxsize=1)
def _format_probes() -> tuple[tuple[_Probe | None, _Probe | None], ...]:
    """(leading-digits probe or None, format-pattern probe) of every CN
    international format, in phonenumbers' order of choice."""
    cn = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    if cn is None:  # nothing is ever settled
        return ((None, None),)
    out = []
    for f in cn.intl_number_format or cn.number_format:
        pattern = _probe(f.pattern, whole=True) if f.pattern else None
        if f.leading_digits_pattern:
            out.append((_probe(f.leading_digits_pattern[-1], whole=False), pattern))
        else:
            out.append((None, pattern))
    return tuple(out)


@lru_cache(maxsize=65536)
def _type_settled(prefix: str, length: int) -> bool:
    """Is number_type the same for every CN number of this length and prefix?"""
    probe = prefix + "?" * (length - len(prefix))
    for lengths, pattern in _type_probes():
        if lengths and length not in lengths:
            continue  # phonenumbers rejects the length before the pattern
        if pattern is None or pattern.verdict(probe) is None:
            return False
    return True


@lru_cache(maxsize=65536)
def _format_settled(prefix: str, length: int) -> bool:
    """Does phonenumbers pick the same format for every CN number of this length
    and prefix, with groups that depend on the length only? A format is picked
    when its leading-digits pattern matches and its pattern fully matches."""
    probe = prefix + "?" * (length - len(prefix))
    for leading, pattern in _format_probes():
        if pattern is None or not pattern.free:
            return False
        whole = pattern.verdict(probe)
        start = True if leading is None else leading.verdict(probe)
        if whole is not False and start is not False and (whole is None or start is None):
            return False
    return True
