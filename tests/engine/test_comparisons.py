"""Comparison levels (比较层级): hand-made Chinese (and Latin-script) record pairs
land in the right level.

Levels are read from the generated settings (``create_settings_dict``), so these
tests check the SQL Splink will run, without training or running a model. Values
are what the standardisers produce (names through ``standardise_person_name``,
addresses through ``standardise_address``, organisation names through
``standardise_org_name``), then the engine's feature columns (the Latin-script
columns through features.py's own SQL).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import duckdb
import pytest

from matching.engine.features import (
    HEAD_OFFICE,
    LATIN_ADDRESS_COLUMNS,
    LATIN_NAME_COLUMNS,
    organisation_features_sql,
    person_features_sql,
)
from matching.engine.settings import PERSON_BLOCKING, organisation_settings, person_settings
from matching.standardise.address import standardise_address
from matching.standardise.name import pinyin_key, standardise_person_name
from matching.standardise.org import standardise_org_name

Record = dict[str, str | None]
#: (case id, left record, right record, expected level label)
Case = tuple[str, Record, Record, str]

ELSE = "All other comparisons"
MODELS = {"P": person_settings, "G": organisation_settings}


@cache
def _settings(model: str, dialect: str = "duckdb") -> dict[str, Any]:
    return MODELS[model]().create_settings_dict(dialect)


def comparison(model: str, output_column_name: str, dialect: str = "duckdb") -> dict[str, Any]:
    found = [c for c in _settings(model, dialect)["comparisons"]
             if c["output_column_name"] == output_column_name]
    assert len(found) == 1, f"{model}: no single comparison {output_column_name!r}"
    return found[0]


_SIDE_COLUMN = re.compile(r"\b([a-z_][a-z0-9_]*)_[lr]\b")


@cache
def _con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def level_of(comparison_dict: dict[str, Any], left: Record, right: Record) -> str:
    """The label of the first level whose condition holds for this pair (NULL = false).

    Every column of either record, and every column a level names, becomes
    ``<col>_l`` and ``<col>_r`` (VARCHAR; a column a record lacks is NULL) of a
    one-row relation the conditions run on.
    """
    levels = comparison_dict["comparison_levels"]
    named = {col for level in levels
             for col in _SIDE_COLUMN.findall(level["sql_condition"])}
    cols = sorted(set(left) | set(right) | named)
    select = ", ".join(
        [f'CAST(? AS VARCHAR) AS "{c}_l"' for c in cols]
        + [f'CAST(? AS VARCHAR) AS "{c}_r"' for c in cols]
    )
    params = [left.get(c) for c in cols] + [right.get(c) for c in cols]
    hits = []
    for level in levels:
        cond = level["sql_condition"]
        if cond.strip().upper() == "ELSE":
            hits.append("1")
        else:
            hits.append(f"CASE WHEN ({cond}) THEN 1 ELSE 0 END")
    row = _con().execute(
        f"WITH pair AS (SELECT {select}) SELECT {', '.join(hits)} FROM pair", params
    ).fetchone()
    assert row is not None
    for level, hit in zip(levels, row, strict=True):
        if hit == 1:
            return str(level["label_for_charts"])
    raise AssertionError(f"{comparison_dict['output_column_name']}: no level holds, no ELSE")


# --- standardised values, as the standardisers and features.py make them -------------


def derived(columns: dict[str, str], col: str, value: str | None) -> Record:
    """features.py's derived ``columns`` of one record whose ``col`` is ``value``."""
    select = ", ".join(f"{sql} AS {name}" for name, sql in columns.items())
    row = _con().execute(f"SELECT {select} FROM (SELECT CAST(? AS VARCHAR) AS {col})",
                         [value]).fetchone()
    assert row is not None
    return dict(zip(columns, row, strict=True))


def pn(raw: str | None) -> Record:
    """A person's name columns."""
    name = standardise_person_name(raw)
    return {"name_plain": name.name_plain, "name_pinyin": name.pinyin,
            **derived(LATIN_NAME_COLUMNS, "name", name.name)}


