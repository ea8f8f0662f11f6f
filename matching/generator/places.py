"""Places: districts weighted by population, telephone area codes, and the
area code a resident ID can carry.

* Districts are the gazetteer's current counties/districts
  (:func:`matching.standardise.regions.gazetteer`, python-stdnum's
  ``cn/loc.dat``); a province is drawn by its 2020 census population, then a
  district uniformly within it. Hong Kong, Macao and Taiwan are not drawn.
* Telephone area codes come from phonenumbers' own geocoding data (every
  ``0AA``/``0AAA`` code with the city it serves, matched to the gazetteer by
  name); a city it does not name uses its province's first code. Subscriber
  numbers have a first digit and length phonenumbers accepts for that code.
* A resident ID's area code is the code of the birthplace as it was in the
  birth year: python-stdnum only accepts an ID whose area code existed then
  (深圳市南山区 440305 from 1990 on; a man born there in 1985 holds a code of
  1985). :func:`id_area` returns the birthplace code when it was valid in the
  birth year, else a code of the same city (or province) that was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import phonenumbers
from phonenumbers import geocoder

from matching.standardise.regions import gazetteer

__all__ = ["Districts", "districts", "id_area", "MUNICIPALITIES"]

MUNICIPALITIES = frozenset({"11", "12", "31", "50"})

#: 2020 census population of each province, millions (7th national census).
PROVINCE_POPULATION: dict[str, float] = {
    "11": 21.9, "12": 13.9, "13": 74.6, "14": 34.9, "15": 24.0, "21": 42.6, "22": 24.1,
    "23": 31.9, "31": 24.9, "32": 84.7, "33": 64.6, "34": 61.0, "35": 41.5, "36": 45.2,
    "37": 101.5, "41": 99.4, "42": 57.8, "43": 66.4, "44": 126.0, "45": 50.1, "46": 10.1,
    "50": 32.1, "51": 83.7, "52": 38.6, "53": 47.2, "54": 3.6, "61": 39.5, "62": 25.0,
    "63": 5.9, "64": 7.2, "65": 25.9,
}
_ETHNIC = re.compile(
    "(?:藏族|苗族|侗族|布依族|彝族|哈尼族|傣族|景颇族|傈僳族|白族|壮族|朝鲜族|土家族|蒙古族|回族"
    "|哈萨克族|柯尔克孜族|羌族|蒙古)+自治州$"
)
#: Placeholders the gazetteer keeps as city names (counties run by the province).
_NOT_CITIES = frozenset({"省直辖县级行政单位", "自治区直辖县级行政单位", "林区"})
_SHORT_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市",
                   "地区", "盟")


def short_name(name: str) -> str:
    """Region name without its administrative suffix (广东省 → 广东, 深圳市 → 深圳,
    黔东南苗族侗族自治州 → 黔东南)."""
    stripped = _ETHNIC.sub("", name)
    if stripped != name and len(stripped) >= 2:
        return stripped
    for suffix in _SHORT_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True)
class Districts:
    """Current districts as parallel arrays, index = district number."""

    code: np.ndarray            # int64 6-digit code
    name: tuple[str, ...]       # 南山区
    province: tuple[str, ...]   # 广东省 (北京市 for municipalities)
    city: tuple[str, ...]       # 深圳市, or "" (municipality, province-run county)
    region: tuple[str, ...]     # short name used in organisation names: 深圳 / 北京 / 仙桃
    area_code: tuple[str, ...]  # telephone area code with its 0: 0755
    subscriber: tuple[tuple[str, int], ...]  # valid first digits, length of local numbers
    weight: np.ndarray          # float64, sums to 1
    city_key: np.ndarray        # int64: the 4-digit prefix, same for one city's districts
    by_province: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.name)


@lru_cache(maxsize=1)
def _area_codes() -> dict[tuple[str, str], str]:
    """(province code, city short name) → area code, from phonenumbers' geocoder."""
    gaz = gazetteer()
    prov_names = [(p.code[:2], p.name, short_name(p.name)) for p in gaz.provinces]
    # 内蒙古 is written without 自治区 by the geocoder; short_name keeps it.
    prov_names.sort(key=lambda t: -len(t[1]))
    out: dict[tuple[str, str], str] = {}
    codes = ["10"] + [str(i) for i in range(20, 30)] + [str(i) for i in range(310, 1000)]
    for code in codes:
        number = phonenumbers.parse("+86" + code + "23456789")
        if not phonenumbers.is_valid_number(number):
            number = phonenumbers.parse("+86" + code + "2345678")
            if not phonenumbers.is_valid_number(number):
                continue
        desc = geocoder.description_for_number(number, "zh")
        for pcode, full, short in prov_names:
            for prefix in (full, short):
                if desc.startswith(prefix):
                    rest = desc[len(prefix):]
                    for part in (rest.split("、") if rest else [""]):
                        key = (pcode, short_name(part)[:2] if part else "")
                        out.setdefault(key, "0" + code)
                    break
            else:
                continue
            break
    return out


