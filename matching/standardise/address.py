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
* Regions: the longest full name wins at each position. A short province
  (``广东`` ``内蒙古``) or a short prefecture (``深圳``) is taken only where
  what follows backs it: a short province must be followed by one of its
  cities or districts (or nothing), a short city at the very start by one of
  its districts; after a province its cities' short forms are taken freely.
  So ``北京路88号`` keeps no region. Districts are full names only (``朝阳`` is
  also 朝阳门); two-character ones (``城区`` ``沛县``) only under a known
  province. A leading ``中国`` / ``中华人民共和国`` is dropped when a region follows.
* Inference: the province from a city; the city (and province) from a district
  when every candidate in the known province/city agrees, current names
  preferred over retired ones (朝阳区 alone stays without a city: Beijing and
  Changchun both have one). Names are kept as keyed, retired ones included.
* Municipalities (北京 上海 天津 重庆): province and city are both the full
  municipality name (``北京市``); ``市辖区`` after it is dropped. A county
  administered directly by its province (仙桃市) has no city.
* ``normalised`` = province + city (left out when it repeats the province) +
  district + detail, with full names.
* Issues: ``ADDRESS_INVALID`` for a placeholder (``无`` ``不详`` ``N/A`` …) or a
  value without any letter (``123``, ``--``): every field None.
  ``ADDRESS_REGION_CONFLICT`` when a city or district follows that belongs to
  another province/city (``广东省杭州市``): the text stays in ``detail``.

The gazetteer index (:func:`place_index`), :func:`match_regions` and the two
text helpers are shared with :mod:`matching.standardise.org`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from matching.standardise.issues import Issue
from matching.standardise.regions import gazetteer
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

MUNICIPALITIES = frozenset({"11", "12", "31", "50"})  # province codes of 北京 天津 上海 重庆

# --- text helpers (candidates for text.py) ----------------------------------

_LONE_SPACE = re.compile(r" (?![A-Za-z0-9])|(?<![A-Za-z0-9]) ")
def drop_spaces(text: str) -> str:
    """Collapse white space, then keep a space only between two ASCII letters/digits."""
    return _LONE_SPACE.sub("", " ".join(text.split()))


# --- gazetteer index ---------------------------------------------------------

_ETHNIC = (
    "蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|拉祜|水|"
    "东乡|纳西|景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|"
    "乌孜别克|俄罗斯|鄂温克|德昂|保安|裕固|京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺"
)
_SHORT = re.compile(
    rf"(.{{2,}}?)(?:(?:{_ETHNIC})族?)*自治[区州县旗]"
    r"|(.{2,}?)(?:省|市|特别行政区|地区|盟|新区|区|县|旗)"
)


def region_short_name(name: str) -> str:
    """广东省 → 广东, 内蒙古自治区 → 内蒙古, 延边朝鲜族自治州 → 延边, 浦东新区 → 浦东;
    a name that would shrink below two characters (城区) stays whole."""
    m = _SHORT.fullmatch(name)
    return (m.group(1) or m.group(2)) if m else name


class Place(NamedTuple):
    pcode: str            # 2-digit province code
    ccode: str | None     # 4-digit prefecture code; None for provinces, municipalities'
    name: str             # districts and counties under the province directly
    current: bool


class _Table:
    """Names → places, with a longest-prefix lookup."""

    __slots__ = ("names", "heads")

    def __init__(self, names: dict[str, list[Place]]) -> None:
        self.names = {k: tuple(v) for k, v in names.items()}
        heads: dict[str, set[int]] = defaultdict(set)
        for key in names:  # every key has at least two characters
            heads[key[:2]].add(len(key))
        self.heads = {h: tuple(sorted(ns, reverse=True)) for h, ns in heads.items()}

    def longest(self, text: str, pos: int, min_len: int = 2
                ) -> tuple[str, tuple[Place, ...]] | None:
        lengths = self.heads.get(text[pos:pos + 2])
        if lengths is None:
            return None
        room = len(text) - pos
        for n in lengths:
            if n > room:
                continue
            if n < min_len:
                break
            key = text[pos:pos + n]
            hit = self.names.get(key)
            if hit is not None:
                return key, hit
        return None