def addr(raw: str | None) -> Record:
    a = standardise_address(raw)
    return {"address": a.normalised, "province": a.province, "city": a.city,
            "district": a.district, "address_detail": a.detail,
            **derived(LATIN_ADDRESS_COLUMNS, "address", a.normalised)}


def org(raw: str | None) -> Record:
    """An organisation's name columns (branch_state as features.py derives it for a
    record with a valid organisation code of its own)."""
    o = standardise_org_name(raw)
    return {"org_core": o.core, "name_pinyin": pinyin_key(o.core) if o.core else None,
            "org_region": o.region, "org_legal_form": o.legal_form,
            "branch_state": o.branch or HEAD_OFFICE}


def rep(raw: str | None) -> Record:
    name = standardise_person_name(raw)
    return {"legal_rep": name.name, "legal_rep_pinyin": name.pinyin}


def v(col: str, value: str | None) -> Record:
    return {col: value}


def test_level_of_helper() -> None:
    """The helper itself: first true level wins, a NULL condition is false, ELSE catches all."""
    comp = {"output_column_name": "x", "comparison_levels": [
        {"sql_condition": '"x_l" IS NULL OR "x_r" IS NULL', "label_for_charts": "null"},
        {"sql_condition": "x_l = x_r", "label_for_charts": "equal"},
        {"sql_condition": "x_l < x_r", "label_for_charts": "less"},
        {"sql_condition": "y_l = y_r", "label_for_charts": "y equal"},
        {"sql_condition": "ELSE", "label_for_charts": "else"},
    ]}
    assert level_of(comp, {"x": "a"}, {"x": "a"}) == "equal"
    assert level_of(comp, {"x": "a"}, {"x": "b"}) == "less"
    assert level_of(comp, {"x": None}, {"x": "b"}) == "null"
    assert level_of(comp, {"x": "b", "y": None}, {"x": "a", "y": None}) == "else"
    assert level_of(comp, {"x": "b", "y": "1"}, {"x": "a", "y": "1"}) == "y equal"
    assert level_of(comp, {"x": "b"}, {"x": "a", "y": "1"}) == "else"  # y_l missing = NULL


# --- the cases: (model, comparison, left, right, expected level) ----------------------

