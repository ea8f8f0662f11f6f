"""Region names at the start of a text: the gazetteer index and
:func:`match_regions`, shared by addresses and organisation names.

Rules (the brief is silent on them):

* The longest full name wins at each position. A short province (``广东``
  ``内蒙古``) or a short prefecture (``深圳``) is taken only where what follows
  backs it: a short province must be followed by one of its cities or
  districts (or nothing), a short city at the very start by one of its
  districts; after a province its cities' short forms are taken freely. So
  ``北京路88号`` keeps no region. Districts are full names only (``朝阳`` is
  also 朝阳门); two-character ones (``城区`` ``沛县``) only under a known
  province. ``lenient`` (organisation names) takes short forms unbacked.
* Inference: the province from a city; the city (and province) from a district
  when every candidate in the known province/city agrees, current names
  preferred over retired ones (朝阳区 alone stays without a city: Beijing and
  Changchun both have one). Names are kept as keyed, retired ones included.
* Municipalities (北京 上海 天津 重庆): province and city are both the full
  municipality name (``北京市``); ``市辖区`` after it is dropped. A county
  administered directly by its province (仙桃市) has no city.
* A city or district that belongs to another province/city than the one
  before it (``广东省杭州市``) is a conflict: matching stops there.

Speed: matching reads only the first few characters, and every read goes
through :class:`_State`, which notes how far it looked. A result is
therefore remembered against exactly the characters read (:class:`_Memo`):
any text that starts with them gets the same answer.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from matching.standardise.regions import gazetteer
from matching.standardise.text import to_simplified

__all__ = [
    "MUNICIPALITIES",
    "Place",
    "PlaceIndex",
    "RegionMatch",
    "match_regions",
    "place_index",
    "region_short_name",
]

MUNICIPALITIES = frozenset({"11", "12", "31", "50"})  # province codes of 北京 天津 上海 重庆

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


_Hit = tuple[str, tuple[Place, ...]]  # (the name as found in the text, its places)


class _Table:
    """Names → places, with a longest-prefix lookup."""

    __slots__ = ("names", "heads")

    def __init__(self, names: dict[str, list[Place]]) -> None:
        self.names = {k: tuple(v) for k, v in names.items()}
        heads: dict[str, set[int]] = defaultdict(set)
        for key in names:  # every key has at least two characters
            heads[key[:2]].add(len(key))
        self.heads = {h: tuple(sorted(ns, reverse=True)) for h, ns in heads.items()}

    def longest(self, text: str, pos: int, min_len: int = 2) -> _Hit | None:
        """The longest name (of at least ``min_len`` characters) at ``pos``."""
        return self.scan(text, pos, min_len)[0]

    def scan(self, text: str, pos: int, min_len: int = 2) -> tuple[_Hit | None, int]:
        """:meth:`longest`, and how far it read: the answer depends on
        ``text[pos:reach]`` only (a slice cut short where the text ends)."""
        lengths = self.heads.get(text[pos:pos + 2])
        if lengths is None:
            return None, pos + 2
        room = len(text) - pos
        for n in lengths:
            if n > room:
                continue
            if n < min_len:
                break
            key = text[pos:pos + n]
            hit = self.names.get(key)
            if hit is not None:
                return (key, hit), pos + lengths[0]
        return None, pos + lengths[0]


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
    """One match in progress. Every look at the text goes through :meth:`find`,
    :meth:`at_end` or :meth:`skip`, which keep ``reach``: the result depends on
    ``text[pos:reach]`` only (a slice that may stop short at the text's end)."""

    __slots__ = ("text", "reach", "pcode", "ccode", "city", "district", "pos", "keyed",
                 "conflict")

    def __init__(self, text: str, pos: int) -> None:
        self.text = text
        self.reach = pos
        self.pcode: str | None = None
        self.ccode: str | None = None
        self.city: str | None = None
        self.district: str | None = None
        self.pos = pos
        self.keyed: list[tuple[int, int, str, str]] = []
        self.conflict = False

    def find(self, table: _Table, pos: int, min_len: int = 2) -> _Hit | None:
        hit, reach = table.scan(self.text, pos, min_len)
        if reach > self.reach:
            self.reach = reach
        return hit

    def at_end(self, pos: int) -> bool:
        self.reach = max(self.reach, pos + 1)
        return pos == len(self.text)

    def skip(self, *words: str) -> None:
        """Step over any run of ``words`` (北京市市辖区北京市 → one 北京市)."""
        moved = True
        while moved:
            moved = False
            for word in words:
                self.reach = max(self.reach, self.pos + len(word))
                if self.text.startswith(word, self.pos):
                    self.pos += len(word)
                    moved = True

    def take(self, key: str, level: str, name: str) -> None:
        self.keyed.append((self.pos, self.pos + len(key), level, name))
        self.pos += len(key)


class _Memo:
    """Results of one kind of match (start position, leniency), each stored
    under the exact characters it read: ``heads[h][n]`` maps ``text[pos:pos + n]``
    (which starts with ``h``) to the result. A text holding those characters
    gets the same result; a text that ended within them must equal them (its
    slice is shorter than n)."""

    __slots__ = ("heads", "size")
    LIMIT = 1 << 16  # results kept; then start again

    def __init__(self) -> None:
        self.heads: dict[str, dict[int, dict[str, RegionMatch]]] = {}
        self.size = 0

    def get(self, text: str, pos: int) -> RegionMatch | None:
        by_reach = self.heads.get(text[pos:pos + 2])
        if by_reach is not None:
            for n, seen in by_reach.items():
                found = seen.get(text[pos:pos + n])
                if found is not None:
                    return found
        return None

    def put(self, text: str, pos: int, reach: int, found: RegionMatch) -> None:
        if self.size >= self.LIMIT:
            self.heads.clear()
            self.size = 0
        by_reach = self.heads.setdefault(text[pos:pos + 2], {})
        by_reach.setdefault(reach - pos, {})[text[pos:reach]] = found
        self.size += 1


_MEMOS: dict[tuple[int, bool], _Memo] = defaultdict(_Memo)


def match_regions(text: str, pos: int = 0, *, lenient: bool = False) -> RegionMatch:
    """Province, city and district at ``text[pos:]``, with inference.

    ``lenient`` takes short forms (``深圳`` ``北京``) without backing from what
    follows; organisation names use it (``北京百度网讯科技``)."""
    memo = _MEMOS[pos, lenient]
    found = memo.get(text, pos)
    if found is None:
        st = _State(text, pos)
        found = _match(st, lenient)
        memo.put(text, pos, st.reach, found)
    return found


def _match(st: _State, lenient: bool) -> RegionMatch:
    ix = place_index()
    pos = st.pos
    prov = st.find(ix.prov_full, pos)
    if prov is None:
        prov = st.find(ix.prov_short, pos)
        if prov is not None and not lenient and not _backs_province(
                st, pos + len(prov[0]), prov[1][0].pcode):
            prov = None
    city = st.find(ix.city_full, pos)
    if city is None:
        city = st.find(ix.city_short, pos)
        if city is not None and not lenient:
            city = _backed_city(st, pos + len(city[0]), city)
    if city is not None and (prov is None or len(city[0]) > len(prov[0])):
        places = _pick(city[1], None, None)
        st.take(city[0], "city", places[0].name)
        _set_city(st, places)
    elif prov is not None:
        st.take(prov[0], "province", prov[1][0].name)
        st.pcode = prov[1][0].pcode
        _after_province(st, st.pcode)
    else:
        _district(st, min_len=3)
    if st.ccode is not None and st.district is None:
        st.skip("市辖区")
        _district(st, min_len=2)
    province = ix.prov_names[st.pcode] if st.pcode else None
    city_name = province if st.pcode in MUNICIPALITIES else st.city
    return RegionMatch(province, city_name, st.district, st.pos, tuple(st.keyed), st.conflict)


def _pick(places: tuple[Place, ...], pcode: str | None, ccode: str | None) -> list[Place]:
    """The places consistent with what is known, current names preferred."""
    if len(places) == 1:  # most names
        p = places[0]
        ok = (pcode is None or p.pcode == pcode) and (ccode is None or p.ccode == ccode)
        return [p] if ok else []
    found = [p for p in places
             if (pcode is None or p.pcode == pcode) and (ccode is None or p.ccode == ccode)]
    return [p for p in found if p.current] or found


def _backs_province(st: _State, pos: int, pcode: str) -> bool:
    if st.at_end(pos):
        return True
    ix = place_index()
    for table in (ix.city_full, ix.city_short, ix.dist_full):
        hit = st.find(table, pos)
        if hit is not None and _pick(hit[1], pcode, None):
            return True
    return False


def _backed_city(st: _State, pos: int, city: _Hit) -> _Hit | None:
    hit = st.find(place_index().dist_full, pos)
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


def _after_province(st: _State, pcode: str) -> None:
    ix = place_index()
    st.skip(ix.prov_names[pcode])  # 广东省广东省
    if pcode in MUNICIPALITIES:  # 北京市北京市, 北京市市辖区
        st.skip(ix.prov_names[pcode], "市辖区")
        _district(st, min_len=2)
        return
    full = st.find(ix.city_full, st.pos)
    city_hit = full
    if full is None or not _pick(full[1], pcode, None):
        city_hit = st.find(ix.city_short, st.pos)
        if city_hit is not None and not _pick(city_hit[1], pcode, None):
            city_hit = None
    dist = st.find(ix.dist_full, st.pos)
    if dist is not None and not _pick(dist[1], pcode, None):
        dist = None
    if city_hit is not None and (dist is None or len(city_hit[0]) >= len(dist[0])):
        places = _pick(city_hit[1], pcode, None)
        st.take(city_hit[0], "city", places[0].name)
        _set_city(st, places)
    elif dist is not None:
        _district(st, min_len=2)
    elif full is not None and len(full[0]) >= 3:
        st.conflict = True
    else:
        _district(st, min_len=3)


def _district(st: _State, min_len: int) -> None:
    ix = place_index()
    hit = st.find(ix.dist_full, st.pos, min_len=min_len if st.pcode is None else 2)
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
