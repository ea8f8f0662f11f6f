"""Persons' source records as each system keys them, errors included."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from matching.config import CodeMaps
from matching.generator.addresses import Streets
from matching.generator.dirt import (
    FULLWIDTH_DIGITS,
    Dirt,
    change_char,
    code_table,
    insert_space,
    swap_char,
    unmapped_codes,
)
from matching.generator.fields import key_address, key_mobile, key_phone
from matching.generator.params import SOURCE_SYSTEMS, GeneratorParams
from matching.generator.people import FOREIGN, HAN, MINORITY_DOT, People
from matching.generator.places import Districts
from matching.generator.typos import (
    gbk_ok,
    homophones,
    lookalikes,
    to_traditional,
    traditional_name,
)

__all__ = ["key_people", "DATE_FORMATS", "SYSTEM_DATE_FORMAT"]

#: The contract's birth-date layouts: 1985-03-07, 19850307, 1985/3/7, 1985年03月07日.
DATE_FORMATS = ("iso", "compact", "slash", "chinese")
#: The layout each system uses unless a clerk keys another.
SYSTEM_DATE_FORMAT = {"CORE": 0, "UW": 1, "CLAIM": 3, "TELE": 2, "FIN": 0, "WEB": 0}
#: Dots clerks key for ·, kept to those GBK can encode (• U+2022 is not).
_DOT_VARIANTS = tuple(v for v in ("•", "・", ".", "．", " ", "") if gbk_ok(v))


@lru_cache(maxsize=200_000)
def _name_traits(name: str) -> tuple[bool, bool, bool]:
    """(has a homophone, has a look-alike, has a traditional form)."""
    h, look = homophones(), lookalikes()
    return (any(c in h for c in name), any(c in look for c in name),
            to_traditional(name) != name)


def _format_dates(fmt: np.ndarray, year: np.ndarray, month: np.ndarray,
                  day: np.ndarray) -> list[str]:
    out = [""] * len(fmt)
    y, m, d, f = year.tolist(), month.tolist(), day.tolist(), fmt.tolist()
    for i in range(len(out)):
        k = f[i]
        if k == 0:
            out[i] = f"{y[i]:04d}-{m[i]:02d}-{d[i]:02d}"
        elif k == 1:
            out[i] = f"{y[i]:04d}{m[i]:02d}{d[i]:02d}"
        elif k == 2:
            out[i] = f"{y[i]}/{m[i]}/{d[i]}"
        else:
            out[i] = f"{y[i]:04d}年{m[i]:02d}月{d[i]:02d}日"
    return out


def _key_names(d: Dirt, people: People, ent: np.ndarray) -> np.ndarray:
    name = people.name[ent].copy()
    kind = people.kind[ent]
    traits = np.array([_name_traits(str(x)) for x in people.name], dtype=bool).reshape(-1, 3)
    traits = traits[ent]
    empty = d.draw("name_empty")
    ok = ~empty
    cjk = ok & (kind != FOREIGN)
    surname_len = np.array([len(str(s)) for s in people.surname])[ent]
    lengths = np.array([len(str(x)) for x in name])
    steps = (
        ("name_homophone", cjk & traits[:, 0], lambda s, p, i: swap_char(s, homophones(), p)),
        ("name_lookalike", cjk & traits[:, 1], lambda s, p, i: swap_char(s, lookalikes(), p)),
        ("name_drop_char", ok & (kind == HAN) & (lengths >= 3),
         lambda s, p, i: _drop(s, int(surname_len[i]), p)),
        ("name_traditional", cjk & traits[:, 2], lambda s, p, i: traditional_name(s)),
        ("name_space", cjk, lambda s, p, i: insert_space(s, p)),
        ("minority_dot_variant", ok & (kind == MINORITY_DOT),
         lambda s, p, i: s.replace("·", _DOT_VARIANTS[p % len(_DOT_VARIANTS)])),
        ("latin_name_variant", ok & (kind == FOREIGN), lambda s, p, i: _latin(s, p)),
    )
    for kind_name, eligible, edit in steps:
        hit = d.draw(kind_name, eligible)
        picks = d.ints()
        for i in np.flatnonzero(hit).tolist():
            name[i] = edit(str(name[i]), picks[i], i)
    name[empty] = ""
    return name


def _drop(text: str, start: int, pick: int) -> str:
    i = start + pick % (len(text) - start)
    return text[:i] + text[i + 1:]


def _latin(text: str, pick: int) -> str:
    first, _, last = text.partition(" ")
    style = pick % 4
    if style == 0:
        return f"{last.upper()} {first.upper()}"
    if style == 1:
        return f"{last}, {first}"
    if style == 2:
        return text.upper()
    return text.lower()


def key_people(rng: np.random.Generator, people: People, ent: np.ndarray, system: np.ndarray,
               params: GeneratorParams, codes: CodeMaps, places: Districts,
               keep_masks: bool) -> tuple[dict[str, np.ndarray], Dirt]:
    """Columns of persons' records (entity ``ent[i]`` sent by ``system[i]``)."""
    d = Dirt(rng, params, system, keep_masks)
    n = len(ent)
    cols: dict[str, np.ndarray] = {"customer_type": np.full(n, "P", dtype=object)}
    cols["name"] = _key_names(d, people, ent)

    female = people.female[ent]
    gender = code_table(codes, "gender", ("M", "F"))[system, female.astype(np.int64)]
    missing = d.draw("gender_missing")
    gender[missing] = ""
    unmapped = d.draw("gender_unmapped", ~missing)
    junk = unmapped_codes(codes, "gender")
    picks = d.ints()
    for i in np.flatnonzero(unmapped).tolist():
        gender[i] = junk[system[i]][picks[i] % len(junk[system[i]])]
    cols["gender"] = gender

    year, month, day = people.year[ent], people.month[ent].copy(), people.day[ent].copy()
    missing = d.draw("birth_missing")
    swap = d.draw("birth_day_month_swap", ~missing & (day <= 12) & (day != month))
    month[swap], day[swap] = day[swap], month[swap].copy()
    other = d.draw("birth_other_format", ~missing)
    fmt = np.array([SYSTEM_DATE_FORMAT[s] for s in SOURCE_SYSTEMS])[system]
    fmt[other] = (fmt[other] + rng.integers(1, 4, int(other.sum()))) % 4
    birth = np.array(_format_dates(fmt, year, month, day), dtype=object)
    birth[missing] = ""
    cols["birth_date"] = birth

    cols["id_type"], cols["id_number"] = _key_ids(d, people, ent, system, codes)
    mobile_present = ~d.draw("mobile_missing")
    cols["mobile"] = key_mobile(d, mobile_present, people.mobile[ent], people.mobile_old[ent])
    cols["phone"] = key_phone(d, d.presence("person_phone_present"), places,
                              people.district[ent], people.phone[ent])
    email = people.email[ent].copy()
    email[~d.presence("person_email_present")] = ""
    cols["email"] = email
    cols["address"] = key_address(
        d, places, people.district[ent], _take(people.streets, ent),
        people.old_district[ent], _take(people.old_streets, ent))
    cols["legal_rep"] = np.full(n, "", dtype=object)
    return cols, d