_NAME: list[Case] = [
    ("exact", pn("张伟"), pn("张伟"), "Exact match on name_plain"),
    ("exact 复姓", pn("欧阳娜娜"), pn("欧阳娜娜"), "Exact match on name_plain"),
    ("homophone 伟/玮", pn("张伟"), pn("张玮"), "Exact match on name_pinyin"),
    ("homophone surname 张/章", pn("张伟"), pn("章伟"), "Exact match on name_pinyin"),
    ("look-alike 己/已", pn("王己明"), pn("王已明"), "One character different"),
    ("two characters, surname differs: not a look-alike typo", pn("李娜"), pn("王娜"),
     "All other comparisons"),
    ("four characters, one differs", pn("欧阳娜娜"), pn("欧阳娜妮"), "One character different"),
    ("minority name, 7 characters, one differs: too long for the position rule",
     pn("阿依古丽·买买提"), pn("阿依古兰·买买提"), "Jaro-Winkler distance of name_pinyin >= 0.92"),
    ("two of three differ", pn("王小明"), pn("王晓敏"),
     "Jaro-Winkler distance of name_pinyin >= 0.92"),
    ("character dropped", pn("张伟"), pn("张维维"),
     "Jaro-Winkler distance of name_pinyin >= 0.92"),
    ("jw 0.84", pn("刘德华"), pn("刘华强"), "Jaro-Winkler distance of name_pinyin >= 0.8"),
    ("jw 0.917 just below 0.92", pn("赵敏"), pn("赵明明"),
     "Jaro-Winkler distance of name_pinyin >= 0.8"),
    ("different", pn("张伟"), pn("李娜"), ELSE),
    ("null left", pn(None), pn("张伟"), "name_plain is NULL"),
    ("latin exact", pn("John Smith"), pn("JOHN  SMITH"), "Exact match on name_plain"),
    ("latin swapped", pn("John Smith"), pn("SMITH, John"), "Same words in another order"),
    ("latin three words rotated: only the first and last words count",
     pn("Mary Ann Smith"), pn("Smith Mary Ann"), "A word of one name in the other"),
    ("latin typo", pn("michael laverty"), pn("micheal laverty"), "Each word similar"),
    ("latin given names alike as strings, not as words", pn("kia white"), pn("kai white"),
     "Jaro-Winkler distance of name_pinyin >= 0.92"),
    ("latin swapped, a typo in each word", pn("michael laveryy"), pn("laverty micheal"),
     "Each word similar"),
    ("latin initial", pn("W Smith"), pn("william smith"), "An initial and the other word"),
    ("latin initial, surname first", pn("SMITH W"), pn("William Smith"),
     "An initial and the other word"),
    ("latin initial, both surname first", pn("Smith, W"), pn("smith william"),
     "An initial and the other word"),
    ("latin initial of another name", pn("J Smith"), pn("william smith"),
     "A word of one name in the other"),
    ("latin two initials are no name", pn("W S"), pn("william smith"), ELSE),
    ("latin one part missing", pn("pacey"), pn("casey pacey"),
     "A word of one name in the other"),
    ("latin same surname, given name differs", pn("amy hunting"), pn("georgia hunting"),
     "A word of one name in the other"),
    ("latin word split", pn("ne ville jack"), pn("timothy neville"),
     "A word of one name in the other"),
    ("latin surname with a typo, given name differs", pn("charlie ebert"),
     pn("seanna ebhrt"), "One word similar (Jaro-Winkler >= 0.85)"),
    ("latin two-letter word is no evidence", pn("madison oh"), pn("lily ho"), ELSE),
    ("latin different", pn("abby drechsler"), pn("rosa parr"), ELSE),
    ("latin against hanzi", pn("Wei Zhang"), pn("张伟"), ELSE),
    ("null both", pn(None), pn(None), "name_plain is NULL"),
]

ID_A = "11010519491231002X"  # 北京 resident ID, checksum valid
_ID: list[Case] = [
    ("exact", v("id_cleaned", ID_A), v("id_cleaned", ID_A), "Exact match on id_cleaned"),
    ("one digit typo", v("id_cleaned", ID_A), v("id_cleaned", "11010519491231003X"),
     "Damerau-Levenshtein distance of id_cleaned <= 1"),
    ("check digit typo", v("id_cleaned", ID_A), v("id_cleaned", "110105194912310021"),
     "Damerau-Levenshtein distance of id_cleaned <= 1"),
    ("adjacent transposition 31/13", v("id_cleaned", ID_A), v("id_cleaned", "11010519491213002X"),
     "Damerau-Levenshtein distance of id_cleaned <= 1"),
    ("two digits wrong", v("id_cleaned", ID_A), v("id_cleaned", "11010519491231112X"), ELSE),
    ("other person", v("id_cleaned", ID_A), v("id_cleaned", "440301198503070012"), ELSE),
    ("null", v("id_cleaned", ID_A), v("id_cleaned", None), "id_cleaned is NULL"),
]