@dataclass(frozen=True, slots=True)
class PlaceIndex:
    prov_full: _Table      # 广东省, 广西壮族自治区, 广西自治区
    prov_short: _Table     # 广东, 广西
    city_full: _Table      # 深圳市
    city_short: _Table     # 深圳
    dist_full: _Table      # 南山区 (districts, counties, county-level cities)
    prov_names: dict[str, str]     # province code → full name
    prov_short_of: dict[str, str]  # province code → short name
    city_names: dict[str, str]     # prefecture code → current (else latest) name
    shorts: dict[str, str]         # any full or short name → its short name


def _out_name(name: str) -> str:
    # OpenCC turns the place name 乾 (乾县, 乾安县) into 干: keep it as written.
    return name if "乾" in name else to_simplified(name)


@lru_cache(maxsize=1)
def place_index() -> PlaceIndex:
    """The gazetteer as lookup tables, built once per process."""
    g = gazetteer()
    pf: dict[str, list[Place]] = defaultdict(list)
    ps: dict[str, list[Place]] = defaultdict(list)
    cf: dict[str, list[Place]] = defaultdict(list)
    cs: dict[str, list[Place]] = defaultdict(list)
    df: dict[str, list[Place]] = defaultdict(list)
    prov_names: dict[str, str] = {}
    prov_short_of: dict[str, str] = {}
    shorts: dict[str, str] = {}
    for r in g.provinces:
        place = Place(r.code[:2], None, _out_name(r.name), True)
        short = region_short_name(place.name)
        prov_names[place.pcode] = place.name
        prov_short_of[place.pcode] = short
        pf[to_simplified(r.name)].append(place)
        if short != place.name:
            ps[short].append(place)
            if place.name.endswith("自治区"):
                pf[short + "自治区"].append(place)
    cities = [r for r in g.cities if len(r.name) > 1 and "直辖" not in r.name
              and r.name != "林区" and r.code[:2] not in MUNICIPALITIES]
    latest: dict[str, tuple[bool, int, str]] = {}
    for r in cities:
        rank = (r.current, r.end or 0, _out_name(r.name))
        latest[r.code[:4]] = max(latest.get(r.code[:4], rank), rank)
        place = Place(r.code[:2], r.code[:4], _out_name(r.name), r.current)
        cf[to_simplified(r.name)].append(place)
        short = region_short_name(place.name)
        if short != place.name:
            cs[short].append(place)
    city_names = {code: rank[2] for code, rank in latest.items()}
    seen: dict[tuple[str, str | None, str], int] = {}
    for r in g.districts:
        ccode = r.code[:4] if r.code[:4] in city_names else None
        key = to_simplified(r.name)
        place = Place(r.code[:2], ccode, _out_name(r.name), r.current)
        at = seen.setdefault((place.pcode, ccode, key), len(df[key]))
        if at == len(df[key]):
            df[key].append(place)
        elif r.current:
            df[key][at] = place
        shorts.setdefault(region_short_name(place.name), region_short_name(place.name))
    for table in (df, cs, cf, ps, pf):
        for key, places in table.items():
            shorts[key] = region_short_name(places[0].name)
    return PlaceIndex(_Table(pf), _Table(ps), _Table(cf), _Table(cs), _Table(df),
                      prov_names, prov_short_of, city_names, shorts)


# --- addresses ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Address:
    normalised: str | None    # canonical comparison form
    province: str | None      # full name, e.g. 广东省, 北京市
    city: str | None          # full name; a municipality's own name
    district: str | None      # full name as keyed, e.g. 南山区
    detail: str | None        # what follows the regions
    issues: tuple[str, ...]


