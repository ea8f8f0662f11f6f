"""Addresses (地址): one canonical comparison form, split into province / city /
district / detail with the gazetteer (:mod:`matching.standardise.regions`).

Choices (the brief is silent on them):

* Characters: full-width folded, traditional → simplified (OpenCC, repeated
  until stable: ``t2s`` is not idempotent for a few characters), ASCII letters
  upper-cased (``a座`` = ``A座``). ``幢`` → ``栋`` (both "building"); ``弄``
  ``巷`` ``室`` kept. ``#`` right after a digit means 号 (``5#楼`` → ``5号楼``).
  ``〇`` inside a run of Arabic digits is a zero (``1〇3`` → ``103``); Chinese
  numerals (``二〇三``) are left as keyed.
* Punctuation (``，。、；：`` quotes, ``《》``, ``.`` not between digits) becomes
  a separator; a space survives only between two ASCII letters/digits
  (``ROOM 1203``), so CJK text loses every space. Brackets of every kind
  become ASCII ``()``; ``-`` and ``/`` stay.
* Regions: the province, city and district the text starts with, by the
  rules of :func:`matching.standardise.places.match_regions` (longest full
  name; short forms only where what follows backs them, so ``北京路88号``
  keeps no region; inference upwards; municipalities). A leading ``中国`` /
  ``中华人民共和国`` is dropped when a region follows.
* ``normalised`` = province + city (left out when it repeats the province) +
  district + detail, with full names.
* Issues: ``ADDRESS_INVALID`` for a placeholder (``无`` ``不详`` ``N/A`` …) or a
  value without any letter (``123``, ``--``): every field None.
  ``ADDRESS_REGION_CONFLICT`` when a city or district follows that belongs to
  another province/city (``广东省杭州市``): the text stays in ``detail``.

:mod:`matching.standardise.org` imports :func:`drop_spaces` and, re-exported
from :mod:`matching.standardise.places`, the gazetteer index and
:func:`match_regions` from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from matching.standardise.issues import Issue
from matching.standardise.places import (
    MUNICIPALITIES,
    Place,
    PlaceIndex,
    RegionMatch,
    match_regions,
    place_index,
    region_short_name,
)
from matching.standardise.text import to_halfwidth, to_simplified

__all__ = [
    "Address",
    "RegionMatch",
    "Place",
    "PlaceIndex",
    "MUNICIPALITIES",
    "standardise_address",
    "match_regions",
    "place_index",
    "region_short_name",
    "drop_spaces",
]

_LONE_SPACE = re.compile(r" (?![A-Za-z0-9])|(?<![A-Za-z0-9]) ")


def drop_spaces(text: str) -> str:
    """Collapse white space, then keep a space only between two ASCII letters/digits."""
    return _LONE_SPACE.sub("", " ".join(text.split()))


@dataclass(frozen=True, slots=True, init=False)
class Address:
    normalised: str | None    # canonical comparison form
    province: str | None      # full name, e.g. 广东省, 北京市
    city: str | None          # full name; a municipality's own name
    district: str | None      # full name as keyed, e.g. 南山区
    detail: str | None        # what follows the regions
    issues: tuple[str, ...]

    def __init__(self, normalised: str | None, province: str | None, city: str | None,
                 district: str | None, detail: str | None, issues: tuple[str, ...]) -> None:
        # What dataclass(frozen=True) would generate, except that each slot is set
        # through its descriptor, not object.__setattr__: 40% cheaper, once a record.
        (set_normalised, set_province, set_city, set_district,
         set_detail, set_issues) = _ADDRESS_SLOTS
        set_normalised(self, normalised)
        set_province(self, province)
        set_city(self, city)
        set_district(self, district)
        set_detail(self, detail)
        set_issues(self, issues)


_ADDRESS_SLOTS = tuple(getattr(Address, f.name).__set__ for f in fields(Address))


_EMPTY = Address(None, None, None, None, None, ())
_INVALID = Address(None, None, None, None, None, (Issue.ADDRESS_INVALID,))
_PLACEHOLDERS = frozenset(
    {"无", "不详", "不祥", "未知", "暂无", "空", "无地址", "地址不详", "待补充", "NULL", "NONE",
     "NA", "N/A", "NAN"}
)
_PUNCT_CHARS = r",;:!?\"'`|~，。、；：！？“”‘’「」『』《》〈〉…·•"
_OPEN_CHARS = r"\[{【〔〖"
_CLOSE_CHARS = r"\]}】〕〗"
_PUNCT = re.compile(f"[{_PUNCT_CHARS}]")
_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")
_BLANK = re.compile(r"\s")
_OPEN = re.compile(f"[{_OPEN_CHARS}]")
_CLOSE = re.compile(f"[{_CLOSE_CHARS}]")
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT_RUN = re.compile(r"[0-9〇]*[0-9][0-9〇]*")
_HASH = re.compile(r"(?<=\d)#")
_COUNTRY = re.compile(r"(?:中华人民共和国|中国)+")
# Every character a step of _separators acts on: most addresses hold none.
# Of them only 〇 is a letter or digit (str.isalnum), which gives a quicker test.
_ANY_STEP = re.compile(rf"[{_PUNCT_CHARS}{_OPEN_CHARS}{_CLOSE_CHARS}\s.〇#]")


def _prepare(raw: str) -> str:
    # 幢 → 栋 commutes with every later step: none reads either character.
    text = to_simplified(to_halfwidth(raw)).upper().replace("幢", "栋")
    if (text.isalnum() and "〇" not in text) or not _ANY_STEP.search(text):
        return text
    return _separators(text)


def _separators(text: str) -> str:
    """Punctuation, brackets, spaces, 〇 in numbers and 号 for # (see above)."""
    text = _PUNCT.sub(" ", text)
    if "." in text:
        text = _DOT.sub(" ", text)
    text = _CLOSE.sub(")", _OPEN.sub("(", text))
    if _BLANK.search(text):
        text = drop_spaces(text)
    if "〇" in text:
        text = _DIGIT_RUN.sub(lambda m: m.group().replace("〇", "0"), text)
    return _HASH.sub("号", text) if "#" in text else text


def standardise_address(raw: str | None) -> Address:
    """Normalise a free-text address and split off its regions; never raises."""
    if raw is None:
        return _EMPTY
    raw = str(raw)
    text = _prepare(raw)
    if not text:
        return _INVALID if raw.strip() else _EMPTY
    if text in _PLACEHOLDERS or _LETTER.search(text) is None:
        return _INVALID
    found = None
    country = _COUNTRY.match(text) if text.startswith("中") else None
    if country is not None:
        found = match_regions(text, country.end())
        if found.end == country.end():
            found = None
    if found is None:
        found = match_regions(text)
    detail = text[found.end:] or None
    city = found.city if found.city != found.province else None
    normalised = (found.province or "") + (city or "") + (found.district or "") + (detail or "")
    issues = (Issue.ADDRESS_REGION_CONFLICT,) if found.conflict else ()
    return Address(normalised or None, found.province, found.city, found.district, detail,
                   issues)