_BIRTH: list[Case] = [
    ("exact", v("birth_date", "1985-03-07"), v("birth_date", "1985-03-07"),
     "Exact match on birth_date"),
    ("day and month swapped", v("birth_date", "1985-03-07"), v("birth_date", "1985-07-03"),
     "Day and month swapped"),
    ("swapped, other year", v("birth_date", "1985-03-07"), v("birth_date", "1986-07-03"), ELSE),
    ("one digit wrong", v("birth_date", "1985-03-07"), v("birth_date", "1985-03-17"),
     "Damerau-Levenshtein distance of birth_date <= 1"),
    ("year digits transposed", v("birth_date", "1985-03-07"), v("birth_date", "1958-03-07"),
     "Damerau-Levenshtein distance of birth_date <= 1"),
    ("same year and month", v("birth_date", "1985-03-07"), v("birth_date", "1985-03-21"),
     "Same year and month"),
    ("same year", v("birth_date", "1985-03-07"), v("birth_date", "1985-11-07"), "Same year"),
    ("else", v("birth_date", "1985-03-07"), v("birth_date", "1962-08-15"), ELSE),
    ("null", v("birth_date", None), v("birth_date", "1985-03-07"), "birth_date is NULL"),
]

_GENDER: list[Case] = [
    ("exact", v("gender", "F"), v("gender", "F"), "Exact match on gender"),
    ("else", v("gender", "M"), v("gender", "F"), ELSE),
    ("null (U became NULL)", v("gender", None), v("gender", "M"), "gender is NULL"),
]

_MOBILE: list[Case] = [
    ("exact", v("mobile", "13800138000"), v("mobile", "13800138000"), "Exact match on mobile"),
    ("one digit", v("mobile", "13800138000"), v("mobile", "13800138009"),
     "Damerau-Levenshtein distance of mobile <= 1"),
    ("adjacent swap", v("mobile", "13800138000"), v("mobile", "13800183000"),
     "Damerau-Levenshtein distance of mobile <= 1"),
    ("else", v("mobile", "13800138000"), v("mobile", "13912345678"), ELSE),
    ("null", v("mobile", "13800138000"), v("mobile", None), "mobile is NULL"),
]

_EMAIL: list[Case] = [
    ("exact", v("email", "zhangwei@qq.com"), v("email", "zhangwei@qq.com"),
     "Exact match on email"),
    ("else", v("email", "zhangwei@qq.com"), v("email", "zhangwei@163.com"), ELSE),
    ("null", v("email", None), v("email", "zhangwei@qq.com"), "email is NULL"),
]

_PHONE: list[Case] = [
    ("exact", v("phone", "0755-86013388"), v("phone", "0755-86013388"), "Exact match on phone"),
    ("else", v("phone", "0755-86013388"), v("phone", "0755-86013389"), ELSE),
    ("null", v("phone", "0755-86013388"), v("phone", None), "phone is NULL"),
]

_ADDRESS: list[Case] = [
    ("exact (short city form keyed)", addr("广东省深圳市南山区科技园路1号"),
     addr("深圳南山区科技园路1号"), "Exact match on address"),
    ("prefix: room added", addr("广东省深圳市南山区科技园路1号"),
     addr("广东省深圳市南山区科技园路1号3栋501"), "One a prefix of the other"),
    ("prefix: right shorter", addr("广东省深圳市南山区科技园路1号3栋501"),
     addr("广东省深圳市南山区科技园路1号"), "One a prefix of the other"),
    ("street number 1 vs 12 is no prefix", addr("广东省深圳市南山区科技园路1号"),
     addr("广东省深圳市南山区科技园路12号"), "Same district"),
    ("same district and detail, city not inferred", addr("南山区科技园路1号"),
     addr("广东省深圳市南山区科技园路1号"), "Same district and street address"),
    ("same district", addr("广东省深圳市南山区科技园路1号"),
     addr("广东省深圳市南山区高新南一路9号"), "Same district"),
    ("same city", addr("广东省深圳市南山区科技园路1号"), addr("广东省深圳市福田区深南大道1号"),
     "Same city"),
    ("else", addr("广东省深圳市南山区科技园路1号"), addr("广东省广州市天河区体育西路1号"), ELSE),
    ("null", addr(None), addr("广东省深圳市南山区科技园路1号"), "address is NULL"),
    ("latin exact", addr("20 Rupp Place Penshurst VIC 2257"),
     addr("20 RUPP PLACE PENSHURST VIC 2257"), "Exact match on address"),
    ("latin typos and a split word", addr("20 Rupp Place Brentwood Vlge Penshurst VIC 2257"),
     addr("20 Rupp Place Brentwoo Dvlge Penshurst VIC 2257"),
     "Jaro-Winkler distance of address_latin >= 0.9"),
    ("latin parts dropped, same house number and postcode",
     addr("7 Wallaby Place Delmar Cleveland SA 2119"), addr("7 Cleveland SA 2119"),
     "Same house number and last word"),
    ("latin parts reordered, a typo, postcode digits swapped",
     addr("1 Wellington Street Kinross Farm Cronulla VIC 5109"),
     addr("1 Kinross Farm Wellingtonn Street Cronulla VIC 5190"),
     "Jaro-Winkler distance of address_latin >= 0.8"),
    ("latin different", addr("7 Wallaby Place Delmar Cleveland SA 2119"),
     addr("54 Hoseason Street Granville NSW 4881"), ELSE),
    ("latin against hanzi", addr("1 Keji Road Nanshan Shenzhen"),
     addr("广东省深圳市南山区科技园路1号"), ELSE),
]