_EMPTY = Address(None, None, None, None, None, ())
_INVALID = Address(None, None, None, None, None, (Issue.ADDRESS_INVALID,))
_PLACEHOLDERS = frozenset(
    {"无", "不详", "不祥", "未知", "暂无", "空", "无地址", "地址不详", "待补充", "NULL", "NONE",
     "NA", "N/A", "NAN"}
)
_PUNCT = re.compile(r"[,;:!?\"'`|~，。、；：！？“”‘’「」『』《》〈〉…·•]")
_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")
_BLANK = re.compile(r"\s")
_OPEN = re.compile(r"[\[{【〔〖]")
_CLOSE = re.compile(r"[\]}】〕〗]")
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT_RUN = re.compile(r"[0-9〇]*[0-9][0-9〇]*")
_HASH = re.compile(r"(?<=\d)#")
_COUNTRY = re.compile(r"(?:中华人民共和国|中国)+")


def _prepare(text: str) -> str:
    text = _PUNCT.sub(" ", to_simplified(to_halfwidth(text)).upper())
    if "." in text:
        text = _DOT.sub(" ", text)
    text = _CLOSE.sub(")", _OPEN.sub("(", text)).replace("幢", "栋")
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
    country = _COUNTRY.match(text)
    if country is not None:
        found = match_regions(text, country.end())
        if found.end == country.end():
            found = None
    if found is None:
        found = match_regions(text)
    detail = text[found.end:] or None
    city = found.city if found.city != found.province else None
    normalised = "".join(p for p in (found.province, city, found.district, detail) if p)
    issues = (Issue.ADDRESS_REGION_CONFLICT,) if found.conflict else ()
    return Address(normalised or None, found.province, found.city, found.district, detail,
                   issues)


# --- region matching ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegionMatch:
    """Regions found at the start of a text. ``keyed`` lists the names present in
    the text as (start, end, level, full name), level being ``province`` ``city``
    or ``district``; the others were inferred."""

    province: str | None
    city: str | None
    district: str | None
    end: int
    keyed: tuple[tuple[int, int, str, str], ...]
    conflict: bool


class _State:
    __slots__ = ("pcode", "ccode", "city", "district", "pos", "keyed", "conflict")

    def __init__(self, pos: int) -> None:
        self.pcode: str | None = None
        self.ccode: str | None = None
        self.city: str | None = None
        self.district: str | None = None
        self.pos = pos
        self.keyed: list[tuple[int, int, str, str]] = []
        self.conflict = False

    def take(self, key: str, level: str, name: str) -> None:
        self.keyed.append((self.pos, self.pos + len(key), level, name))
        self.pos += len(key)

    def skip(self, text: str, *words: str) -> None:
        """Step over any run of ``words`` (北京市市辖区北京市 → one 北京市)."""
        moved = True
        while moved:
            moved = False
            for word in words:
                if text.startswith(word, self.pos):
                    self.pos += len(word)
                    moved = True


def _pick(places: tuple[Place, ...], pcode: str | None, ccode: str | None) -> list[Place]:
    """The places consistent with what is known, current names preferred."""
    if len(places) == 1:  # most names
        p = places[0]
        ok = (pcode is None or p.pcode == pcode) and (ccode is None or p.ccode == ccode)
        return [p] if ok else []
    found = [p for p in places
             if (pcode is None or p.pcode == pcode) and (ccode is None or p.ccode == ccode)]
    return [p for p in found if p.current] or found


