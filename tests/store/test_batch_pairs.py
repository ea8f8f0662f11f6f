"""The match stage writes only the scored pairs the run's prune keeps (a pair that
ends apart with no task and no decision about it is not written at all): the pairs
a store holds after each night are exactly those of a batch that writes every pair
and lets the prune delete what it does not keep (the oracle: the same batch with
the match stage's filter switched off), through two nights of the sample, a
steward's judgement and a withdrawn one in between."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from ecif.batch import match_stage
from ecif.ingest import ingest_files
from ecif.services.base import Actor, unit_of_work
from ecif.services.decisions import withdraw_decision
from ecif.services.tasks import close_task
from matching.vocabulary import Judgement, Role
from models.db import init_db, make_engine
from tests.store.helpers import batch, decide, query

NIGHTS = Path(__file__).parents[2] / "data" / "sample" / "nights"
_PAIRS = ("SELECT run_id, left_key, right_key, customer_type, match_probability, "
          "match_weight, decision, rule, model_version, explanation FROM match_pair")


def _store(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    return engine


def _pairs(engine: Engine) -> pd.DataFrame:
    frame = query(engine, _PAIRS).astype(str)
    return frame.sort_values(list(frame.columns), ignore_index=True)


def _an_open_task_pair(engine: Engine) -> tuple[int, str, str]:
    """An open task and two records of different customers in it (its question)."""
    got = query(engine, "SELECT s.record_key, l.customer_no, m.task_id FROM task_member m "
                        "JOIN review_task t ON t.id = m.task_id "
                        "JOIN source_record s ON s.id = m.record_id "
                        "JOIN link l ON l.record_id = s.id WHERE t.status = 'open' "
                        "ORDER BY m.task_id, s.record_key")
    for task_id, group in got.groupby("task_id", sort=True):
        firsts = group.drop_duplicates("customer_no")["record_key"].tolist()
        if len(firsts) >= 2:
            return int(str(task_id)), firsts[0], firsts[1]
    raise AssertionError("the sample's first night opened no task between two customers")


def test_the_pairs_written_are_those_the_prune_keeps(tmp_path: Path, sample_models: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    filtered, oracle = _store(tmp_path / "filtered.db"), _store(tmp_path / "oracle.db")

    def night(engine: Engine, day: str, *, write_all: bool) -> None:
        ingest_files(engine, [NIGHTS / f"{day}.csv"], workers=1)
        with monkeypatch.context() as m:
            if write_all:  # every pair written; the prune deletes what it does not keep
                m.setattr(match_stage._Kept, "apart_kept",
                          lambda self, left, right: [True] * len(left))
                m.setattr(match_stage, "_last_rows", lambda parts: parts)
            batch(engine, sample_models)

    for engine, write_all in ((filtered, False), (oracle, True)):
        night(engine, "day_001", write_all=write_all)
    assert len(_pairs(filtered)) > 1000
    pd.testing.assert_frame_equal(_pairs(filtered), _pairs(oracle))
    pruned = [json.loads(query(e, "SELECT counts FROM batch_run")["counts"].iloc[0])[
        "changes.pairs_pruned"] for e in (filtered, oracle)]
    assert pruned[0] < pruned[1] / 2  # the pairs left apart were never written

    # a steward answers an open task "not the same" and closes it (only the decision
    # keeps its pair now), and withdraws an earlier judgement on another pair; night 2
    task_id, left, right = _an_open_task_pair(filtered)
    steward = Actor("steward1", Role.STEWARD)
    for engine, write_all in ((filtered, False), (oracle, True)):
        with unit_of_work(engine) as conn:
            decide(conn, Judgement.CANNOT_LINK, left, right)
            close_task(conn, task_id, steward, "不是同一客户")
            other = decide(conn, Judgement.MUST_LINK, *sorted(
                conn.execute(text("SELECT record_key FROM source_record ORDER BY record_key "
                                  "LIMIT 2")).scalars()))
            withdraw_decision(conn, other, actor=steward)
        night(engine, "day_002", write_all=write_all)
    pd.testing.assert_frame_equal(_pairs(filtered), _pairs(oracle))
    for engine in (filtered, oracle):
        engine.dispose()
