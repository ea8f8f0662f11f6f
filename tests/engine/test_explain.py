"""The "why" of a pair: the waterfall adds up to the stored total, the prior is
what the comparisons leave; rules hold only on present, equal columns."""

from __future__ import annotations

import math

import pytest

from matching.engine.config import Rule
from matching.engine.explain import probability_of_weight, rules_holding, waterfall


def test_waterfall_runs_from_the_prior_to_the_total() -> None:
    steps = waterfall({"name": 4.5, "id": 9.0, "mobile": -2.25}, 6.0)
    assert [s.label for s in steps] == ["prior", "name", "id", "mobile", "total"]
    assert steps[0].weight == pytest.approx(6.0 - 11.25)
    assert steps[-2].end == pytest.approx(6.0) and steps[-1].end == 6.0
    for before, after in zip(steps[1:-2], steps[2:-1], strict=True):
        assert after.start == pytest.approx(before.end)
    assert waterfall(None, 3.0) == [] and waterfall({"name": 1.0}, None) == []
    assert probability_of_weight(0.0) == 0.5
    assert math.isclose(probability_of_weight(math.log2(99)), 0.99)


def test_rules_hold_on_present_equal_columns() -> None:
    rules = (Rule("same_landline", ("phone",)), Rule("same_core_same_city", ("org_core", "city")),
             Rule("same_legal_rep_similar_core", ("legal_rep", "core_prefix")))
    a = {"phone": "021-55551234", "org_core": "远航贸易", "city": "上海市", "legal_rep": "李明"}
    b = {"phone": "021-55551234", "org_core": "远航物流", "city": "上海市", "legal_rep": "李明"}
    assert rules_holding(a, b, rules) == ["same_landline", "same_legal_rep_similar_core"]
    assert rules_holding({**a, "phone": None}, {**b, "phone": None}, rules) == [
        "same_legal_rep_similar_core"]  # both unknown is not equal
    person = (Rule("same_resident_id_and_name", ("resident_id", "name_plain")),)
    p = {"id_type": "RESIDENT_ID", "id_number": "110101199003070011", "name_plain": "张伟"}
    assert rules_holding(p, dict(p), person) == ["same_resident_id_and_name"]
    assert rules_holding(p, {**p, "id_type": "PASSPORT"}, person) == []
