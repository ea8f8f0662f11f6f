"""Which candidate rules pair two records (matching.realtime.blocking.rule_holds),
on hand-made records: a rule holds when all its columns are equal and none is
null on either side."""

from __future__ import annotations

from matching.realtime.blocking import candidate_rules, rule_holds

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
