"""The ``latin-noid`` profile: person records a team did not shape for ECIF.

Latin-script names, no identity document, mobile, landline or e-mail; what
the records hold is a name (with nicknames, initials and typos), a gender, a
birth date (with typos) and, as the address, a birth place and its postcode.
It is how a bank's web channel or a newly connected source system looks, and
it checks that training, blocking, guards and thresholds are learned from the
data in hand rather than fitted to the Chinese profile.

Names come from Faker's ``en_US`` tables (first names by sex with their
frequencies, the 1,000 most common surnames with theirs), nicknames from the
``nicknames`` package (William → Bill, Will; Elizabeth → Liz, Beth), places
from Faker's town-name parts. Every rate is a field of :class:`LatinParams`
(docs/generator.md lists them). Traps, as in the Chinese profile, are groups
of different people who look alike: families (one surname, birth place and
postcode), twins (one surname, birth date, place; given names a letter or two
apart and of the other sex: Daniel / Danielle) and namesakes.

The output is the contract's §1 columns (``day_001.csv``) and ``truth.csv``;
the same seed and arguments give the same files.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

import jellyfish
import numpy as np

from matching.config import CodeMaps, load_code_maps
from matching.exceptions import ECIFError
from matching.generator.core import TRUTH_COLUMNS, GenerateSummary
from matching.generator.dirt import code_table
from matching.generator.params import SOURCE_SYSTEMS, GeneratorParams
from matching.generator.people import BASE_DATE
from matching.generator.person_rows import SYSTEM_DATE_FORMAT
from matching.generator.records import source_keys
from matching.generator.writer import CONTRACT_COLUMNS, TableWriter

__all__ = ["LatinParams", "generate_latin", "latin_error_kinds", "latin_trap_kinds",
           "twin_name_pairs"]


def _rate(default: float, kind: str, doc: str) -> float:
    return field(default=default, metadata={"kind": kind, "doc": doc})


@dataclass(frozen=True)
class LatinParams:
    """Rates of the ``latin-noid`` profile (share of records, or of persons for traps)."""

    trap_family: float = _rate(0.06, "trap", "family of 2-4: one surname, birth place and "
                               "postcode, different given names and birth dates")
    trap_twins: float = _rate(0.02, "trap", "twins of the other sex: one surname, birth date "
                              "and place, given names a letter or two apart (Daniel / Danielle)")
    trap_namesake: float = _rate(0.02, "trap", "2-3 people with one common given name and "
                                 "surname and one birth year, born in different places")
    nickname: float = _rate(0.12, "error", "given name keyed as a nickname (William → Bill)")
    initial: float = _rate(0.06, "error", "given name keyed as its initial (w smith)")
    name_typo: float = _rate(0.08, "error", "one letter of the given name or the surname "
                             "changed, dropped, doubled or swapped with the next")
    name_order: float = _rate(0.1, "error", "surname first (SMITH WILLIAM, Smith, William)")
    gender_missing: float = _rate(0.05, "error", "gender left empty")
    birth_missing: float = _rate(0.05, "error", "birth date left empty")
    birth_typo: float = _rate(0.04, "error", "one digit of the month or day changed (an "
                              "impossible date is keyed as it is)")
    birth_day_month_swap: float = _rate(0.02, "error", "day and month swapped (day <= 12)")
    place_missing: float = _rate(0.05, "error", "birth place and postcode left empty")
    place_typo: float = _rate(0.04, "error", "one letter of the birth place changed")
    postcode_typo: float = _rate(0.03, "error", "one digit of the postcode changed")


def latin_error_kinds() -> tuple[str, ...]:
    return tuple(f.name for f in fields(LatinParams) if f.metadata["kind"] == "error")


def latin_trap_kinds() -> tuple[str, ...]:
    return tuple(f.name for f in fields(LatinParams) if f.metadata["kind"] == "trap")


# --- name and place pools ------------------------------------------------------------


@lru_cache(maxsize=1)
def _pools() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from faker.providers.person.en_US import Provider as Person

    def table(weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        names = np.array([n.lower() for n in weights], dtype=object)
        p = np.array(list(weights.values()), dtype=float)
        return names, p / p.sum()

    return {"M": table(Person.first_names_male), "F": table(Person.first_names_female),
            "last": table(Person.last_names)}


@lru_cache(maxsize=1)
def _places() -> np.ndarray:
    from faker.providers.address.en_US import Provider as Address
    from faker.providers.person.en_US import Provider as Person

    stems = [n for n in list(Person.last_names)[:150] if len(n) <= 8]
    towns = [f"{s}{suffix}" for s in stems for suffix in Address.city_suffixes[:8]]
    towns += [f"{prefix} {s}" for s in stems[:40] for prefix in Address.city_prefixes]
    return np.array(sorted({t.lower() for t in towns}), dtype=object)


@lru_cache(maxsize=1)
def _nicknames() -> dict[str, tuple[str, ...]]:
    from nicknames import NickNamer

    namer = NickNamer()
    out: dict[str, tuple[str, ...]] = {}
    for sex in ("M", "F"):
        for name in _pools()[sex][0].tolist():
            nicks = sorted(n for n in namer.nicknames_of(name) if n.isalpha() and n != name)
            if nicks:
                out[name] = tuple(nicks)
    return out


@lru_cache(maxsize=1)
def twin_name_pairs() -> tuple[tuple[str, str], ...]:
    """(male, female) given names a letter or two apart (Jaro-Winkler >= 0.9):
    daniel / danielle, paul / paula, eric / erica."""
    males, females = _pools()["M"][0].tolist(), _pools()["F"][0].tolist()
    return tuple((m, f) for m in males for f in females
                 if m != f and abs(len(m) - len(f)) <= 2
                 and jellyfish.levenshtein_distance(m, f) <= 2
                 and jellyfish.jaro_winkler_similarity(m, f) >= 0.9)


# --- entities ------------------------------------------------------------------------


@dataclass
class _People:
    first: np.ndarray
    last: np.ndarray
    female: np.ndarray
    born: np.ndarray     # datetime64[D]
    place: np.ndarray
    postcode: np.ndarray
    trap: np.ndarray


def _draw(rng: np.random.Generator, pool: tuple[np.ndarray, np.ndarray], n: int) -> np.ndarray:
    names, p = pool
    return names[rng.choice(len(names), size=n, p=p)]


def _people(rng: np.random.Generator, n: int, params: LatinParams) -> _People:
    female = rng.random(n) < 0.5
    first = np.where(female, _draw(rng, _pools()["F"], n), _draw(rng, _pools()["M"], n))
    last = _draw(rng, _pools()["last"], n)
    age_days = (np.clip(rng.normal(42, 16, n), 1, 95) * 365.25).astype(np.int64)
    born = np.datetime64(BASE_DATE, "D") - age_days.astype("timedelta64[D]")
    places = _places()
    place_ix = rng.integers(0, len(places), n)
    place = places[place_ix]
    # one place holds several postcodes: a person's is one of three
    code = (place_ix * 7919 + 1009 + 37 * rng.integers(0, 3, n)) % 90000 + 10000
    postcode = np.array([f"{c:05d}" for c in code.tolist()], dtype=object)
    trap = np.full(n, "", dtype=object)
    order = rng.permutation(n)
    at = 0
    pairs = twin_name_pairs()
    common_m = _pools()["M"][0][np.argsort(-_pools()["M"][1])[:20]]
    common_last = _pools()["last"][0][:20]
    for kind, sizes, size_p in (("trap_family", (2, 3, 4), (0.5, 0.3, 0.2)),
                                ("trap_twins", (2,), (1.0,)),
                                ("trap_namesake", (2, 3), (0.7, 0.3))):
        rate = getattr(params, kind)
        mean = float(np.dot(sizes, size_p))
        groups = rng.choice(sizes, size=int(rng.binomial(n, min(1.0, rate / mean))), p=size_p)
        for size in groups.tolist():
            if at + size > n:
                break
            g = order[at:at + size]
            at += size
            head, rest = int(g[0]), g[1:]
            trap[g] = kind
            if kind == "trap_family":
                last[rest] = last[head]
                place[rest], postcode[rest] = place[head], postcode[head]
            elif kind == "trap_twins":
                m, f = pairs[int(rng.integers(0, len(pairs)))]
                other = int(rest[0])
                first[head], female[head] = m, False
                first[other], female[other] = f, True
                last[other], born[other] = last[head], born[head]
                place[other], postcode[other] = place[head], postcode[head]
            else:
                first[g] = common_m[int(rng.integers(0, len(common_m)))]
                female[g] = False
                last[g] = common_last[int(rng.integers(0, len(common_last)))]
                year = born[head].astype("datetime64[Y]")
                born[rest] = year + rng.integers(0, 360, len(rest)).astype("timedelta64[D]")
    return _People(first, last, female, born, place, postcode, trap)


# --- records -------------------------------------------------------------------------


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _typo(word: str, pick: int) -> str:
    """One letter changed, dropped, doubled or swapped with the next (never the first)."""
    if len(word) < 3:
        return word
    i = 1 + pick % (len(word) - 1)
    kind = (pick >> 8) % 4
    if kind == 0:
        return word[:i] + _LETTERS[(pick >> 10) % 26] + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i + 1:]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    if i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + word[i] + word[i:]


def _digit_typo(text: str, pick: int) -> str:
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    i = digits[pick % len(digits)]
    new = str((int(text[i]) + 1 + (pick >> 8) % 9) % 10)
    return text[:i] + new + text[i + 1:]


def _format_date(born: np.datetime64, fmt: int) -> str:
    y, m, d = str(born).split("-")
    if fmt == 0:
        return f"{y}-{m}-{d}"
    if fmt == 1:
        return f"{y}{m}{d}"
    if fmt == 2:
        return f"{y}/{int(m)}/{int(d)}"
    return f"{y}年{m}月{d}日"


def _records(rng: np.random.Generator, people: _People, ent: np.ndarray, system: np.ndarray,
             params: LatinParams, codes: CodeMaps, summary: GenerateSummary
             ) -> dict[str, list[str]]:
    n = len(ent)

    def draw(kind: str) -> np.ndarray:
        hit = rng.random(n) < getattr(params, kind)
        summary.error_counts[kind] = summary.error_counts.get(kind, 0) + int(hit.sum())
        summary.error_eligible[kind] = summary.error_eligible.get(kind, 0) + n
        return hit

    picks = rng.integers(0, 1 << 30, (n, 4)).tolist()
    nickname, initial, typo, order = (draw(k) for k in (
        "nickname", "initial", "name_typo", "name_order"))
    nicks = _nicknames()
    names: list[str] = []
    for i in range(n):
        first, last = str(people.first[ent[i]]), str(people.last[ent[i]])
        p = picks[i]
        if nickname[i] and first in nicks:
            first = nicks[first][p[0] % len(nicks[first])]
        if typo[i]:
            if p[1] % 2:
                first = _typo(first, p[1] >> 1)
            else:
                last = _typo(last, p[1] >> 1)
        if initial[i]:
            first = first[0]
        if order[i]:
            name = (f"{last.upper()} {first.upper()}" if p[2] % 2
                    else f"{last.title()}, {first.title()}")
        else:
            name = f"{first.title()} {last.title()}" if p[2] % 3 else f"{first} {last}".upper()
        names.append(name)

    genders = code_table(codes, "gender", ("M", "F"))[system, people.female[ent].astype(int)]
    genders[draw("gender_missing")] = ""

    born = people.born[ent].copy()
    swap = draw("birth_day_month_swap")
    typo_b = draw("birth_typo")
    missing_b = draw("birth_missing")
    fmt = np.array([SYSTEM_DATE_FORMAT[s] for s in SOURCE_SYSTEMS])[system]
    births: list[str] = []
    for i in range(n):
        text = str(born[i])
        y, m, d = text.split("-")
        if swap[i] and int(d) <= 12 and d != m:
            text = f"{y}-{d}-{m}"
        if typo_b[i]:
            text = text[:5] + _digit_typo(text[5:], picks[i][3])  # month or day
        try:
            shown = _format_date(np.datetime64(text, "D"), int(fmt[i]))
        except ValueError:  # a typo made an impossible date: keyed as it is
            shown = text
        births.append("" if missing_b[i] else shown)

    place = people.place[ent].copy()
    postcode = people.postcode[ent].copy()
    for i in np.flatnonzero(draw("place_typo")).tolist():
        place[i] = _typo(str(place[i]), picks[i][0] >> 3)
    for i in np.flatnonzero(draw("postcode_typo")).tolist():
        postcode[i] = _digit_typo(str(postcode[i]), picks[i][1] >> 3)
    address = [f"{str(pl).title()} {pc}" for pl, pc in zip(place, postcode, strict=True)]
    for i in np.flatnonzero(draw("place_missing")).tolist():
        address[i] = ""
    blank = [""] * n
    return {"customer_type": ["P"] * n, "name": names, "gender": genders.tolist(),
            "birth_date": births, "id_type": blank, "id_number": blank, "mobile": blank,
            "phone": blank, "email": blank, "address": address, "legal_rep": blank,
            "updated_at": [f"2024-0{1 + k % 6}-1{k % 10}T09:00:00" for k in range(n)]}


def generate_latin(out_dir: Path, records: int, seed: int,
                   params: LatinParams | None = None, base: GeneratorParams | None = None,
                   *, code_maps: CodeMaps | None = None) -> GenerateSummary:
    """Write ``day_001.csv`` and ``truth.csv`` of the ``latin-noid`` profile:
    ``records`` rows of persons. ``base`` gives the records per person and the
    sending systems' weights (``config/generator.yaml``)."""
    if records <= 0:
        raise ECIFError(f"records must be positive, got {records}")
    params = params or LatinParams()
    base = base or GeneratorParams()
    codes = code_maps or load_code_maps()
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7_777,)))
    weights = np.array(base.records_per_entity)
    mean = float(np.dot(np.arange(1, len(weights) + 1), weights / weights.sum()))
    n_people = int(records / mean) + 64
    people = _people(rng, n_people, params)
    counts = rng.choice(np.arange(1, len(weights) + 1), size=n_people, p=weights / weights.sum())
    ent = np.repeat(np.arange(n_people), counts)[:records]
    while len(ent) < records:  # too few people drawn: more records for the last ones
        ent = np.concatenate([ent, ent[-(records - len(ent)):]])[:records]
    ent = ent[rng.permutation(len(ent))]
    p = np.array([base.person_systems.get(s, 0.0) for s in SOURCE_SYSTEMS])
    system = rng.choice(len(SOURCE_SYSTEMS), size=len(ent), p=p / p.sum())
    out_dir.mkdir(parents=True, exist_ok=True)
    day, truth_path = out_dir / "day_001.csv", out_dir / "truth.csv"
    summary = GenerateSummary([day, truth_path], [len(ent)], 0, 0, 0, len(ent),
                              trap_entities={k: 0 for k in latin_trap_kinds()})
    cols = _records(rng, people, ent, system, params, codes, summary)
    cols["source_system"] = [SOURCE_SYSTEMS[s] for s in system.tolist()]
    cols["source_customer_id"] = source_keys(system, rng.permutation(len(ent)), seed)
    entity = [f"L{e + 1:08d}" for e in ent.tolist()]
    writer = TableWriter(day, CONTRACT_COLUMNS)
    writer.write([cols[c] for c in CONTRACT_COLUMNS])
    writer.close()
    truth = TableWriter(truth_path, TRUTH_COLUMNS)
    truth.write([cols["source_system"], cols["source_customer_id"], entity])
    truth.close()
    kept = np.unique(ent)
    summary.entities = summary.persons = len(kept)
    for kind in summary.trap_entities:
        summary.trap_entities[kind] = int((people.trap[kept] == kind).sum())
    return summary
