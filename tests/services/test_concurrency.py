"""Two stewards deciding one task at the same moment: one succeeds, the other is
told, nothing is half-applied (each in its own thread and connection)."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine

from ecif.invariants import check_invariants
from ecif.services import approvals, tasks
from ecif.services.base import unit_of_work
from matching.exceptions import Conflict
from matching.vocabulary import Judgement, StewardAction
from tests.services.conftest import CONFIG, NO_APPROVAL, STEWARD, STEWARD2, open_task
from tests.store.helpers import query


def test_two_stewards_one_task(orgs: Engine) -> None:
    task = open_task(orgs)
    with orgs.connect() as conn:
        seen = tasks.task_fingerprint(conn, task)
    start = threading.Barrier(2)
    outcome: dict[str, Any] = {}

    def decide(actor: Any, action: str) -> None:
        start.wait()
        try:
            with unit_of_work(orgs) as conn:
                approvals.submit(conn, action, {"task_id": task}, actor=actor,
                                 policy=NO_APPROVAL, config_dir=CONFIG, seen=seen)
            outcome[actor.name] = "done"
        except Conflict as exc:
            outcome[actor.name] = exc

    threads = [threading.Thread(target=decide, args=(STEWARD, StewardAction.MERGE)),
               threading.Thread(target=decide, args=(STEWARD2, StewardAction.NOT_DUPLICATE))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    results = sorted(outcome.values(), key=lambda r: r != "done")
    assert results[0] == "done" and isinstance(results[1], Conflict), outcome
    winner = next(name for name, r in outcome.items() if r == "done")
    merged = query(orgs, "SELECT count(DISTINCT customer_no) AS n FROM link")["n"].iloc[0]
    decisions = query(orgs, "SELECT judgement FROM decision")["judgement"].tolist()
    if winner == STEWARD.name:  # the merge won: one customer, must-links only
        assert merged == 1 and set(decisions) == {Judgement.MUST_LINK}
    else:  # not-duplicate won: two customers, cannot-links only, nothing merged
        assert merged == 2 and set(decisions) == {Judgement.CANNOT_LINK}
    assert query(orgs, "SELECT count(*) AS n FROM merge_event")["n"].iloc[0] == (
        1 if winner == STEWARD.name else 0)
    with orgs.connect() as conn:
        assert check_invariants(conn) == []
