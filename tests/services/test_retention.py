"""What ``match_pair`` keeps after a batch: the pairs behind merges, the pairs of
open tasks and of judged pairs; older rows of a pair scored again, and pairs
left apart with nothing open about them, are pruned."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, insert, text, update

from ecif.services import customers, retention
from ecif.services.base import unit_of_work
from ecif.services.decisions import withdraw_decision
from ecif.services.retention import prune_pairs
from ecif.services.tasks import add_members
from matching.vocabulary import DecisionScope, Judgement, PairDecision, TaskStatus, TaskType
from models.base import utcnow
from models.customer import Link
from models.decision import Decision
from models.task import ReviewTask
from tests.services.conftest import CONFIG, STEWARD, WANG, customer_of, night
from tests.store.helpers import batch, person, query, rid


def _pair(conn: object, run: int, left: str, right: str, decision: str) -> None:
    conn.execute(text(  # type: ignore[attr-defined]
        "INSERT INTO match_pair (run_id, left_key, right_key, customer_type, "
        "match_probability, match_weight, decision) VALUES (:r, :a, :b, 'P', 0.9, 3.0, :d)"),
        {"r": run, "a": left, "b": right, "d": decision})


def test_prune_keeps_what_the_pages_and_audits_need(people: Engine) -> None:
    with unit_of_work(people) as conn:
        conn.execute(text("DELETE FROM match_pair"))
        _pair(conn, 1, "CLAIM:K1", "CORE:C1", PairDecision.AUTO)   # one customer: kept
        _pair(conn, 1, "UW:U1", "WEB:W1", PairDecision.SUSPECT)    # apart, no task: pruned
        _pair(conn, 1, "CORE:C1", "UW:U1", PairDecision.SUSPECT)   # judged: kept
        _pair(conn, 2, "CLAIM:K1", "CORE:C1", PairDecision.AUTO)   # the newer row: kept
        conn.execute(text(
            "INSERT INTO decision (judgement, scope, left_key, right_key, created_by, "
            "created_at) VALUES ('cannot_link', 'record', 'CORE:C1', 'UW:U1', 's', "
            "CURRENT_TIMESTAMP)"))
        assert prune_pairs(conn) == 2
    kept = query(people, "SELECT run_id, left_key, right_key FROM match_pair ORDER BY id")
    assert kept.values.tolist() == [[1, "CORE:C1", "UW:U1"], [2, "CLAIM:K1", "CORE:C1"]]


def test_pairs_of_an_open_task_are_kept(orgs: Engine) -> None:
    before = query(orgs, "SELECT count(*) AS n FROM match_pair")["n"].iloc[0]
    with unit_of_work(orgs) as conn:
        _pair(conn, 9, "CORE:G1", "UW:G2", PairDecision.SUSPECT)  # both in the open task
        assert prune_pairs(conn) == 0
    assert query(orgs, "SELECT count(*) AS n FROM match_pair")["n"].iloc[0] == before + 1


def test_a_run_prunes_the_older_rows_of_the_pairs_it_wrote(people: Engine) -> None:
    """The batch's prune (``run_id``) looks for older rows behind its own pairs only:
    a pair scored again by this run, one written twice by it (a rule pair also
    scored) keep their newest row; a pair this run did not write is not looked at
    (every earlier run pruned its own)."""
    with unit_of_work(people) as conn:
        conn.execute(text("DELETE FROM match_pair"))
        _pair(conn, 1, "CLAIM:K1", "CORE:C1", PairDecision.AUTO)   # scored again in 3: pruned
        _pair(conn, 2, "CLAIM:K1", "CORE:C1", PairDecision.AUTO)   # scored again in 3: pruned
        _pair(conn, 2, "CORE:C1", "UW:U1", PairDecision.AUTO)      # as run 2 left it:
        _pair(conn, 2, "CORE:C1", "UW:U1", PairDecision.AUTO)      # not looked at
        _pair(conn, 3, "CLAIM:K1", "CORE:C1", PairDecision.RULE)   # run 3 wrote it twice:
        _pair(conn, 3, "CLAIM:K1", "CORE:C1", PairDecision.AUTO)   # the newest stays
        conn.execute(text("UPDATE link SET customer_no = (SELECT customer_no FROM link l "
                          "JOIN source_record s ON s.id = l.record_id "
                          "WHERE s.record_key = 'CLAIM:K1') WHERE record_id IN "
                          "(SELECT id FROM source_record WHERE record_key IN "
                          "('CORE:C1', 'UW:U1'))"))  # one customer: nothing is apart
        assert prune_pairs(conn, 3) == 3
        kept = [tuple(r) for r in conn.execute(text(
            "SELECT run_id, right_key, decision FROM match_pair ORDER BY id")).all()]
        assert kept == [(2, "UW:U1", PairDecision.AUTO), (2, "UW:U1", PairDecision.AUTO),
                        (3, "CORE:C1", PairDecision.AUTO)]
        assert prune_pairs(conn) == 1  # the whole table: run 2's twin too


def _apart_scene(conn: Connection) -> tuple[int, int]:
    """No pairs, no open task, no live decision; every link as run 1 wrote it, long ago.
    Return the record ids of UW:U1 and WEB:W1 (two customers)."""
    conn.execute(text("DELETE FROM match_pair"))
    conn.execute(update(ReviewTask).where(ReviewTask.status == TaskStatus.OPEN)
                 .values(status=TaskStatus.CLOSED, closed_at=_LONG_AGO))
    conn.execute(update(Decision).where(Decision.deleted_at.is_(None))
                 .values(deleted_at=_LONG_AGO))
    conn.execute(update(Link).values(run_id=1, since=_LONG_AGO))
    ids = dict(conn.execute(text("SELECT s.record_key, l.customer_no FROM source_record s "
                                 "JOIN link l ON l.record_id = s.id")).all())
    assert ids["UW:U1"] != ids["WEB:W1"]
    got = dict(conn.execute(text("SELECT record_key, id FROM source_record")).all())
    return int(got["UW:U1"]), int(got["WEB:W1"])


_LONG_AGO = datetime(2000, 1, 1)


@pytest.mark.parametrize("touch", ["none", "this_run", "moved_by_steward",
                                   "moved_by_steward_long_ago", "task_closed",
                                   "decision_withdrawn"])
def test_a_run_looks_at_pairs_touched_since_the_previous_prune(people: Engine,
                                                               touch: str) -> None:
    """Run 3's prune, run 1 the last finished one: a pair left apart is looked at when
    run 3 wrote it or one of its records changed since run 1 started (moved by a
    steward or the API, in a task now closed, named by a withdrawn decision). A pair
    nothing touched was kept by the previous prune and is not looked at again: only
    the whole-table prune finds the one this scene left behind."""
    with unit_of_work(people) as conn:
        u1, _w1 = _apart_scene(conn)
        _pair(conn, 3 if touch == "this_run" else 1, "UW:U1", "WEB:W1", PairDecision.SUSPECT)
        if touch.startswith("moved_by_steward"):
            when = _LONG_AGO if touch.endswith("long_ago") else utcnow()
            conn.execute(update(Link).where(Link.record_id == u1).values(run_id=None,
                                                                          since=when))
        elif touch == "task_closed":
            task = conn.execute(insert(ReviewTask).values(
                task_type=TaskType.PERSON_SUSPECT, status=TaskStatus.CLOSED,
                customer_type="P", created_at=_LONG_AGO, updated_at=utcnow(),
                closed_at=utcnow()).returning(ReviewTask.id)).scalar_one()
            add_members(conn, [(int(task), u1, "C0000000001")])
        elif touch == "decision_withdrawn":
            conn.execute(insert(Decision).values(
                judgement=Judgement.CANNOT_LINK, scope=DecisionScope.RECORD,
                left_key="UW:U1", right_key="WEB:W1", created_by="s", created_at=_LONG_AGO,
                deleted_at=utcnow(), deleted_by="s"))
        looked_at = touch not in ("none", "moved_by_steward_long_ago")
        assert prune_pairs(conn, 3) == (1 if looked_at else 0)
        assert prune_pairs(conn) == (0 if looked_at else 1)


def test_after_each_night_nothing_is_left_for_the_whole_table_prune(
        people: Engine, tmp_path: Path, sample_models: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The oracle for the scoped prune: after every batch, through a steward's split,
    a withdrawn decision and new records, the whole-table prune finds nothing more."""
    monkeypatch.setattr(retention, "SINCE_MARGIN", timedelta(0))

    def whole_table_finds() -> int:
        with people.connect() as conn:
            found = prune_pairs(conn)
            conn.rollback()
        return found

    assert whole_table_finds() == 0
    batch(people, sample_models)  # nothing new
    assert whole_table_finds() == 0
    of = customer_of(people)
    assert of("CLAIM:K1") == of("CORE:C1")
    # the claims system's K1 becomes another person (an identity change: detached and
    # matched afresh, its run-1 pair with C1 not scored again), 王芳's records are bridged
    night(people, tmp_path, "n2", [
        person("CLAIM", "K1", "李娜", rid("44030119700101002"),
               updated="2026-11-20T10:00:00+08:00"),
        person("TELE", "T1", "王芳", WANG, mobile="13911112222")])
    batch(people, sample_models)
    assert of("CLAIM:K1") != of("CORE:C1")
    assert whole_table_finds() == 0
    # a steward merges the two back, then withdraws the merge's decisions
    with unit_of_work(people) as conn:
        merged = customers.merge(conn, [of("CORE:C1"), of("CLAIM:K1")], actor=STEWARD,
                                 config_dir=CONFIG)
    batch(people, sample_models)
    assert whole_table_finds() == 0
    with unit_of_work(people) as conn:
        for decision_id in merged.decisions:
            withdraw_decision(conn, decision_id, actor=STEWARD)
    batch(people, sample_models)
    assert whole_table_finds() == 0
    assert query(people, "SELECT count(*) AS n FROM match_pair")["n"].iloc[0] > 0