_ORG_CORE: list[Case] = [
    ("exact", org("深圳市腾讯计算机系统有限公司"), org("腾讯计算机系统有限公司"),
     "Exact match on org_core"),
    ("equal pinyin 讯/迅", org("深圳市腾讯计算机系统有限公司"), org("腾迅计算机系统有限公司"),
     "Exact match on name_pinyin"),
    ("contains", org("深圳市腾讯计算机系统有限公司"), org("腾讯计算机有限公司"),
     "One contains the other"),
    ("jw 0.91", org("腾讯计算机系统有限公司"), org("腾讯计算机技术有限公司"),
     "Jaro-Winkler distance of name_pinyin >= 0.9"),
    ("jw 0.87 below 0.9", org("招商银行股份有限公司"), org("招商证券股份有限公司"), ELSE),
    ("else", org("腾讯计算机系统有限公司"), org("阿里巴巴(中国)有限公司"), ELSE),
    ("null", {"org_core": None, "name_pinyin": None}, org("腾讯计算机系统有限公司"),
     "org_core is NULL"),
]

_ORG_REGION: list[Case] = [
    ("exact", org("深圳市腾讯计算机系统有限公司"), org("腾讯科技(深圳)有限公司"),
     "Exact match on org_region"),
    ("else", org("深圳市腾讯计算机系统有限公司"), org("北京百度网讯科技有限公司"), ELSE),
    ("null", org("腾讯计算机系统有限公司"), org("深圳市腾讯计算机系统有限公司"),
     "org_region is NULL"),
]

_LEGAL_FORM: list[Case] = [
    ("exact 有限公司 = 有限责任公司", org("腾讯计算机系统有限公司"),
     org("腾讯计算机系统有限责任公司"), "Exact match on org_legal_form"),
    ("else", org("平安保险(集团)有限公司"), org("平安保险(集团)股份有限公司"), ELSE),
    ("null", org("腾讯计算机系统"), org("腾讯计算机系统有限公司"), "org_legal_form is NULL"),
]

_BRANCH: list[Case] = [
    ("both head office", org("中国平安保险(集团)股份有限公司"), org("平安保险(集团)股份有限公司"),
     "Exact match on branch_state"),
    ("same branch", org("中国平安保险(集团)股份有限公司深圳分公司"),
     org("平安保险(集团)股份有限公司深圳市分公司"), "Exact match on branch_state"),
    ("head office vs branch", org("中国平安保险(集团)股份有限公司"),
     org("中国平安保险(集团)股份有限公司深圳分公司"), ELSE),
    ("two branches", org("中国平安保险(集团)股份有限公司深圳分公司"),
     org("中国平安保险(集团)股份有限公司广州分公司"), ELSE),
    ("unknown: no marker, no valid code", v("branch_state", None),
     org("中国平安保险(集团)股份有限公司"), "branch_state is NULL"),
]

