"""True persons of one block: names, gender, birth date, identity document,
contacts and addresses, with the person traps (households, twins,
namesakes) laid over them. Values here are clean; :mod:`dirt` keys them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np

from matching.generator import names
from matching.generator.addresses import Streets, make_streets, moved_districts, pick_districts
from matching.generator.contacts import emails_for_people, landlines
from matching.generator.groups import Groups, GroupSpec, layout
from matching.generator.ids import IntSet, mobile_numbers, passport_numbers, ric_body, ric_strings
from matching.generator.params import GeneratorParams
from matching.generator.places import Districts, id_area

__all__ = ["People", "make_people", "han_names", "BASE_DATE"]

#: The night of day 1: every date is relative to it, never to today, so
#: that a seed gives the same files whenever it runs.
BASE_DATE = date(2024, 7, 1)

HAN, MINORITY_DOT, MINORITY, FOREIGN = 0, 1, 2, 3


@dataclass
class People:
    kind: np.ndarray       # int: HAN, MINORITY_DOT, MINORITY, FOREIGN
    name: np.ndarray       # object: the registered name (Latin "First Last" for foreigners)
    surname: np.ndarray    # object: "" where none
    female: np.ndarray     # bool
    year: np.ndarray
    month: np.ndarray
    day: np.ndarray
    id_number: np.ndarray  # object: 18-character resident ID or passport
    passport: np.ndarray   # bool
    district: np.ndarray
    streets: Streets
    old_district: np.ndarray
    old_streets: Streets
    mobile: np.ndarray     # int64
    mobile_old: np.ndarray
    phone: np.ndarray      # object: local number without area code
    email: np.ndarray      # object
    groups: Groups

    def __len__(self) -> int:
        return len(self.kind)


@lru_cache(maxsize=1)
def _surnames() -> tuple[np.ndarray, np.ndarray]:
    tail = list(names.TAIL_SURNAMES)
    weights = 1.0 / (np.arange(len(tail)) + 20.0)
    weights *= (100.0 - names.TOP100_SHARE) / weights.sum()
    values = [s for s, _ in names.SURNAMES] + tail
    p = np.concatenate([[w for _, w in names.SURNAMES], weights])
    return np.array(values, dtype=object), p / p.sum()


@lru_cache(maxsize=2)
def _common_given(female: bool) -> tuple[np.ndarray, np.ndarray]:
    want = "F" if female else "M"
    rows = [(g, w) for g, sex, w in names.COMMON_GIVEN if sex in (want, "U")]
    p = np.array([w for _, w in rows])
    return np.array([g for g, _ in rows], dtype=object), p / p.sum()


def _pool(female: bool) -> np.ndarray:
    chars = (names.FEMALE_CHARS if female else names.MALE_CHARS) + names.UNISEX_CHARS
    return np.array(list(chars), dtype=object)


def given_names(rng: np.random.Generator, female: np.ndarray, common_share: float) -> np.ndarray:
    """Han given names: from the weighted common table or built from the pools."""
    n = len(female)
    out = np.empty(n, dtype=object)
    common = rng.random(n) < common_share
    single = rng.random(n) < 0.15
    for is_f in (False, True):
        sel = female == is_f
        pick = np.flatnonzero(sel & common)
        table, p = _common_given(is_f)
        out[pick] = table[rng.choice(len(table), size=len(pick), p=p)]
        built = np.flatnonzero(sel & ~common)
        pool = _pool(is_f)
        a = pool[rng.integers(0, len(pool), size=len(built))]
        b = pool[rng.integers(0, len(pool), size=len(built))]
        out[built] = np.where(single[built], a, a + b)
    return out


def han_names(rng: np.random.Generator, female: np.ndarray, params: GeneratorParams,
              compound: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(surname, given name) arrays for Han Chinese people."""
    values, p = _surnames()
    surname = values[rng.choice(len(values), size=len(female), p=p)]
    if compound is not None and compound.any():
        idx = np.flatnonzero(compound)
        weights = 1.0 / (np.arange(len(names.COMPOUND_SURNAMES)) + 2.0)
        surname[idx] = np.array(names.COMPOUND_SURNAMES, dtype=object)[
            rng.choice(len(weights), size=len(idx), p=weights / weights.sum())]
    return surname, given_names(rng, female, params.common_given_name_share)