def _take(streets: Streets, ent: np.ndarray) -> Streets:
    return Streets(streets.street[ent], streets.tail[ent])


def _key_ids(d: Dirt, people: People, ent: np.ndarray, system: np.ndarray,
             codes: CodeMaps) -> tuple[np.ndarray, np.ndarray]:
    passport = people.passport[ent]
    number = people.id_number[ent].copy()
    id_type = code_table(codes, "id_type", ("RESIDENT_ID", "PASSPORT"))[
        system, passport.astype(np.int64)]
    missing = d.draw("id_missing")
    no_number = d.draw("id_number_missing", ~missing)
    unmapped = d.draw("id_type_unmapped", ~missing)
    junk = unmapped_codes(codes, "id_type")
    picks = d.ints()
    for i in np.flatnonzero(unmapped).tolist():
        id_type[i] = junk[system[i]][picks[i] % len(junk[system[i]])]
    ric = ~missing & ~no_number & ~passport
    ends_x = np.array([str(x).endswith("X") for x in number], dtype=bool)
    old = people.year[ent] < 1990
    edits = (
        ("id_typo", ric, lambda s, p: change_char(s, p, "0123456789", 17)),
        ("id_transpose", ric, _transpose),
        ("id_legacy_15", ric & old, lambda s, p: s[:6] + s[8:17]),
    )
    legacy = np.zeros(d.n, dtype=bool)
    for kind, eligible, edit in edits:
        hit = d.draw(kind, eligible)
        picks = d.ints()
        if kind == "id_legacy_15":
            legacy = hit
        for i in np.flatnonzero(hit).tolist():
            number[i] = edit(str(number[i]), picks[i])
    lower = d.draw("id_lower_x", ric & ends_x & ~legacy)
    for i in np.flatnonzero(lower).tolist():
        number[i] = str(number[i])[:-1] + "x"
    wide = d.draw("id_fullwidth", ric)
    for i in np.flatnonzero(wide).tolist():
        number[i] = str(number[i]).translate(FULLWIDTH_DIGITS)
    seps = d.draw("id_separators", ric)
    for i in np.flatnonzero(seps).tolist():
        s, sep = str(number[i]), " -"[picks[i] % 2]
        number[i] = f"{s[:6]}{sep}{s[6:-4]}{sep}{s[-4:]}"
    typo = d.draw("passport_typo", ~missing & ~no_number & passport)
    for i in np.flatnonzero(typo).tolist():
        s = str(number[i])
        number[i] = change_char(s, picks[i], "0123456789", len(s))
    id_type[missing] = ""
    number[missing | no_number] = ""
    return id_type, number


def _transpose(text: str, pick: int) -> str:
    places = [i for i in range(16) if text[i] != text[i + 1]]
    if not places:
        return text
    i = places[pick % len(places)]
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]
