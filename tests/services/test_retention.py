"""What ``match_pair`` keeps after a batch: the pairs behind merges, the pairs of
open tasks and of judged pairs; older rows of a pair scored again, and pairs
left apart with nothing open about them, are pruned."""

from __future__ import annotations

from sqlalchemy import Engine, text

from ecif.services.base import unit_of_work
from ecif.services.retention import prune_pairs
from matching.vocabulary import PairDecision
from tests.store.helpers import query


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
