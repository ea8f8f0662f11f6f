"""The person model guard of config/matching.yaml on hand-made record pairs.

A pair's comparison levels are computed from the generated settings (as in
test_comparisons), turned into Splink's gamma values and handed to the guard
the run applies to every pair scoring at or above ``auto_merge``. The cases:
a Latin name with a typo in the given name and the surname (FEBRL's
duplicates) may auto-merge on an exact birth date; a household's or twins'
different given names, Latin or Chinese, may not, whatever else they share.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pyarrow as pa
import pytest

from matching.engine.config import TypeConfig, load_engine_config
from matching.engine.features import LATIN_NAME_COLUMNS
from matching.engine.run import _guard
from tests.engine.test_comparisons import Record, addr, comparison, level_of, pn

GUARDED = ("name", "id", "birth_date", "address")


def gamma(comp: dict[str, Any], left: Record, right: Record) -> int:
    """Splink's gamma for the pair: -1 for the NULL level, else 0 (ELSE) upwards."""
    labels = [lvl["label_for_charts"] for lvl in comp["comparison_levels"]]
    index = labels.index(level_of(comp, left, right))
    return -1 if index == 0 else len(labels) - 1 - index


def person(name: str, birth_date: str | None, id_cleaned: str | None,
           address: str | None = None) -> Record:
    return {**pn(name), "birth_date": birth_date, "id_cleaned": id_cleaned, **addr(address)}


def gammas(left: Record, right: Record) -> dict[str, int]:
    return {c: gamma(comparison("P", c), left, right) for c in GUARDED}


def admitted(left: Record, right: Record, tcfg: TypeConfig) -> bool:
    g = gammas(left, right)
    pairs = pa.table({f"gamma_{c}": pa.array([v], pa.int64()) for c, v in g.items()})
    return bool(_guard(pairs, tcfg)[0])


@pytest.fixture(scope="module")
def guard() -> TypeConfig:
    return load_engine_config().person


FEBRL_ADDRESS = "7 Wallaby Place Delmar Cleveland SA 2119"
HOUSEHOLD = "北京市朝阳区建国路88号3号楼2单元501"

#: (case id, left, right): FEBRL-style duplicates, different social security numbers.
LATIN_TYPOS = [
    ("typo in the given name and the surname", person("mitchekl wallr", "19850307", "9707084",
     FEBRL_ADDRESS), person("mitchell waller", "19850307", "3773290", FEBRL_ADDRESS)),
    ("typos, words in another order", person("laurex frahn", "19610512", "7840203"),
     person("frahn lauren", "19610512", "3134475")),
]

#: (case id, left, right): different people sharing a surname, an address and
#: (for twins) a birth date.
DIFFERENT_PEOPLE = [
    ("latin household", person("amy hunting", "19850307", "1234567", FEBRL_ADDRESS),
     person("georgia hunting", "19870911", "7654321", FEBRL_ADDRESS)),
    ("latin twins", person("amy hunting", "19850307", "1234567", FEBRL_ADDRESS),
     person("georgia hunting", "19850307", "8765432", FEBRL_ADDRESS)),
    ("chinese twins 子豪/子杰", person("张子豪", "2001-05-03", "110105200105030013", HOUSEHOLD),
     person("张子杰", "2001-05-03", "110105200105030056", HOUSEHOLD)),
    ("chinese household", person("张子豪", "2001-05-03", "110105200105030013", HOUSEHOLD),
     person("张伟", "1975-10-21", "110105197510210031", HOUSEHOLD)),
    ("chinese twins with similar pinyin 小明/晓敏",
     person("王小明", "1990-01-01", "110105199001010018", HOUSEHOLD),
     person("王晓敏", "1990-01-01", "110105199001010026", HOUSEHOLD)),
]


@pytest.mark.parametrize(("left", "right"), [c[1:] for c in LATIN_TYPOS],
                         ids=[c[0] for c in LATIN_TYPOS])
def test_latin_typos_with_the_same_birth_date_may_auto_merge(
        left: Record, right: Record, guard: TypeConfig) -> None:
    assert gammas(left, right)["name"] == 6  # each word similar
    assert admitted(left, right, guard)
    assert admitted(right, left, guard)


@pytest.mark.parametrize(("left", "right"), [c[1:] for c in LATIN_TYPOS],
                         ids=[c[0] for c in LATIN_TYPOS])
def test_the_latin_alternative_is_what_admits_them(
        left: Record, right: Record, guard: TypeConfig) -> None:
    without = replace(guard, model_guard=tuple(
        alt for alt in guard.model_guard if alt != (("name", 6), ("birth_date", 5))))
    assert len(without.model_guard) == len(guard.model_guard) - 1
    assert not admitted(left, right, without)


@pytest.mark.parametrize(("left", "right"), [c[1:] for c in LATIN_TYPOS],
                         ids=[c[0] for c in LATIN_TYPOS])
def test_latin_typos_with_another_birth_date_wait_for_a_steward(
        left: Record, right: Record, guard: TypeConfig) -> None:
    assert not admitted(left, {**right, "birth_date": "19991231"}, guard)


@pytest.mark.parametrize(("left", "right"), [c[1:] for c in DIFFERENT_PEOPLE],
                         ids=[c[0] for c in DIFFERENT_PEOPLE])
def test_households_and_twins_never_auto_merge(
        left: Record, right: Record, guard: TypeConfig) -> None:
    assert gammas(left, right)["name"] < 6
    assert not admitted(left, right, guard)
    assert not admitted(right, left, guard)


def test_only_latin_levels_sit_between_same_pinyin_and_the_fuzzy_hanzi_levels() -> None:
    """The guard reads levels as "at least": the levels 6 and 7 of the name must
    need the Latin word columns, which a hanzi name leaves NULL, so that on a
    Chinese name "at least 6" is "the same pinyin or better"."""
    levels = comparison("P", "name")["comparison_levels"]
    by_gamma = {len(levels) - 1 - i: lvl for i, lvl in enumerate(levels) if i > 0}
    assert by_gamma[8]["label_for_charts"] == "Exact match on name_pinyin"
    for g in (7, 6):
        sql = by_gamma[g]["sql_condition"]
        assert "name_lo" in sql and "name_hi" in sql, sql
        assert not {"name_plain", "name_pinyin"} & set(_columns(sql)), sql
    assert all(pn(hanzi)[c] is None for hanzi in ("张子豪", "欧阳娜娜")
               for c in LATIN_NAME_COLUMNS)


def _columns(sql: str) -> list[str]:
    import re

    return re.findall(r"\b([a-z_]+)_[lr]\b", sql)