def _births(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Birth dates: 12 % children, adults around 42 ± 14 years, none over 90."""
    child = rng.random(n) < 0.12
    age = np.where(child, rng.uniform(0.1, 18, size=n), np.clip(rng.normal(42, 14, size=n), 18, 90))
    days = (age * 365.25).astype(np.int64)
    born = np.datetime64(BASE_DATE, "D") - days.astype("timedelta64[D]")
    return _ymd(born)


def _ymd(born: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    year = born.astype("datetime64[Y]").astype(np.int64) + 1970
    month = born.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (born - born.astype("datetime64[M]")).astype(np.int64) + 1
    return year, month, day


def _minority_names(rng: np.random.Generator, female: np.ndarray, dotted: np.ndarray) -> np.ndarray:
    n = len(female)
    out = np.empty(n, dtype=object)
    um = np.array(names.UYGHUR_MALE, dtype=object)
    uf = np.array(names.UYGHUR_FEMALE, dtype=object)
    om = np.array(names.OTHER_MINORITY_MALE, dtype=object)
    of = np.array(names.OTHER_MINORITY_FEMALE, dtype=object)
    own = np.where(female, uf[rng.integers(0, len(uf), n)], um[rng.integers(0, len(um), n)])
    father = um[rng.integers(0, len(um), n)]
    other = np.where(female, of[rng.integers(0, len(of), n)], om[rng.integers(0, len(om), n)])
    out[:] = np.where(dotted, own + "·" + father, other)
    return out


def _foreign_names(rng: np.random.Generator, female: np.ndarray) -> np.ndarray:
    n = len(female)
    fm = np.array(names.FOREIGN_FIRST_MALE, dtype=object)
    ff = np.array(names.FOREIGN_FIRST_FEMALE, dtype=object)
    last = np.array(names.FOREIGN_LAST, dtype=object)
    first = np.where(female, ff[rng.integers(0, len(ff), n)], fm[rng.integers(0, len(fm), n)])
    return first + " " + last[rng.integers(0, len(last), n)]


def _districts_in(places: Districts, provinces: tuple[str, ...]) -> np.ndarray:
    return np.concatenate([places.by_province[p] for p in provinces])


def make_people(rng: np.random.Generator, n: int, params: GeneratorParams, places: Districts,
                registry: IntSet) -> People:
    """``n`` true persons with clean values and their trap groups."""
    groups = layout(rng, n, [
        GroupSpec("trap_household", params.trap_household, (2, 3, 4), (0.5, 0.3, 0.2)),
        GroupSpec("trap_twins", params.trap_twins, (2,), (1.0,)),
        GroupSpec("trap_namesake", params.trap_namesake, (2, 3), (0.7, 0.3)),
    ])
    in_group = groups.leader >= 0
    roll = rng.random(n)
    kind = np.full(n, HAN, dtype=np.int64)
    cut = params.compound_surname_rate
    compound = roll < cut
    kind[(roll >= cut) & (roll < cut + params.minority_rate)] = MINORITY
    cut += params.minority_rate
    kind[(roll >= cut) & (roll < cut + params.foreigner_rate)] = FOREIGN
    kind[in_group] = HAN  # traps are built from Han names
    compound &= kind == HAN
    female = rng.random(n) < 0.5
    year, month, day = _births(rng, n)

    surname, given = han_names(rng, female, params, compound)
    minority = np.flatnonzero(kind == MINORITY)
    dotted = rng.random(len(minority)) < 0.7
    kind[minority[dotted]] = MINORITY_DOT
    district = pick_districts(rng, places, n)
    _place_minorities(rng, places, kind, district)

    # --- traps: followers copy parts of their leader -------------------------
    f, lead = groups.members["trap_household"]
    surname[f] = surname[lead]
    sibling = rng.integers(1, 9, len(f)) * np.where(rng.random(len(f)) < 0.5, -1, 1)
    year[f] = year[lead] + np.where(rng.random(len(f)) < 0.5, sibling, rng.integers(22, 36, len(f)))
    year[f] = np.minimum(year[f], BASE_DATE.year - 1)
    day[f] = np.minimum(day[f], 28)
    f, lead = groups.members["trap_twins"]
    surname[f] = surname[lead]
    year[f], month[f], day[f] = year[lead], month[lead], day[lead]
    _twin_given_names(rng, given, female, groups)
    f, lead = groups.members["trap_namesake"]
    heads = groups.leaders["trap_namesake"]
    top_surnames = np.array([s for s, _ in names.SURNAMES[:10]], dtype=object)
    surname[heads] = top_surnames[rng.integers(0, 10, len(heads))]
    for is_f in (False, True):
        sel = heads[female[heads] == is_f]
        table, _ = _common_given(is_f)
        given[sel] = table[rng.integers(0, 12, len(sel))]
    surname[f], given[f], female[f], year[f] = surname[lead], given[lead], female[lead], year[lead]
    day[f] = np.minimum(day[f], 28)
    _same_city(rng, places, district, f, lead)

    name = np.where(kind == HAN, surname + given, "")
    name[minority] = _minority_names(rng, female[minority], kind[minority] == MINORITY_DOT)
    foreign = np.flatnonzero(kind == FOREIGN)
    name[foreign] = _foreign_names(rng, female[foreign])
    surname[kind != HAN] = ""

    streets = make_streets(rng, n, office=False)
    old_district = moved_districts(rng, places, district)
    old_streets = make_streets(rng, n, office=False)
    mobile = mobile_numbers(rng, n)
    mobile_old = mobile_numbers(rng, n)
    phone = landlines(rng, places, district)
    for kind_name in ("trap_household", "trap_twins"):
        f, lead = groups.members[kind_name]
        district[f], old_district[f] = district[lead], old_district[lead]
        streets.street[f], streets.tail[f] = streets.street[lead], streets.tail[lead]
        mobile[f], phone[f] = mobile[lead], phone[lead]

    id_number = np.empty(n, dtype=object)
    passport = kind == FOREIGN
    id_number[foreign] = passport_numbers(rng, len(foreign), np.zeros(len(foreign), dtype=bool))
    _resident_ids(rng, places, registry, id_number, ~passport, district, year, month, day,
                  female, groups)
    email = emails_for_people(rng, name, surname, kind == FOREIGN, year, mobile)
    return People(kind, name, surname, female, year, month, day, id_number, passport, district,
                  streets, old_district, old_streets, mobile, mobile_old, phone, email, groups)


def _place_minorities(rng: np.random.Generator, places: Districts, kind: np.ndarray,
                      district: np.ndarray) -> None:
    """Uyghur names live in Xinjiang; Tibetan and Mongolian ones in Tibet,
    Qinghai, Sichuan and Inner Mongolia."""
    for k, provinces in ((MINORITY_DOT, ("65",)), (MINORITY, ("54", "63", "51", "15"))):
        idx = np.flatnonzero(kind == k)
        pool = _districts_in(places, provinces)
        district[idx] = pool[rng.integers(0, len(pool), len(idx))]


def _twin_given_names(rng: np.random.Generator, given: np.ndarray, female: np.ndarray,
                      groups: Groups) -> None:
    """Twins share the first character of a two-character given name."""
    f, lead = groups.members["trap_twins"]
    for follower, head in zip(f.tolist(), lead.tolist(), strict=True):
        head_pool = _pool(bool(female[head]))
        first = str(given[head])[0]
        given[head] = first + str(head_pool[rng.integers(0, len(head_pool))])
        pool = _pool(bool(female[follower]))
        second = str(given[head])[1]
        while True:
            other = str(pool[rng.integers(0, len(pool))])
            if other not in (first, second):
                break
        given[follower] = first + other


def _same_city(rng: np.random.Generator, places: Districts, district: np.ndarray,
               followers: np.ndarray, leaders: np.ndarray) -> None:
    """Move each follower to another district of its leader's city (if any)."""
    for follower, head in zip(followers.tolist(), leaders.tolist(), strict=True):
        same = np.flatnonzero(places.city_key == places.city_key[district[head]])
        district[follower] = same[rng.integers(0, len(same))]


def _resident_ids(rng: np.random.Generator, places: Districts, registry: IntSet,
                  out: np.ndarray, holders: np.ndarray, district: np.ndarray, year: np.ndarray,
                  month: np.ndarray, day: np.ndarray, female: np.ndarray, groups: Groups) -> None:
    """Unique resident IDs: birthplace (three in four born where they live)
    as coded in the birth year, birth date, a sequence odd for men."""
    idx = np.flatnonzero(holders)
    born_at = np.where(rng.random(len(district)) < 0.75, district,
                       pick_districts(rng, places, len(district)))
    f, lead = groups.members["trap_twins"]
    born_at[f] = born_at[lead]
    pick_arr = rng.integers(0, 1 << 30, len(district))
    pick_arr[f] = pick_arr[lead]
    picks = pick_arr.tolist()
    codes = places.code[born_at].tolist()
    years = year.tolist()
    area = np.array([id_area(codes[i], years[i], picks[i]) for i in idx.tolist()], dtype=np.int64)
    seq = rng.integers(0, 500, len(district)) * 2 + (~female).astype(np.int64)
    seq[f] = (seq[lead] // 2 + 1) % 500 * 2 + (~female[f]).astype(np.int64)
    full_area = np.zeros(len(district), dtype=np.int64)
    full_area[idx] = area
    todo = idx
    while todo.size:
        body = ric_body(full_area[todo], year[todo], month[todo], day[todo], seq[todo])
        taken = registry.add(body)
        ok = todo[~taken]
        out[ok] = ric_strings(body[~taken])
        todo = todo[taken]
        seq[todo] = rng.integers(0, 500, len(todo)) * 2 + (~female[todo]).astype(np.int64)
