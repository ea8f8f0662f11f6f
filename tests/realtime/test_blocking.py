"""Which candidate rules pair two records (matching.realtime.blocking.rule_holds),
on hand-made records: a rule holds when all its columns are equal and none is
null on either side."""

from __future__ import annotations

from matching.realtime.blocking import block_keys, candidate_rules, rule_holds
from matching.realtime.features import record_features

_RULES = candidate_rules("P")
NAME_YEAR = _RULES.index(("name_plain", "birth_year"))
MOBILE = _RULES.index(("mobile",))
ID = _RULES.index(("id_cleaned",))

ASKED = {"name_plain": "张伟", "birth_year": "1985", "mobile": "13912345678",
         "id_cleaned": None}


def test_a_rule_holds_when_all_its_columns_are_equal() -> None:
    holds = rule_holds(ASKED, "P", [NAME_YEAR])
    assert holds({"name_plain": "张伟", "birth_year": "1985", "mobile": None})
    assert not holds({"name_plain": "张伟", "birth_year": "1986"})  # one column differs
    assert not holds({"name_plain": "张玮", "birth_year": "1985"})
    assert not holds({"name_plain": "张伟"})  # a column missing on the candidate


def test_any_of_the_rules_will_do_and_only_those_asked() -> None:
    holds = rule_holds(ASKED, "P", [NAME_YEAR, MOBILE])
    assert holds({"name_plain": "李娜", "birth_year": "1990", "mobile": "13912345678"})
    only_name = rule_holds(ASKED, "P", [NAME_YEAR])
    assert not only_name({"name_plain": "李娜", "birth_year": "1990",
                          "mobile": "13912345678"})


def test_a_null_never_pairs() -> None:
    # the asked record has no ID: two records without one share no ID rule
    holds = rule_holds(ASKED, "P", [ID])
    assert not holds({"id_cleaned": None})
    assert not holds({"name_plain": "张伟", "birth_year": "1985"})
    assert not rule_holds({"id_cleaned": None}, "P", [NAME_YEAR])(
        {"name_plain": None, "birth_year": None})


def test_the_blocking_keys_do_not_depend_on_the_stores_branches() -> None:
    """A registration's advisory locks are its blocking keys, worked out before its
    transaction from the record alone: no candidate rule may read ``branch_state``,
    the one match column the store's other branches decide."""
    org = {"customer_type": "G", "source_system": "CRM", "source_customer_id": "G1",
           "name": "上海浦东发展银行股份有限公司", "org_core": "浦东发展", "city": "上海市",
           "id_type": "USCC", "id_cleaned": "91310000132209451X", "org_code": "132209451",
           "org_branch": None, "phone": "02161618888", "legal_rep": "郑杨",
           "name_pinyin": "pudongfazhan"}
    alone = block_keys(record_features(org), "G")
    assert len(alone) >= 4  # code, core, pinyin, landline, legal rep + city, prefix + city
    for branches in (("上海分行", "北京分行"), ("上海分行", "上海分行"), (None, None)):
        with_store = record_features(org, branches)
        assert with_store["branch_state"] != record_features(org)["branch_state"] \
            or branches == (None, None)
        assert block_keys(with_store, "G") == alone
    for ctype in ("P", "G"):
        assert all("branch_state" not in cols for cols in candidate_rules(ctype))