_ORG_CODE: list[Case] = [
    ("exact", v("org_code_any", "71526726X"), v("org_code_any", "71526726X"),
     "Exact match on org_code_any"),
    ("one character off", v("org_code_any", "71526726X"), v("org_code_any", "71526728X"),
     "Damerau-Levenshtein distance of org_code_any <= 1"),
    ("adjacent swap", v("org_code_any", "71526726X"), v("org_code_any", "71526276X"),
     "Damerau-Levenshtein distance of org_code_any <= 1"),
    ("else", v("org_code_any", "71526726X"), v("org_code_any", "708461136"), ELSE),
    ("null", v("org_code_any", None), v("org_code_any", "71526726X"), "org_code_any is NULL"),
]

_LEGAL_REP: list[Case] = [
    ("exact", rep("马化腾"), rep("马化腾"), "Exact match on legal_rep"),
    ("equal pinyin 化/华", rep("马化腾"), rep("马华腾"), "Exact match on legal_rep_pinyin"),
    ("else", rep("马化腾"), rep("张志东"), ELSE),
    ("null", rep(None), rep("马化腾"), "legal_rep is NULL"),
]

CASES: dict[tuple[str, str], list[Case]] = {
    ("P", "name"): _NAME,
    ("P", "id"): _ID,
    ("P", "birth_date"): _BIRTH,
    ("P", "gender"): _GENDER,
    ("P", "mobile"): _MOBILE,
    ("P", "email"): _EMAIL,
    ("P", "phone"): _PHONE,
    ("P", "address"): _ADDRESS,
    ("G", "org_core"): _ORG_CORE,
    ("G", "org_region"): _ORG_REGION,
    ("G", "org_legal_form"): _LEGAL_FORM,
    ("G", "branch_state"): _BRANCH,
    ("G", "org_code"): _ORG_CODE,
    ("G", "legal_rep"): _LEGAL_REP,
    ("G", "phone"): _PHONE,
    ("G", "address"): _ADDRESS,
}


def _params() -> Iterator[Any]:
    for (model, comp), cases in CASES.items():
        for case_id, left, right, expected in cases:
            yield pytest.param(model, comp, left, right, expected, id=f"{model}-{comp}-{case_id}")


@pytest.mark.parametrize(("model", "comp", "left", "right", "expected"), list(_params()))
def test_level(model: str, comp: str, left: Record, right: Record, expected: str) -> None:
    assert level_of(comparison(model, comp), left, right) == expected


@pytest.mark.parametrize(("model", "comp", "left", "right", "expected"), list(_params()))
def test_level_is_symmetric(model: str, comp: str, left: Record, right: Record,
                            expected: str) -> None:
    """Splink puts either record on the left: the level must not depend on the order."""
    assert level_of(comparison(model, comp), right, left) == expected


def test_same_district_name_in_another_city_is_not_same_district() -> None:
    left = addr("北京市朝阳区建国路88号")
    right = addr("吉林省长春市朝阳区建国路88号")
    assert (left["city"], right["city"]) == ("北京市", "长春市")
    assert level_of(comparison("P", "address"), left, right) == ELSE


def test_every_level_has_a_case() -> None:
    """The table covers every level of every comparison of both models."""
    for model in MODELS:
        comps = _settings(model)["comparisons"]
        assert {(model, c["output_column_name"]) for c in comps} == {
            key for key in CASES if key[0] == model
        }
        for c in comps:
            labels = [lvl["label_for_charts"] for lvl in c["comparison_levels"]]
            covered = {case[3] for case in CASES[(model, c["output_column_name"])]}
            assert set(labels) == covered, (model, c["output_column_name"])


