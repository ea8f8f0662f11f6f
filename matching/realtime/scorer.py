"""A native scorer: the trained Splink model evaluated in Python, one record
against its candidates, with no database round trip.

The model's constants are taken from Splink itself (its ``Settings`` object
built from the model dict): each level's match weight (``log2(m/u)`` with
Splink's clamp and its defaults for levels never observed), the prior's
weight, the term-frequency adjustment's weight, exact-match ``u`` and
minimum; so the only thing written here is each level's condition, and
those are written from :mod:`matching.engine.comparisons` (simple levels
are recognised by their SQL, custom ones by their label). A model holding a
level this module does not know raises :class:`UnknownLevel` when loaded.

String similarities are jellyfish's: DuckDB 2's ``jaro_winkler_similarity``,
``jaro_similarity`` and ``damerau_levenshtein`` count characters, and
jellyfish gives the same floats on Hanzi, Latin and mixed text
(``tests/realtime/test_parity.py``). The judge is the parity test: for every
pair the batch scored on the sample, the same probability to 1e-6.

Term frequencies: ``tf(column, value)`` gives what Splink's TF table holds
for the value (its share among the non-null values of the column), or None.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jellyfish

from matching.exceptions import ConfigError

__all__ = ["NativeModel", "Score", "Level", "UnknownLevel", "TfLookup"]

Features = Mapping[str, str | None]
Predicate = Callable[[Features, Features], bool]
TfLookup = Callable[[str, str | None], float | None]


class UnknownLevel(ConfigError):
    """A comparison level the native scorer has no condition for."""


def _jw(a: str | None, b: str | None) -> float | None:
    if a is None or b is None:
        return None
    return float(jellyfish.jaro_winkler_similarity(a, b))


def _dl(a: str | None, b: str | None) -> int | None:
    if a is None or b is None:
        return None
    return int(jellyfish.damerau_levenshtein_distance(a, b))


def _eq(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a == b


def _len(a: str | None) -> int | None:
    return None if a is None else len(a)


def _substr(a: str | None, start: int, n: int) -> str | None:
    return None if a is None else a[start - 1:start - 1 + n]


# --- simple levels, recognised by their SQL ----------------------------------------------

_NULL = re.compile(r'^"?(\w+)_l"? IS NULL OR "?\1_r"? IS NULL$')
_EXACT = re.compile(r'^"?(\w+)_l"? = "?\1_r"?$')
_JW = re.compile(r'^jaro_winkler_similarity\("?(\w+)_l"?, "?\1_r"?\) >= ([0-9.]+)$')
_DL = re.compile(r'^damerau_levenshtein\("?(\w+)_l"?, "?\1_r"?\) <= ([0-9]+)$')


def _exact(col: str) -> Predicate:
    return lambda lf, rf: _eq(lf.get(col), rf.get(col))


def _jw_at_least(col: str, threshold: float) -> Predicate:
    def level(lf: Features, rf: Features) -> bool:
        s = _jw(lf.get(col), rf.get(col))
        return s is not None and s >= threshold
    return level


def _dl_at_most(col: str, k: int) -> Predicate:
    def level(lf: Features, rf: Features) -> bool:
        d = _dl(lf.get(col), rf.get(col))
        return d is not None and d <= k
    return level


# --- custom levels, by label (matching/engine/comparisons.py) -----------------------------

def _each_word_similar(lf: Features, rf: Features) -> bool:
    return _jw_at_least("name_lo", 0.88)(lf, rf) and _jw_at_least("name_hi", 0.88)(lf, rf)


def _same_words(lf: Features, rf: Features) -> bool:
    return _eq(lf.get("name_lo"), rf.get("name_lo")) and _eq(lf.get("name_hi"), rf.get("name_hi"))


def _initial_one_way(a: Features, b: Features) -> bool:
    for ini, rest in (("name_first", "name_last"), ("name_last", "name_first")):
        for full, other in (("name_first", "name_last"), ("name_last", "name_first")):
            i, f = a.get(ini), b.get(full)
            rs, ot = a.get(rest), b.get(other)
            if (i is not None and f is not None and rs is not None and len(i) == 1
                    and len(f) > 1 and i == f[0] and _eq(rs, ot) and len(rs) > 1):
                return True
    return False


def _initial_and_word(lf: Features, rf: Features) -> bool:
    return _initial_one_way(lf, rf) or _initial_one_way(rf, lf)


def _one_character_different(lf: Features, rf: Features) -> bool:
    a, b = lf.get("name_plain"), rf.get("name_plain")
    if a is None or b is None or len(a) != len(b) or not 3 <= len(a) <= 4:
        return False
    same = sum(1 for i in range(4) if a[i:i + 1] == b[i:i + 1])
    return same == 3


def _word_in_other(lf: Features, rf: Features) -> bool:
    for w in ("name_first", "name_last"):
        for a, b in ((lf, rf), (rf, lf)):
            word, plain = a.get(w), b.get("name_plain")
            if word is not None and plain is not None and len(word) >= 3 and word in plain:
                return True
    return False


def _one_word_similar(lf: Features, rf: Features) -> bool:
    cols = ("name_first", "name_last")
    for a in cols:
        for b in cols:
            s = _jw(lf.get(a), rf.get(b))
            if s is not None and s >= 0.85:
                return True
    return False


def _address_prefix(lf: Features, rf: Features) -> bool:
    a, b = lf.get("address"), rf.get("address")
    if lf.get("address_detail") is None or rf.get("address_detail") is None:
        return False
    if a is None or b is None or len(a) < 6 or len(b) < 6:
        return False
    return a[:len(b)] == b or b[:len(a)] == a


def _same_district_street(lf: Features, rf: Features) -> bool:
    cl, cr = lf.get("city"), rf.get("city")
    city_ok = cl is None or cr is None or cl == cr
    return (city_ok and _eq(lf.get("district"), rf.get("district"))
            and _eq(lf.get("address_detail"), rf.get("address_detail")))


def _same_district(lf: Features, rf: Features) -> bool:
    return _eq(lf.get("city"), rf.get("city")) and _eq(lf.get("district"), rf.get("district"))


def _same_city(lf: Features, rf: Features) -> bool:
    return _eq(lf.get("city"), rf.get("city"))


def _same_number_and_last(lf: Features, rf: Features) -> bool:
    return (_eq(lf.get("address_number"), rf.get("address_number"))
            and _eq(lf.get("address_last"), rf.get("address_last")))


def _day_month_swapped(lf: Features, rf: Features) -> bool:
    a, b = lf.get("birth_date"), rf.get("birth_date")
    if a is None or b is None:
        return False
    return a[0:4] == b[0:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]


def _same_year_month(lf: Features, rf: Features) -> bool:
    return _eq(_substr(lf.get("birth_date"), 1, 7), _substr(rf.get("birth_date"), 1, 7))


def _same_year(lf: Features, rf: Features) -> bool:
    return _eq(_substr(lf.get("birth_date"), 1, 4), _substr(rf.get("birth_date"), 1, 4))


def _one_contains_other(lf: Features, rf: Features) -> bool:
    a, b = lf.get("org_core"), rf.get("org_core")
    if a is None or b is None or len(a) < 2 or len(b) < 2:
        return False
    return b in a or a in b


_CUSTOM: dict[str, Predicate] = {
    "Same words in another order": _same_words,
    "Each word similar": _each_word_similar,
    "An initial and the other word": _initial_and_word,
    "One character different": _one_character_different,
    "A word of one name in the other": _word_in_other,
    "One word similar (Jaro-Winkler >= 0.85)": _one_word_similar,
    "One a prefix of the other": _address_prefix,
    "Same district and street address": _same_district_street,
    "Same district": _same_district,
    "Same city": _same_city,
    "Same house number and last word": _same_number_and_last,
    "Day and month swapped": _day_month_swapped,
    "Same year and month": _same_year_month,
    "Same year": _same_year,
    "One contains the other": _one_contains_other,
}


def _predicate(sql: str, label: str) -> Predicate:
    sql = sql.strip()
    if label in _CUSTOM:
        return _CUSTOM[label]
    if m := _EXACT.match(sql):
        return _exact(m.group(1))
    if m := _JW.match(sql):
        return _jw_at_least(m.group(1), float(m.group(2)))
    if m := _DL.match(sql):
        return _dl_at_most(m.group(1), int(m.group(2)))
    raise UnknownLevel(f"the native scorer has no condition for level {label!r} ({sql})")


@dataclass(frozen=True)
class Level:
    gamma: int
    label: str
    weight: float  # the level's match weight, log2(m/u)
    test: Predicate | None  # None: the else level
    tf_column: str | None = None
    tf_weight: float = 0.0
    tf_log2_u: float = 0.0
    tf_min_u: float = 0.0


@dataclass(frozen=True)
class _Comparison:
    name: str
    null_column: str | None
    levels: tuple[Level, ...]
    #: every column its levels read (Splink's own list from their SQL, and the TF
    #: column): two candidates equal on these get the same level and weight
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Score:
    """One pair: its match weight and probability, and per comparison
    (field, level label, gamma, weight with its TF adjustment)."""

    match_weight: float
    match_probability: float
    fields: tuple[tuple[str, str, int, float], ...]

    def weights(self) -> dict[str, float]:
        return {name: w for name, _, _, w in self.fields}


def _null_column(sql: str) -> str | None:
    m = _NULL.match(sql.strip())
    return m.group(1) if m else None


class NativeModel:
    """The Splink model dict of a trained model, ready to score pairs in Python."""

    def __init__(self, splink_dict: dict[str, Any]) -> None:
        from splink.internals.settings_creator import SettingsCreator

        settings = SettingsCreator.from_path_or_dict(dict(splink_dict)).get_settings("duckdb")
        from splink.internals.misc import prob_to_match_weight

        self.prior_weight = float(prob_to_match_weight(
            settings._probability_two_random_records_match))
        comparisons = []
        for cc in settings.comparisons:
            null_col: str | None = None
            levels: list[Level] = []
            columns: set[str] = set()
            for cl in cc.comparison_levels:
                if not cl._is_else_level:
                    columns.update(c.unquote().name
                                   for c in cl._input_columns_used_by_sql_condition)
                if cl.is_null_level:
                    null_col = _null_column(cl.sql_condition)
                    if null_col is None:
                        raise UnknownLevel(f"null level {cl.sql_condition!r}")
                    continue
                weight = cl._match_weight
                if weight is None:
                    raise UnknownLevel(f"level {cl.label_for_charts!r} has no m or u")
                test = None if cl._is_else_level else _predicate(cl.sql_condition,
                                                                 cl.label_for_charts)
                level = Level(int(cl.comparison_vector_value), str(cl.label_for_charts),
                              float(weight), test)
                if cl._has_tf_adjustments and cl._tf_adjustment_weight != 0:
                    u = cl._u_probability_corresponding_to_exact_match(cc.comparison_levels)
                    tf_column = str(cl._tf_adjustment_input_column.unquote().name)
                    level = Level(level.gamma, level.label, level.weight, test, tf_column,
                                  float(cl._tf_adjustment_weight), math.log2(u),
                                  float(cl._tf_minimum_u_value))
                    columns.add(tf_column)
                levels.append(level)
            comparisons.append(_Comparison(cc.output_column_name, null_col, tuple(levels),
                                           tuple(sorted(columns))))
        self.comparisons: tuple[_Comparison, ...] = tuple(comparisons)

    @property
    def tf_columns(self) -> tuple[str, ...]:
        cols = {lv.tf_column for c in self.comparisons for lv in c.levels if lv.tf_column}
        return tuple(sorted(c for c in cols if c))

    def score(self, left: Features, right: Features, tf: TfLookup) -> Score:
        total = self.prior_weight
        fields = []
        for comp in self.comparisons:
            field, w, adj = _compare(comp, left, right, tf)
            total += w
            if adj is not None:
                total += adj
            fields.append(field)
        return Score(total, _probability(total), tuple(fields))

    def score_many(self, left: Features, candidates: Sequence[Features],
                   tf: TfLookup) -> list[Score]:
        """:meth:`score` of ``left`` against each candidate, equal to it to the bit: a
        comparison's outcome depends only on its :attr:`_Comparison.columns`, so it is
        worked out once per distinct tuple of the candidates' values there (a block
        of one common name holds hundreds of candidates and few distinct names, dates
        or genders)."""
        comps = self.comparisons
        memos: list[dict[tuple[Any, ...], _Outcome]] = [{} for _ in comps]
        out = []
        for right in candidates:
            total = self.prior_weight
            fields = []
            get = right.get
            for comp, memo in zip(comps, memos, strict=True):
                key = tuple(map(get, comp.columns))
                got = memo.get(key)
                if got is None:
                    got = memo[key] = _compare(comp, left, right, tf)
                field, w, adj = got
                total += w
                if adj is not None:
                    total += adj
                fields.append(field)
            out.append(Score(total, _probability(total), tuple(fields)))
        return out


#: one comparison's outcome: (field, level weight, TF adjustment or None), where field is
#: (name, level label, gamma, weight with its TF adjustment) as in :class:`Score`
_Outcome = tuple[tuple[str, str, int, float], float, float | None]


def _compare(comp: _Comparison, left: Features, right: Features, tf: TfLookup) -> _Outcome:
    col = comp.null_column
    if col is not None and (left.get(col) is None or right.get(col) is None):
        return (comp.name, "null", -1, 0.0), 0.0, None
    for level in comp.levels:
        if level.test is None or level.test(left, right):
            break
    w = level.weight
    if level.tf_column is None:
        return (comp.name, level.label, level.gamma, w), w, None
    adj = _tf_adjustment(level, tf, left.get(level.tf_column), right.get(level.tf_column))
    return (comp.name, level.label, level.gamma, w + adj), w, adj


def _tf_adjustment(level: Level, tf: TfLookup, lv: str | None, rv: str | None) -> float:
    assert level.tf_column is not None
    tl, tr = tf(level.tf_column, lv), tf(level.tf_column, rv)
    if tl is None and tr is None:
        return 0.0
    present = [t for t in (tl, tr) if t is not None]
    u = max(*present, level.tf_min_u) if len(present) > 1 else max(present[0], level.tf_min_u)
    return level.tf_weight * (level.tf_log2_u - math.log2(u))


def _probability(weight: float) -> float:
    """Splink's: 1 / (1 + 2^-w) above 0, 2^w / (1 + 2^w) below."""
    if weight >= 0:
        return 1.0 / (1.0 + 2.0 ** -weight)
    p = 2.0 ** weight
    return p / (1.0 + p)