def _subscriber_rule(area_code: str) -> tuple[str, int]:
    """First digits and length of local numbers phonenumbers accepts after ``area_code``."""
    for length in (8, 7):
        firsts = "".join(
            d for d in "2345678"
            if phonenumbers.is_valid_number(
                phonenumbers.parse("+86" + area_code[1:] + d + "3456789"[: length - 1]))
        )
        if firsts:
            return firsts, length
    return "", 0


@lru_cache(maxsize=1)
def districts() -> Districts:
    """The district table, built once per process."""
    gaz = gazetteer()
    provinces = {p.code[:2]: p.name for p in gaz.provinces}
    cities = {c.code[:4]: c.name for c in gaz.cities if c.current and c.name not in _NOT_CITIES}
    codes = _area_codes()
    rules: dict[str, tuple[str, int]] = {}
    rows = []
    seen: set[str] = set()
    for d in gaz.districts:
        pcode = d.code[:2]
        if not d.current or d.code in seen or PROVINCE_POPULATION.get(pcode, 0) <= 0:
            continue
        seen.add(d.code)
        province = provinces[pcode]
        city = "" if pcode in MUNICIPALITIES else cities.get(d.code[:4], "")
        region = short_name(city) if city else (
            short_name(province) if pcode in MUNICIPALITIES else short_name(d.name))
        area = (codes.get((pcode, short_name(city)[:2])) if city else None) or codes.get(
            (pcode, "")) or _province_default(codes, pcode)
        if area not in rules:
            rules[area] = _subscriber_rule(area)
        if not rules[area][0]:
            continue
        rows.append((int(d.code), d.name, province, city, region, area, pcode))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[6]] = counts.get(row[6], 0) + 1
    weight = np.array([PROVINCE_POPULATION[r[6]] / counts[r[6]] for r in rows])
    by_province: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_province.setdefault(row[6], []).append(i)
    return Districts(
        code=np.array([r[0] for r in rows], dtype=np.int64),
        name=tuple(r[1] for r in rows),
        province=tuple(r[2] for r in rows),
        city=tuple(r[3] for r in rows),
        region=tuple(r[4] for r in rows),
        area_code=tuple(r[5] for r in rows),
        subscriber=tuple(rules[r[5]] for r in rows),
        weight=weight / weight.sum(),
        city_key=np.array([r[0] // 100 for r in rows], dtype=np.int64),
        by_province={k: np.array(v, dtype=np.int64) for k, v in by_province.items()},
    )


def _province_default(codes: dict[tuple[str, str], str], pcode: str) -> str:
    found = sorted(v for (p, _), v in codes.items() if p == pcode)
    return found[0] if found else "010"


@lru_cache(maxsize=1)
def _periods() -> tuple[dict[int, tuple[tuple[int, int], ...]], dict[str, tuple[int, ...]]]:
    """Code → the years it was in use; 4- and 2-digit prefix → its codes."""
    periods: dict[int, list[tuple[int, int]]] = {}
    for r in gazetteer().regions:
        if r.level != "province":
            periods.setdefault(int(r.code), []).append((r.start or 0, r.end or 9999))
    prefixes: dict[str, list[int]] = {}
    for code in sorted(periods):
        text = f"{code:06d}"
        prefixes.setdefault(text[:4], []).append(code)
        prefixes.setdefault(text[:2], []).append(code)
        prefixes.setdefault("", []).append(code)
    return ({k: tuple(v) for k, v in periods.items()},
            {k: tuple(v) for k, v in prefixes.items()})


@cache
def area_valid(code: int, year: int) -> bool:
    """Was ``code`` in use in ``year``? The rule python-stdnum applies to the
    area of a resident ID (``ric.get_birth_place``), read from the same table."""
    return any(start <= year <= end for start, end in _periods()[0].get(code, ()))


@cache
def _valid_near(prefix: str, year: int) -> tuple[int, ...]:
    """Every code starting with ``prefix`` that was in use in ``year``."""
    return tuple(c for c in _periods()[1].get(prefix, ()) if area_valid(c, year))


def id_area(code: int, year: int, pick: int) -> int:
    """An area code for a resident ID of someone born in ``year`` at ``code``.

    ``code`` itself when valid then, else one of the same city's (then
    province's, then any) codes valid then, chosen by ``pick`` — 重庆 and 海南
    codes start in 1997 and 1988.
    """
    if area_valid(code, year):
        return code
    text = f"{code:06d}"
    for prefix in (text[:4], text[:2], ""):
        near = _valid_near(prefix, year)
        if near:
            return near[pick % len(near)]
    return int(text[:2]) * 10000
