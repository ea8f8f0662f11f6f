"""Steward decisions: append-only, audited, superseded on the same pair, and a
decision that contradicts a standing one (directly or through a chain of
must-links) refused when it is made, naming the decision it contradicts."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from ecif.services.base import unit_of_work
from ecif.services.decisions import make_decision, withdraw_decision
from matching.exceptions import BadInput, Conflict, NotFound
from matching.vocabulary import Judgement
from tests.services.conftest import STEWARD, STEWARD2
from tests.store.helpers import query

MUST, CANNOT = Judgement.MUST_LINK, Judgement.CANNOT_LINK


def _decide(store: Engine, judgement: str, a: str, b: str, **kw: object) -> int:
    with unit_of_work(store) as conn:
        return make_decision(conn, judgement, a, b, actor=STEWARD, **kw)  # type: ignore[arg-type]


def test_a_decision_on_the_same_pair_supersedes_the_old_one(people: Engine) -> None:
    first = _decide(people, MUST, "UW:U1", "WEB:W1", reason="电话核实")
    second = _decide(people, CANNOT, "WEB:W1", "UW:U1")  # order of the pair does not matter
    rows = query(people, "SELECT id, judgement, left_key, right_key, deleted_at, "
                         "superseded_by FROM decision ORDER BY id")
    assert rows["id"].tolist() == [first, second]
    assert rows["superseded_by"].iloc[0] == second and rows["deleted_at"].notna().iloc[0]
    assert rows["deleted_at"].isna().iloc[1]
    assert rows[["left_key", "right_key"]].iloc[1].tolist() == ["UW:U1", "WEB:W1"]
    audit = query(people, "SELECT actor, action FROM audit_log WHERE object_type = 'decision' "
                          "ORDER BY id")
    assert audit.values.tolist() == [["steward1", "decision_must_link"],
                                     ["steward1", "decision_cannot_link"]]


def test_a_must_link_chain_across_a_cannot_link_is_refused(people: Engine) -> None:
    ban = _decide(people, CANNOT, "CORE:C1", "UW:U1")
    _decide(people, MUST, "CORE:C1", "WEB:W1")
    with pytest.raises(Conflict, match=rf"decision #{ban} \(cannot_link of CORE:C1 and UW:U1"):
        _decide(people, MUST, "WEB:W1", "UW:U1")  # C1 = W1 = U1 would join C1 and U1


def test_a_cannot_link_across_a_must_link_chain_is_refused(people: Engine) -> None:
    _decide(people, MUST, "CORE:C1", "WEB:W1")
    _decide(people, MUST, "WEB:W1", "UW:U1")
    with pytest.raises(Conflict, match="must_link"):
        _decide(people, CANNOT, "CORE:C1", "UW:U1")
    # withdrawn, the chain no longer holds: the cannot-link stands
    link = int(query(people, "SELECT id FROM decision WHERE right_key = 'WEB:W1' AND "
                             "left_key = 'UW:U1'")["id"].iloc[0])
    with unit_of_work(people) as conn:
        withdraw_decision(conn, link, actor=STEWARD2, reason="核实后撤销")
    _decide(people, CANNOT, "CORE:C1", "UW:U1")


def test_bad_decisions_are_refused_with_a_reason(people: Engine) -> None:
    with pytest.raises(BadInput, match="judgement 'same'"):
        _decide(people, "same", "CORE:C1", "UW:U1")
    with pytest.raises(BadInput, match="two different"):
        _decide(people, MUST, "CORE:C1", "CORE:C1")
    with pytest.raises(NotFound, match="NOPE:1"):
        _decide(people, MUST, "CORE:C1", "NOPE:1")
    made = _decide(people, MUST, "CORE:C1", "UW:U1")
    with unit_of_work(people) as conn:
        withdraw_decision(conn, made, actor=STEWARD)
    with unit_of_work(people) as conn, pytest.raises(Conflict, match="already withdrawn"):
        withdraw_decision(conn, made, actor=STEWARD)
    with unit_of_work(people) as conn, pytest.raises(NotFound):
        withdraw_decision(conn, 99999, actor=STEWARD)
