"""Gazetteer of China's administrative divisions (行政区划).

Read from the area-code table that python-stdnum ships for resident-ID
validation (``stdnum/cn/loc.dat``), so resident IDs, the address parser and
the data generator agree on one list. Codes: ``PP0000`` province,
``PPCC00`` prefecture-level city, ``PPCCDD`` county/district. Names that
were retired carry their validity years in the data; the gazetteer keeps
every name ever used (addresses keyed years ago still use them) and marks
which ones are current.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["Region", "Gazetteer", "gazetteer"]

_LINE = re.compile(r'^(\s*)(\d+) (?:province|county)="([^"]*)"')
_PERIOD = re.compile(r"^\[(\d*)-(\d*)\](.*)$")
_PLACEHOLDERS = frozenset(
    {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "市区", "郊区"}
)


@dataclass(frozen=True, slots=True)
class Region:
    code: str            # 6 digits
    name: str            # e.g. 朝阳区
    level: str           # "province" | "city" | "district"
    current: bool        # still in use (no end year)
    start: int | None    # first year in use, if known
    end: int | None      # last year in use, if retired


@dataclass(frozen=True)
class Gazetteer:
    regions: tuple[Region, ...]

    @property
    def provinces(self) -> tuple[Region, ...]:
        return tuple(r for r in self.regions if r.level == "province")

    @property
    def cities(self) -> tuple[Region, ...]:
        return tuple(r for r in self.regions if r.level == "city")

    @property
    def districts(self) -> tuple[Region, ...]:
        return tuple(r for r in self.regions if r.level == "district")


def _parse(text: str) -> tuple[Region, ...]:
    out: list[Region] = []
    province = ""
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        indent, digits, value = m.groups()
        if not indent:
            province = digits
            out.append(Region(province + "0000", value, "province", True, None, None))
            continue
        code = province + digits
        if code.endswith("0000"):
            continue  # the province repeated
        level = "city" if code.endswith("00") else "district"
        for part in value.split(","):
            pm = _PERIOD.match(part)
            if pm:
                start_s, end_s, name = pm.groups()
                start = int(start_s) if start_s else None
                end = int(end_s) if end_s else None
            else:
                name, start, end = part, None, None
            if name in _PLACEHOLDERS:
                continue  # placeholders, not places
            out.append(Region(code, name, level, end is None, start, end))
    return tuple(out)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The gazetteer, parsed once per process."""
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    return Gazetteer(_parse(text))
