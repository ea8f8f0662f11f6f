"""Merge events of a plan, computed in one pass (ecif.services.clusters.event_rows,
grouped by sorting), are exactly those of the per-event search they replaced (kept
here as the oracle, with pandas' groups):
the same rows, in the same order, with the same key order in before/after, and the
same moved records."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ecif.services.clusters import EventInfo, event_rows
from matching.vocabulary import EventType


def membership(frame: pd.DataFrame, key: str) -> dict[str, list[str]]:
    """The oracle's grouping: a pandas group per key."""
    return {str(no): sorted(group["record_key"]) for no, group in frame.groupby(key)}


def _oracle(plan: pd.DataFrame, fresh: set[str], run_id: int | None, now: Any,
            info: EventInfo) -> tuple[list[dict[str, Any]], pd.DataFrame, list[int]]:
    priors_all = plan["prior_no"].dropna()
    involved = set(plan.loc[priors_all.index, "customer_no"]) | set(priors_all)
    plan = plan[plan["customer_no"].isin(involved) | plan["prior_no"].isin(involved)]
    rows, moves = [], []
    for no, group in plan.groupby("customer_no", sort=True):
        priors = sorted(set(group["prior_no"].dropna()))
        if len(priors) >= 2 or (priors and priors != [no] and no not in fresh):
            kind = info.event_type or EventType.MERGE
        elif priors and no in fresh:
            kind = info.event_type or EventType.SPLIT
        else:
            continue
        before_rows = plan[plan["prior_no"].isin(priors)]
        after_rows = plan[plan["customer_no"].isin({no, *priors})]
        joined = group[group["prior_no"].ne(group["customer_no"]) | group["prior_no"].isna()]
        rules = sorted(set(joined["rule"].dropna()))
        versions = sorted(set(joined["model_version"].dropna()))
        rows.append({
            "event_type": str(kind), "customer_no": str(no), "run_id": run_id,
            "before": membership(before_rows, "prior_no"),
            "after": membership(after_rows, "customer_no"),
            "rule": ";".join(rules) or None, "model_version": ";".join(versions) or None,
            "created_by": info.created_by, "approved_by": info.approved_by,
            "reason": info.reason, "task_id": info.task_id, "created_at": now})
        moves.append(joined[["record_id", "prior_no", "customer_no"]])
    moved = (pd.concat(moves, ignore_index=True) if moves
             else pd.DataFrame(columns=["record_id", "prior_no", "customer_no"]))
    return rows, moved, [len(m) for m in moves]


def _plan(rng: np.random.Generator, n: int, customers: int) -> tuple[pd.DataFrame, set[str]]:
    old = [f"C{i:010d}" for i in range(1, customers + 1)]
    new = [f"C{i:010d}" for i in range(customers + 1, customers + 1 + customers // 3)]
    prior = np.where(rng.random(n) < 0.3, None, rng.choice(old, n)).astype(object)
    # most records stay where they were; some move to another or a new number
    stay = rng.random(n) < 0.6
    target = rng.choice(old + new, n).astype(object)
    customer = np.where(stay & pd.notna(prior), prior, target).astype(object)
    rule = np.where(rng.random(n) < 0.5, None, rng.choice(["r1", "r2", "r3"], n))
    version = np.where(rng.random(n) < 0.5, None, rng.choice(["v1", "v2"], n))
    plan = pd.DataFrame({
        "record_id": rng.permutation(n) + 1,
        "record_key": [f"S:{i:05d}" for i in rng.permutation(n)],
        "prior_no": prior, "customer_no": customer,
        "rule": rule.astype(object), "model_version": version.astype(object)})
    return plan, set(new)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("event_type", [None, EventType.ROLLBACK])
def test_one_pass_equals_the_per_event_search(seed: int, event_type: str | None) -> None:
    rng = np.random.default_rng(seed)
    plan, fresh = _plan(rng, int(rng.integers(1, 400)), int(rng.integers(1, 60)))
    info = EventInfo("batch", event_type=event_type, reason="why")
    got = event_rows(plan, fresh, 7, "now", info)
    want = _oracle(plan, fresh, 7, "now", info)
    assert json.dumps(got[0]) == json.dumps(want[0])  # key order in before/after too
    assert got[2] == want[2]
    pd.testing.assert_frame_equal(got[1].reset_index(drop=True).astype(object),
                                  want[1].reset_index(drop=True).astype(object))
    if seed == 0:
        assert len(want[0]) > 3 and {r["event_type"] for r in want[0]} >= (
            {EventType.MERGE, EventType.SPLIT} if event_type is None else {event_type})


def test_a_plan_with_no_earlier_customer_makes_no_event() -> None:
    plan = pd.DataFrame({"record_id": [1, 2], "record_key": ["A:1", "A:2"],
                         "prior_no": [None, None], "customer_no": ["C1", "C1"],
                         "rule": [None, "r"], "model_version": [None, None]})
    rows, moves, sizes = event_rows(plan, {"C1"}, None, "now", EventInfo("batch"))
    assert rows == [] and moves.empty and sizes == []
