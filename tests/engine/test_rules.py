"""Deterministic rule tiers (强规则 / 弱规则) and the feature columns they run on.

Small tables of standardised records (``OUTPUT_COLUMNS``, all VARCHAR) go
through ``person_features_sql`` / ``organisation_features_sql`` in DuckDB; the
rules are the ones in config/matching.yaml, turned into SQL by
``rule_pairs_sql``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from matching.config import CodeMaps
from matching.engine.backend import DuckDBBackend
from matching.engine.config import EngineConfig, Rule, load_engine_config
from matching.engine.features import (
    HEAD_OFFICE,
    organisation_features_sql,
    person_features_sql,
)
from matching.engine.run import rule_pairs_sql
from matching.standardise.address import standardise_address
from matching.standardise.columns import OUTPUT_COLUMNS
from matching.standardise.name import pinyin_key, standardise_person_name
from matching.standardise.org import standardise_org_name, standardise_uscc
from matching.standardise.record import standardise_record
from matching.standardise.resident_id import standardise_resident_id

Record = dict[str, str | None]

ID_A = "11010519491231002X"    # 北京, 1949-12-31, F: checksum valid
ID_A_BAD = "110105194912310021"  # ID_A with a wrong check digit: id_number empty
ID_B = "440301198503070010"    # 深圳, 1985-03-07, M: checksum valid
USCC_TX = "9144030071526726XG"  # organisation code 71526726X
USCC_PA = "91440300708461136T"  # organisation code 708461136
USCC_BAD = "914403007084611360"  # USCC_PA with a wrong check character


# --- standardised rows, as matching.standardise.record makes them -----------------------


def _blank(system: str, key: str, ctype: str) -> Record:
    row: Record = dict.fromkeys(OUTPUT_COLUMNS)
    row.update(source_system=system, source_customer_id=key, customer_type=ctype)
    return row


def _address(row: Record, raw: str | None) -> None:
    a = standardise_address(raw)
    row.update(address=a.normalised, province=a.province, city=a.city, district=a.district,
               address_detail=a.detail)


def person(key: str, name: str | None, *, rid: str | None = None, bad_rid: str | None = None,
           passport: str | None = None, birth_date: str | None = None,
           gender: str | None = None, mobile: str | None = None,
           address: str | None = None, system: str = "CORE") -> Record:
    """A standardised person. ``rid`` a valid resident ID, ``bad_rid`` one failing
    its checksum (kept in id_cleaned only), ``passport`` a passport number."""
    row = _blank(system, key, "P")
    n = standardise_person_name(name)
    row.update(name=n.name, name_plain=n.name_plain, surname=n.surname, given_name=n.given_name,
               name_pinyin=n.pinyin, birth_date=birth_date, gender=gender, mobile=mobile)
    if rid is not None:
        row.update(id_type="RESIDENT_ID", id_number=rid, id_cleaned=rid, id_valid="1", id_raw=rid)
    elif bad_rid is not None:
        row.update(id_type="RESIDENT_ID", id_number=None, id_cleaned=bad_rid, id_valid="0",
                   id_raw=bad_rid)
    elif passport is not None:
        row.update(id_type="PASSPORT", id_number=passport, id_cleaned=passport, id_valid="1",
                   id_raw=passport)
    _address(row, address)
    return row


def organisation(key: str, name: str, *, uscc: str | None = None, org_code: str | None = None,
                 bad_uscc: str | None = None, phone: str | None = None,
                 legal_rep: str | None = None, address: str | None = None,
                 system: str = "CORE") -> Record:
    """A standardised organisation keyed with a valid USCC, a valid organisation
    code or a USCC failing its checksum (kept in id_cleaned only)."""
    row = _blank(system, key, "G")
    o = standardise_org_name(name)
    rep = standardise_person_name(legal_rep)
    row.update(name=o.name, org_core=o.core, org_region=o.region, org_legal_form=o.legal_form,
               org_branch=o.branch, name_pinyin=pinyin_key(o.core) if o.core else None,
               legal_rep=rep.name, legal_rep_pinyin=rep.pinyin, phone=phone)
    if uscc is not None:
        row.update(id_type="USCC", id_number=uscc, id_cleaned=uscc, id_valid="1", id_raw=uscc,
                   uscc=uscc, org_code=uscc[8:17])
    elif org_code is not None:
        row.update(id_type="ORG_CODE", id_number=org_code, id_cleaned=org_code, id_valid="1",
                   id_raw=org_code, org_code=org_code)
    elif bad_uscc is not None:
        row.update(id_type="USCC", id_number=None, id_cleaned=bad_uscc, id_valid="0",
                   id_raw=bad_uscc)
    _address(row, address)
    return row


def features(rows: Sequence[Record]) -> DuckDBBackend:
    """A backend holding ``std`` (the rows) and the ``persons`` / ``organisations`` features."""
    backend = DuckDBBackend(threads=1, memory_limit="1GB")
    cols = ", ".join(f"{c} VARCHAR" for c in OUTPUT_COLUMNS)
    backend.con.execute(f"CREATE TABLE std ({cols})")
    if rows:
        marks = ", ".join("?" for _ in OUTPUT_COLUMNS)
        backend.con.executemany(f"INSERT INTO std VALUES ({marks})",
                                [[r[c] for c in OUTPUT_COLUMNS] for r in rows])
    backend.create_table("persons", person_features_sql("std"))
    backend.create_table("organisations", organisation_features_sql("std"))
    return backend


def pairs(backend: DuckDBBackend, table: str, rule: Rule,
          max_group: int | None = None) -> set[tuple[str, str]]:
    rows = backend.fetch_arrow(rule_pairs_sql(table, rule, max_group)).to_pylist()
    assert {r["rule"] for r in rows} <= {rule.name}
    found = [(r["unique_id_l"], r["unique_id_r"]) for r in rows]
    assert len(found) == len(set(found)), "a pair came out twice"
    assert all(left < right for left, right in found)
    return set(found)


def feature_rows(backend: DuckDBBackend, table: str) -> dict[str, dict[str, Any]]:
    return {r["unique_id"]: r for r in backend.fetch_arrow(f"SELECT * FROM {table}").to_pylist()}


@pytest.fixture(scope="module")
def config() -> EngineConfig:
    return load_engine_config()


def _rule(rules: Sequence[Rule], name: str) -> Rule:
    found = {r.name: r for r in rules}
    assert name in found, f"rule {name!r} not in config/matching.yaml: {sorted(found)}"
    return found[name]


# --- the helpers build what the standardiser builds ------------------------------------


def test_id_constants() -> None:
    assert [standardise_resident_id(x).valid for x in (ID_A, ID_B, ID_A_BAD)] == [
        True, True, False]
    assert [(standardise_uscc(x).valid, standardise_uscc(x).org_code)
            for x in (USCC_TX, USCC_PA, USCC_BAD)] == [
        (True, "71526726X"), (True, "708461136"), (False, None)]


_ID_COLUMNS = ("name", "name_plain", "surname", "given_name", "name_pinyin", "id_type",
               "id_number", "id_cleaned", "id_valid", "birth_date", "gender", "mobile",
               "address", "city", "district", "address_detail")
_ORG_COLUMNS = ("name", "org_core", "org_region", "org_legal_form", "org_branch", "name_pinyin",
                "id_type", "id_number", "id_cleaned", "id_valid", "uscc", "org_code",
                "legal_rep", "legal_rep_pinyin", "phone", "city")


@pytest.mark.parametrize(("raw", "made"), [
    ({"name": "张伟", "id_type": "0", "id_number": ID_A, "birth_date": "1949-12-31",
      "gender": "2", "mobile": "13800138000", "address": "深圳市南山区科技园路1号"},
     person("P1", "张伟", rid=ID_A, birth_date="1949-12-31", gender="F", mobile="13800138000",
            address="广东省深圳市南山区科技园路1号")),
    ({"name": "张伟", "id_type": "0", "id_number": ID_A_BAD, "birth_date": "1949-12-31",
      "gender": "2"},
     person("P1", "张伟", bad_rid=ID_A_BAD, birth_date="1949-12-31", gender="F")),
    ({"name": "张伟", "id_type": "1", "id_number": "E12345678", "birth_date": "1949-12-31",
      "gender": "2"},
     person("P1", "张伟", passport="E12345678", birth_date="1949-12-31", gender="F")),
], ids=["valid resident id", "checksum-invalid resident id", "passport"])
def test_person_rows_match_standardiser(codes: CodeMaps, raw: dict[str, str],
                                        made: Record) -> None:
    out = standardise_record({"source_system": "CORE", "source_customer_id": "P1",
                              "customer_type": "P", **raw}, codes)
    assert out.rejected == ()
    assert {c: out.record[c] for c in _ID_COLUMNS} == {c: made[c] for c in _ID_COLUMNS}


@pytest.mark.parametrize(("raw", "made"), [
    ({"name": "深圳市腾讯计算机系统有限公司", "id_type": "8", "id_number": USCC_TX,
      "phone": "0755-86013388", "legal_rep": "马化腾"},
     organisation("G1", "深圳市腾讯计算机系统有限公司", uscc=USCC_TX, phone="0755-86013388",
                  legal_rep="马化腾")),
    ({"name": "腾讯计算机系统有限公司深圳分公司", "id_type": "7", "id_number": "71526726-X"},
     organisation("G1", "腾讯计算机系统有限公司深圳分公司", org_code="71526726X")),
    ({"name": "中国平安保险(集团)股份有限公司", "id_type": "8", "id_number": USCC_BAD},
     organisation("G1", "中国平安保险(集团)股份有限公司", bad_uscc=USCC_BAD)),
], ids=["valid uscc", "org code, branch", "checksum-invalid uscc"])
def test_organisation_rows_match_standardiser(codes: CodeMaps, raw: dict[str, str],
                                              made: Record) -> None:
    out = standardise_record({"source_system": "CORE", "source_customer_id": "G1",
                              "customer_type": "G", **raw}, codes)
    assert out.rejected == ()
    assert {c: out.record[c] for c in _ORG_COLUMNS} == {c: made[c] for c in _ORG_COLUMNS}


# --- features.py ------------------------------------------------------------------------


def test_person_features() -> None:
    backend = features([
        person("P1", "张伟", rid=ID_A, birth_date="1949-12-31", gender="F"),
        person("P2", "张伟", bad_rid=ID_A_BAD, birth_date="1949-12-31", gender="U"),
        person("P3", "李娜", passport="E12345678", gender="M"),
        person("P4", None),
        organisation("G1", "深圳市腾讯计算机系统有限公司", uscc=USCC_TX),
    ])
    got = feature_rows(backend, "persons")
    assert set(got) == {"CORE:P1", "CORE:P2", "CORE:P3", "CORE:P4"}
    cols = ("resident_id", "id_cleaned", "id_prefix", "gender", "birth_date", "birth_year",
            "surname", "given_name", "customer_type")
    assert {k: tuple(r[c] for c in cols) for k, r in got.items()} == {
        "CORE:P1": (ID_A, ID_A, "11010519491231", "F", "1949-12-31", "1949", "张", "伟", "P"),
        "CORE:P2": (None, ID_A_BAD, "11010519491231", None, "1949-12-31", "1949", "张", "伟",
                    "P"),
        "CORE:P3": (None, "E12345678", "E12345678", "M", None, None, "李", "娜", "P"),
        "CORE:P4": (None, None, None, None, None, None, None, None, "P"),
    }


def test_resident_id_only_for_resident_id_type() -> None:
    """A valid-looking number keyed under another ID type is no resident ID."""
    row = person("P1", "张伟", passport=ID_A)
    backend = features([row])
    got = feature_rows(backend, "persons")["CORE:P1"]
    assert (got["id_type"], got["id_cleaned"], got["resident_id"]) == ("PASSPORT", ID_A, None)


def test_organisation_features() -> None:
    backend = features([
        organisation("G1", "深圳市腾讯计算机系统有限公司", uscc=USCC_TX),
        organisation("G2", "腾讯计算机系统有限公司深圳分公司", org_code="71526726X"),
        organisation("G3", "中国平安保险(集团)股份有限公司", bad_uscc=USCC_BAD),
        organisation("G4", "平安保险(集团)股份有限公司"),
        organisation("G5", "平安保险(集团)股份有限公司", uscc=USCC_PA),
        person("P1", "张伟", rid=ID_A),
    ])
    got = feature_rows(backend, "organisations")
    assert set(got) == {"CORE:G1", "CORE:G2", "CORE:G3", "CORE:G4", "CORE:G5"}
    cols = ("org_code", "org_code_any", "org_branch", "branch_state", "org_core", "core_prefix")
    assert {k: tuple(r[c] for c in cols) for k, r in got.items()} == {
        # no marker, but its code is the branch's (G2): the branch, its marker lost
        "CORE:G1": ("71526726X", "71526726X", None, "深圳分公司", "腾讯计算机系统", "腾讯"),
        "CORE:G2": ("71526726X", "71526726X", "深圳分公司", "深圳分公司", "腾讯计算机系统", "腾讯"),
        # characters 9-17 of the invalid USCC, for fuzzy comparison only; no valid
        # code and no marker: branch state unknown
        "CORE:G3": (None, "708461136", None, None, "中国平安保险集团", "中国"),
        "CORE:G4": (None, None, None, None, "平安保险集团", "平安"),
        # a valid code of its own and no marker: the head office
        "CORE:G5": ("708461136", "708461136", None, HEAD_OFFICE, "平安保险集团", "平安"),
    }


def test_branch_state_of_a_code_carried_with_two_branch_names_is_unknown() -> None:
    backend = features([
        organisation("G1", "深圳市腾讯计算机系统有限公司", uscc=USCC_TX),
        organisation("G2", "腾讯计算机系统有限公司深圳分公司", org_code="71526726X"),
        organisation("G3", "腾讯计算机系统有限公司广州分公司", uscc=USCC_TX),
    ])
    got = feature_rows(backend, "organisations")
    assert [got[k]["branch_state"] for k in ("CORE:G1", "CORE:G2", "CORE:G3")] == [
        None, "深圳分公司", "广州分公司"]


def test_org_code_any_needs_the_right_length() -> None:
    """A USCC not 18 long or an organisation code not 9 long gives no org_code_any."""
    short_uscc = organisation("G1", "腾讯计算机系统有限公司")
    short_uscc.update(id_type="USCC", id_cleaned=USCC_TX[:17])
    long_code = organisation("G2", "腾讯计算机系统有限公司")
    long_code.update(id_type="ORG_CODE", id_cleaned="71526726XX")
    other = organisation("G3", "腾讯计算机系统有限公司")
    other.update(id_type="BUSINESS_LICENSE", id_cleaned="440301103095245")
    got = feature_rows(features([short_uscc, long_code, other]), "organisations")
    assert {k: r["org_code_any"] for k, r in got.items()} == {
        "CORE:G1": None, "CORE:G2": None, "CORE:G3": None}


# --- strong rules -----------------------------------------------------------------------


def test_configured_rules(config: EngineConfig) -> None:
    """The rules these tests are about, and no strong rule on a validity-blind column."""
    assert [(r.name, r.equal) for r in config.person.strong_rules] == [
        ("same_resident_id_and_name", ("resident_id", "name_plain")),
        ("same_resident_id_and_pinyin_and_birth_date",
         ("resident_id", "name_pinyin", "birth_date")),
    ]
    assert [(r.name, r.equal) for r in config.organisation.strong_rules] == [
        ("same_org_code_and_branch", ("org_code", "branch_state")),
    ]
    for rule in config.person.strong_rules + config.organisation.strong_rules:
        assert not {"id_cleaned", "org_code_any", "id_number"} & set(rule.equal), rule


def test_same_resident_id_and_name(config: EngineConfig) -> None:
    rule = _rule(config.person.strong_rules, "same_resident_id_and_name")
    backend = features([
        person("P1", "张伟", rid=ID_A, birth_date="1949-12-31"),
        person("P2", "张伟", rid=ID_A, birth_date="1949-12-31", system="UW"),
        person("P3", "张玮", rid=ID_A, birth_date="1949-12-31"),        # homophone
        person("P4", "张伟", rid=ID_B, birth_date="1985-03-07"),        # other ID
        person("P5", "张伟", bad_rid=ID_A_BAD, birth_date="1949-12-31"),
        person("P6", "张伟", bad_rid=ID_A_BAD, birth_date="1949-12-31"),
        person("P7", "张伟", passport=ID_A),
        person("P8", None, rid=ID_A),
    ])
    assert pairs(backend, "persons", rule) == {("CORE:P1", "UW:P2")}


def test_same_resident_id_and_pinyin_and_birth_date(config: EngineConfig) -> None:
    rule = _rule(config.person.strong_rules, "same_resident_id_and_pinyin_and_birth_date")
    backend = features([
        person("P1", "张伟", rid=ID_A, birth_date="1949-12-31"),
        person("P2", "张玮", rid=ID_A, birth_date="1949-12-31"),        # homophone: pairs
        person("P3", "张玮", rid=ID_A, birth_date="1949-12-13"),        # birth date differs
        person("P4", "李娜", rid=ID_A, birth_date="1949-12-31"),        # other name
        person("P5", "张伟", rid=ID_A),                                  # no birth date
        person("P6", "张伟", bad_rid=ID_A_BAD, birth_date="1949-12-31"),
        person("P7", "张玮", bad_rid=ID_A_BAD, birth_date="1949-12-31"),
    ])
    assert pairs(backend, "persons", rule) == {("CORE:P1", "CORE:P2")}


def test_invalid_resident_id_never_pairs_under_a_strong_rule(config: EngineConfig) -> None:
    backend = features([
        person("P1", "张伟", bad_rid=ID_A_BAD, birth_date="1949-12-31", mobile="13800138000"),
        person("P2", "张伟", bad_rid=ID_A_BAD, birth_date="1949-12-31", mobile="13800138000"),
    ])
    for rule in config.person.strong_rules:
        assert pairs(backend, "persons", rule) == set(), rule.name


def test_same_org_code_and_branch(config: EngineConfig) -> None:
    rule = _rule(config.organisation.strong_rules, "same_org_code_and_branch")
    backend = features([
        organisation("G1", "深圳市腾讯计算机系统有限公司", uscc=USCC_TX),
        organisation("G2", "腾讯计算机系统有限公司", org_code="71526726X", system="UW"),
        organisation("G6", "中国平安保险(集团)股份有限公司", bad_uscc=USCC_BAD),
        organisation("G7", "中国平安保险(集团)股份有限公司", bad_uscc=USCC_BAD),
        organisation("G8", "中国平安保险(集团)股份有限公司深圳分公司", uscc=USCC_PA),
        organisation("G9", "平安保险(集团)股份有限公司深圳市分公司", uscc=USCC_PA, system="UW"),
        organisation("G10", "平安保险(集团)股份有限公司广州分公司", uscc=USCC_PA, system="FIN"),
        person("P1", "张伟", rid=ID_A),
    ])
    assert pairs(backend, "organisations", rule) == {
        ("CORE:G1", "UW:G2"),    # head office: USCC and its organisation code
        ("CORE:G8", "UW:G9"),    # the same branch
    }


def test_a_record_that_lost_its_branch_marker_joins_its_branch_on_the_code(
        config: EngineConfig) -> None:
    rule = _rule(config.organisation.strong_rules, "same_org_code_and_branch")
    backend = features([
        organisation("G1", "深圳市腾讯计算机系统有限公司", uscc=USCC_TX),
        organisation("G2", "深圳市腾讯计算机系统有限公司深圳分公司", uscc=USCC_TX),
        organisation("G3", "深圳市腾讯计算机系统有限公司", uscc=USCC_PA),
    ])
    got = feature_rows(backend, "organisations")
    assert [got[k]["branch_state"] for k in ("CORE:G1", "CORE:G2", "CORE:G3")] == [
        "深圳分公司", "深圳分公司", HEAD_OFFICE]
    assert pairs(backend, "organisations", rule) == {("CORE:G1", "CORE:G2")}


# --- weak rules and the group limit -----------------------------------------------------


def _landline_orgs(n: int, phone: str | None = "0755-86013388", start: int = 0) -> list[Record]:
    return [organisation(f"G{start + i:03d}", f"深圳市客户{start + i:03d}号贸易有限公司",
                         phone=phone) for i in range(n)]


@pytest.mark.parametrize(("sharing", "max_group", "expected"), [
    (25, 20, 0),     # a call centre's landline says nothing
    (21, 20, 0),
    (20, 20, 190),   # at the limit: every pair, 20 * 19 / 2
    (3, 20, 3),
    (25, None, 300),
    (1, 20, 0),
])
def test_weak_rule_group_limit(config: EngineConfig, sharing: int, max_group: int | None,
                               expected: int) -> None:
    rule = _rule(config.organisation.weak_rules, "same_landline")
    backend = features(_landline_orgs(sharing))
    assert len(pairs(backend, "organisations", rule, max_group)) == expected


def test_weak_group_counts_only_records_with_the_value(config: EngineConfig) -> None:
    """Records without a landline neither pair nor swell a group past the limit."""
    rule = _rule(config.organisation.weak_rules, "same_landline")
    rows = _landline_orgs(3) + _landline_orgs(30, phone=None, start=3)
    backend = features(rows)
    assert pairs(backend, "organisations", rule, 20) == {
        ("CORE:G000", "CORE:G001"), ("CORE:G000", "CORE:G002"), ("CORE:G001", "CORE:G002")}


def test_weak_groups_are_cut_one_by_one(config: EngineConfig) -> None:
    """A group over the limit is dropped; a small group on another value still pairs."""
    rule = _rule(config.organisation.weak_rules, "same_landline")
    rows = _landline_orgs(25) + _landline_orgs(2, phone="0755-83765566", start=25)
    assert pairs(features(rows), "organisations", rule, 20) == {("CORE:G025", "CORE:G026")}


def test_same_core_same_city(config: EngineConfig) -> None:
    rule = _rule(config.organisation.weak_rules, "same_core_same_city")
    backend = features([
        organisation("G1", "深圳市华强电子有限公司", address="广东省深圳市福田区华强北路1号"),
        organisation("G2", "华强电子(深圳)有限公司", address="深圳市南山区科技园路1号"),
        organisation("G3", "华强电子有限公司", address="广东省广州市天河区体育西路1号"),
        organisation("G4", "华强电子有限公司"),
    ])
    assert pairs(backend, "organisations", rule, 20) == {("CORE:G1", "CORE:G2")}


def test_same_legal_rep_similar_core(config: EngineConfig) -> None:
    rule = _rule(config.organisation.weak_rules, "same_legal_rep_similar_core")
    backend = features([
        organisation("G1", "深圳市腾讯计算机系统有限公司", legal_rep="马化腾"),
        organisation("G2", "腾讯科技(深圳)有限公司", legal_rep="马化腾"),
        organisation("G3", "腾讯音乐娱乐科技(深圳)有限公司", legal_rep="马华腾"),  # homophone
        organisation("G4", "深圳市华强电子有限公司", legal_rep="马化腾"),
        organisation("G5", "腾讯云计算(北京)有限责任公司"),
    ])
    assert pairs(backend, "organisations", rule, 20) == {("CORE:G1", "CORE:G2")}


# --- every configured rule: NULL never pairs ---------------------------------------------


def _all_rules(config: EngineConfig) -> list[Any]:
    out = []
    for label, tcfg in (("person", config.person), ("organisation", config.organisation)):
        for tier, rules in (("strong", tcfg.strong_rules), ("weak", tcfg.weak_rules)):
            out += [pytest.param(rule, id=f"{label}-{tier}-{rule.name}") for rule in rules]
    return out


@pytest.mark.parametrize("rule", _all_rules(load_engine_config()))
@pytest.mark.parametrize("max_group", [None, 20])
def test_rule_needs_every_column_present_and_equal(rule: Rule, max_group: int | None) -> None:
    """A, B equal on every column pair; a NULL or a different value in any one column
    keeps a record out, whichever column it is."""
    backend = DuckDBBackend(threads=1, memory_limit="1GB")
    cols = ["unique_id", *rule.equal]
    backend.con.execute(f"CREATE TABLE t ({', '.join(c + ' VARCHAR' for c in cols)})")
    rows = [["A", *("值" for _ in rule.equal)], ["B", *("值" for _ in rule.equal)],
            ["N0", *(None for _ in rule.equal)], ["N1", *(None for _ in rule.equal)]]
    for i in range(len(rule.equal)):
        rows.append([f"C{i}", *(None if j == i else "值" for j in range(len(rule.equal)))])
        rows.append([f"D{i}", *("别" if j == i else "值" for j in range(len(rule.equal)))])
    backend.con.executemany(f"INSERT INTO t VALUES ({', '.join('?' for _ in cols)})", rows)
    assert pairs(backend, "t", rule, max_group) == {("A", "B")}