def test_person_name_values_are_the_standardisers() -> None:
    """The name cases rest on these standardised values."""
    no_words = dict.fromkeys(LATIN_NAME_COLUMNS)
    assert pn("张伟") == pn("张伟") == {"name_plain": "张伟", "name_pinyin": "zhangwei",
                                     **no_words}
    assert pn("张玮") == {"name_plain": "张玮", "name_pinyin": "zhangwei", **no_words}
    assert pn("王己明") == {"name_plain": "王己明", "name_pinyin": "wangjiming", **no_words}
    assert pn("王已明") == {"name_plain": "王已明", "name_pinyin": "wangyiming", **no_words}
    assert pn("SMITH, John") == {
        "name_plain": "smithjohn", "name_pinyin": "smithjohn", "name_first": "smith",
        "name_last": "john", "name_lo": "john", "name_hi": "smith"}
    assert pn("O'Brien-Smith Mary") == {
        "name_plain": "obriensmithmary", "name_pinyin": "obriensmithmary",
        "name_first": "obriensmith", "name_last": "mary", "name_lo": "mary",
        "name_hi": "obriensmith"}
    assert pn("pacey")["name_first"] == pn("pacey")["name_last"] == "pacey"
    assert org("深圳市腾讯计算机系统有限公司") == {
        "org_core": "腾讯计算机系统", "name_pinyin": "tengxunjisuanjixitong",
        "org_region": "深圳", "org_legal_form": "有限责任公司", "branch_state": HEAD_OFFICE}
    assert org("中国平安保险(集团)股份有限公司深圳分公司")["branch_state"] == "深圳分公司"


# --- dialects --------------------------------------------------------------------------

#: Columns holding pinyin keys, digits or (features.py) ASCII only: the only ones a
#: string distance may run on (DuckDB's distances count UTF-8 bytes on hanzi, Spark's
#: count characters).
FUZZY_OK_COLUMNS = {"name_pinyin", "id_cleaned", "mobile", "org_code_any", "birth_date",
                    *LATIN_NAME_COLUMNS, *LATIN_ADDRESS_COLUMNS}
FUZZY = re.compile(r"levenshtein|jaro|winkler|damerau|jaccard|hamming|cosine", re.IGNORECASE)
PORTABLE_FUNCTIONS = {"length", "substr", "instr"}
FUZZY_FUNCTIONS = {
    "duckdb": {"jaro_winkler_similarity", "damerau_levenshtein"},
    "spark": {"jaro_winkler", "damerau_levenshtein"},
}
_CALL = re.compile(r"\b([A-Za-z_][A-Za-z_0-9]*)\s*\(")
_KEYWORDS = {"and", "or", "not", "in", "when", "then", "else", "between"}
_COLUMN = re.compile(r"\b([a-z_]+)_[lr]\b")