def match_regions(text: str, pos: int = 0, *, lenient: bool = False) -> RegionMatch:
    """Province, city and district at ``text[pos:]``, with inference.

    ``lenient`` takes short forms (``深圳`` ``北京``) without backing from what
    follows; organisation names use it (``北京百度网讯科技``)."""
    ix = place_index()
    st = _State(pos)
    prov = ix.prov_full.longest(text, pos)
    if prov is None:
        prov = ix.prov_short.longest(text, pos)
        if prov is not None and not lenient and not _backs_province(
                text, pos + len(prov[0]), prov[1][0].pcode):
            prov = None
    city = ix.city_full.longest(text, pos)
    if city is None:
        city = ix.city_short.longest(text, pos)
        if city is not None and not lenient:
            city = _backed_city(text, pos + len(city[0]), city)
    if city is not None and (prov is None or len(city[0]) > len(prov[0])):
        places = _pick(city[1], None, None)
        st.take(city[0], "city", places[0].name)
        _set_city(st, places)
    elif prov is not None:
        st.take(prov[0], "province", prov[1][0].name)
        st.pcode = prov[1][0].pcode
        _after_province(text, st, st.pcode)
    else:
        _district(text, st, min_len=3)
    if st.ccode is not None and st.district is None:
        st.skip(text, "市辖区")
        _district(text, st, min_len=2)
    province = ix.prov_names[st.pcode] if st.pcode else None
    city_name = province if st.pcode in MUNICIPALITIES else st.city
    return RegionMatch(province, city_name, st.district, st.pos, tuple(st.keyed), st.conflict)


def _backs_province(text: str, pos: int, pcode: str) -> bool:
    if pos == len(text):
        return True
    ix = place_index()
    for table in (ix.city_full, ix.city_short, ix.dist_full):
        hit = table.longest(text, pos)
        if hit is not None and _pick(hit[1], pcode, None):
            return True
    return False


def _backed_city(text: str, pos: int, city: tuple[str, tuple[Place, ...]]
                 ) -> tuple[str, tuple[Place, ...]] | None:
    hit = place_index().dist_full.longest(text, pos)
    if hit is None:
        return None
    backed = tuple(c for c in city[1] if _pick(hit[1], c.pcode, c.ccode))
    return (city[0], backed) if backed else None


def _set_city(st: _State, places: list[Place]) -> None:
    st.city = places[0].name
    if len(places) == 1 or len({p.ccode for p in places}) == 1:
        st.ccode = places[0].ccode
    if len(places) == 1 or len({p.pcode for p in places}) == 1:
        st.pcode = places[0].pcode


def _after_province(text: str, st: _State, pcode: str) -> None:
    ix = place_index()
    st.skip(text, ix.prov_names[pcode])  # 广东省广东省
    if pcode in MUNICIPALITIES:  # 北京市北京市, 北京市市辖区
        st.skip(text, ix.prov_names[pcode], "市辖区")
        _district(text, st, min_len=2)
        return
    full = ix.city_full.longest(text, st.pos)
    city_hit = None
    for hit in (full, ix.city_short.longest(text, st.pos)):
        if hit is not None and _pick(hit[1], pcode, None):
            city_hit = hit
            break
    dist = ix.dist_full.longest(text, st.pos)
    if dist is not None and not _pick(dist[1], pcode, None):
        dist = None
    if city_hit is not None and (dist is None or len(city_hit[0]) >= len(dist[0])):
        places = _pick(city_hit[1], pcode, None)
        st.take(city_hit[0], "city", places[0].name)
        _set_city(st, places)
    elif dist is not None:
        _district(text, st, min_len=2)
    elif full is not None and len(full[0]) >= 3:
        st.conflict = True
    else:
        _district(text, st, min_len=3)


def _district(text: str, st: _State, min_len: int) -> None:
    ix = place_index()
    hit = ix.dist_full.longest(text, st.pos, min_len=min_len if st.pcode is None else 2)
    if hit is None:
        return
    places = _pick(hit[1], st.pcode, st.ccode)
    if not places:
        st.conflict = len(hit[0]) >= 3
        return
    st.take(hit[0], "district", places[0].name)
    st.district = places[0].name
    one = len(places) == 1
    if st.pcode is None and (one or len({p.pcode for p in places}) == 1):
        st.pcode = places[0].pcode
    if st.ccode is None and (one or len({p.ccode for p in places}) == 1) and places[0].ccode:
        st.ccode = places[0].ccode
        st.city = ix.city_names[places[0].ccode]