def _levels(model: str, dialect: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for c in _settings(model, dialect)["comparisons"]:
        for level in c["comparison_levels"]:
            yield c["output_column_name"], level


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
@pytest.mark.parametrize("model", ["P", "G"])
def test_settings_generate_for_dialect(model: str, dialect: str) -> None:
    settings = _settings(model, dialect)
    assert settings["link_type"] == "dedupe_only"
    assert len(settings["comparisons"]) == 8
    assert {r["sql_dialect"] for r in settings["blocking_rules_to_generate_predictions"]} == {
        dialect}
    quote = {"duckdb": '"', "spark": "`"}[dialect]
    for comp in settings["comparisons"]:
        null_level = comp["comparison_levels"][0]
        assert null_level["is_null_level"] is True
        assert null_level["sql_condition"].startswith(quote), null_level["sql_condition"]


@pytest.mark.parametrize("model", ["P", "G"])
def test_dialects_have_the_same_levels(model: str) -> None:
    """One definition: the same comparisons and levels in the same order in both dialects."""
    duck = [(c, lvl["label_for_charts"]) for c, lvl in _levels(model, "duckdb")]
    spark = [(c, lvl["label_for_charts"]) for c, lvl in _levels(model, "spark")]
    assert duck == spark


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
@pytest.mark.parametrize("model", ["P", "G"])
def test_level_sql_is_portable(model: str, dialect: str) -> None:
    """Only portable functions, and string distances only on pinyin keys and digits."""
    fuzzy_levels = 0
    for comp, level in _levels(model, dialect):
        sql = level["sql_condition"].replace('"', "").replace("`", "")
        calls = {f.lower() for f in _CALL.findall(sql)} - _KEYWORDS
        assert calls <= PORTABLE_FUNCTIONS | FUZZY_FUNCTIONS[dialect], (comp, sql)
        if FUZZY.search(sql):
            fuzzy_levels += 1
            assert set(_COLUMN.findall(sql)) <= FUZZY_OK_COLUMNS, (comp, sql)
    assert fuzzy_levels == {"P": 9, "G": 4}[model]


def test_no_distance_on_hanzi_columns() -> None:
    """The hanzi columns named in the brief are never given to a string distance."""
    hanzi = {"name_plain", "address", "org_core", "legal_rep"}
    for model in MODELS:
        for dialect in ("duckdb", "spark"):
            for _, level in _levels(model, dialect):
                sql = level["sql_condition"].replace('"', "").replace("`", "")
                if FUZZY.search(sql):
                    assert not hanzi & set(_COLUMN.findall(sql)), sql


# --- features.py's Latin-script columns ------------------------------------------------

#: Functions features.py may call: each exists with the same meaning in DuckDB and Spark.
PORTABLE_FEATURE_FUNCTIONS = {
    "substr", "length", "instr", "coalesce", "replace", "nullif", "least", "greatest",
    "bit_length", "chr", "regexp_extract",
    # window aggregates (the branch state of a marker-less record, by its code's records)
    "min", "max", "over",
}


@pytest.mark.parametrize("features_sql", [person_features_sql, organisation_features_sql])
def test_feature_sql_is_portable(features_sql: Any) -> None:
    sql = features_sql("std")
    calls = {f.lower() for f in _CALL.findall(sql)} - _KEYWORDS - {"as"}
    assert calls <= PORTABLE_FEATURE_FUNCTIONS, calls - PORTABLE_FEATURE_FUNCTIONS
    # Spark reads a backslash in a literal as an escape and '' as two literals
    assert "\\" not in sql and "'" * 4 not in sql


@pytest.mark.parametrize("value", ["张伟", "阿依古丽·买买提", "josé garcía", "李 John"])
def test_latin_name_columns_are_null_unless_ascii(value: str) -> None:
    """A distance on them could count bytes in DuckDB and characters in Spark."""
    assert set(derived(LATIN_NAME_COLUMNS, "name", value).values()) == {None}


@pytest.mark.parametrize("value", ["广东省深圳市南山区科技园路1号", "12 Rue de l'Église Paris 75001"])
def test_latin_address_columns_are_null_unless_ascii(value: str) -> None:
    assert set(derived(LATIN_ADDRESS_COLUMNS, "address", value).values()) == {None}


def test_latin_address_columns() -> None:
    assert derived(LATIN_ADDRESS_COLUMNS, "address", "7 WALLABY PLACE CLEVELAND SA 2119") == {
        "address_latin": "7WALLABYPLACECLEVELANDSA2119", "address_number": "7",
        "address_last": "2119"}
    assert derived(LATIN_ADDRESS_COLUMNS, "address", "WALLABY PLACE CLEVELAND SA") == {
        "address_latin": "WALLABYPLACECLEVELANDSA", "address_number": None,
        "address_last": "SA"}


def test_latin_blocking_rules_add_no_pairs_on_hanzi() -> None:
    """The blocking rules on Latin columns stay silent for Chinese records."""
    latin = set(LATIN_NAME_COLUMNS) | set(LATIN_ADDRESS_COLUMNS)
    rules = [r for r in PERSON_BLOCKING if latin & set(r)]
    assert len(rules) == 5
    for rule in rules:
        for col in latin & set(rule):
            row = {**pn("张伟"), **addr("广东省深圳市南山区科技园路1号")}
            assert row[col] is None, (rule, col)
