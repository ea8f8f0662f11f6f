"""Stage 5: open or refresh review tasks, close the ones merges have answered.

A planned suspect group becomes a task only if its records still belong to
two or more customers. It refreshes (adds members to) an open task that
already asks about one of its customers instead of opening a duplicate. An
open task whose records now all belong to one customer is closed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import aliased

from ecif.batch.context import BatchContext, fault_point
from ecif.bulk import insert_rows, read_frame, table_of, update_rows
from ecif.services.base import BATCH
from ecif.services.tasks import add_members, close_answered_tasks
from matching.vocabulary import BatchStage, TaskStatus, TaskType
from models.base import utcnow
from models.batch import MatchPair
from models.customer import Link
from models.source_record import SourceRecord
from models.task import ReviewTask, TaskMember

__all__ = ["tasks_stage"]

_other_src = aliased(SourceRecord)
_other_member = aliased(TaskMember)
_other_link = aliased(Link)


def tasks_stage(ctx: BatchContext) -> dict[str, Any]:
    fault_point(BatchStage.TASKS, "start")
    with ctx.engine.begin() as conn:
        planned = read_frame(conn, (
            "SELECT p.group_key, p.record_id, p.task_type, l.customer_no, s.customer_type "
            "FROM planned_task p JOIN link l ON l.record_id = p.record_id "
            "JOIN source_record s ON s.id = p.record_id WHERE p.run_id = :r "
            "ORDER BY p.group_key, p.record_id"), {"r": ctx.run_id})
        opened, refreshed = _open_or_refresh(conn, planned, ctx.run_id)
        closed = close_answered_tasks(conn, ctx.run_id, BATCH)
        counts = {"opened": opened, "refreshed": refreshed, "closed": closed}
        ctx.complete(conn, BatchStage.TASKS, counts)
    return counts


def _open_members(conn: Connection) -> pd.DataFrame:
    return read_frame(conn, select(TaskMember.task_id, TaskMember.record_id, Link.customer_no)
                      .join(ReviewTask, ReviewTask.id == TaskMember.task_id)
                      .join(Link, Link.record_id == TaskMember.record_id)
                      .where(ReviewTask.status == TaskStatus.OPEN,
                             # a QA task asks about one sampled pair: never refreshed
                             ReviewTask.task_type != TaskType.QA_SAMPLE))


def _open_or_refresh(conn: Connection, planned: pd.DataFrame, run_id: int) -> tuple[int, int]:
    if planned.empty:
        return 0, 0
    members = _open_members(conn)
    task_of: dict[str, int] = {}
    for task_id, no in zip(members["task_id"], members["customer_no"], strict=True):
        task_of.setdefault(str(no), int(task_id))
    have = set(zip(members["task_id"].astype(int), members["record_id"].astype(int),
                   strict=True))
    next_id = int(conn.execute(select(func.coalesce(func.max(ReviewTask.id), 0))).scalar_one())
    now = utcnow()
    new_tasks: list[dict[str, Any]] = []
    new_members: list[tuple[int, int, str]] = []
    refreshed: set[int] = set()
    groups = planned.groupby("group_key", sort=True)
    for (kind, ctype), records, customers in zip(
            groups[["task_type", "customer_type"]].first().itertuples(index=False, name=None),
            groups["record_id"].agg(list), groups["customer_no"].agg(list), strict=True):
        distinct = sorted(set(customers))
        if len(distinct) < 2 and kind != TaskType.IDENTITY_CHANGE:
            continue  # already one customer: nothing to ask
        existing = sorted({task_of[c] for c in distinct if c in task_of})
        if existing:
            task_id = existing[0]
            refreshed.add(task_id)
        else:
            next_id += 1
            task_id = next_id
            new_tasks.append({"id": task_id, "task_type": kind, "status": TaskStatus.OPEN,
                              "customer_type": ctype, "created_run": run_id,
                              "updated_run": run_id, "created_at": now, "updated_at": now})
        for record, customer in zip(records, customers, strict=True):
            if (task_id, int(record)) not in have:
                have.add((task_id, int(record)))
                new_members.append((task_id, int(record), str(customer)))
        for c in distinct:
            task_of.setdefault(c, task_id)
    insert_rows(conn, table_of(ReviewTask), new_tasks)
    if new_tasks and conn.dialect.name == "postgresql":  # explicit ids: move the sequence on
        conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('review_task', 'id'), "
                             "(SELECT max(id) FROM review_task))")
    add_members(conn, new_members)
    if refreshed:
        conn.execute(update(ReviewTask).where(ReviewTask.id.in_(sorted(refreshed)))
                     .values(updated_run=run_id, updated_at=now))
    _set_max_score(conn, run_id)
    return len(new_tasks), len(refreshed)


def _set_max_score(conn: Connection, run_id: int) -> None:
    """The score of the tasks this run opened or refreshed (the queue sorts on it):
    the highest match probability of a kept scored pair between two of a task's
    records of different customers (the question asked); NULL for a group only weak
    rules made (no pair of it was scored)."""
    scores = read_frame(conn, select(
        TaskMember.task_id.label("_key"),
        func.max(MatchPair.match_probability).label("max_score"))
        .select_from(TaskMember)
        .join(ReviewTask, ReviewTask.id == TaskMember.task_id)
        .join(SourceRecord, SourceRecord.id == TaskMember.record_id)
        .join(MatchPair, MatchPair.left_key == SourceRecord.record_key)
        .join(_other_src, _other_src.record_key == MatchPair.right_key)
        .join(_other_member, (_other_member.record_id == _other_src.id)
              & (_other_member.task_id == TaskMember.task_id))
        .join(Link, Link.record_id == SourceRecord.id)
        .join(_other_link, _other_link.record_id == _other_src.id)
        .where(Link.customer_no != _other_link.customer_no,
               ReviewTask.updated_run == run_id, ReviewTask.status == TaskStatus.OPEN,
               MatchPair.match_probability.is_not(None))
        .group_by(TaskMember.task_id))
    if not scores.empty:
        update_rows(conn, table_of(ReviewTask), "id", scores.astype({"max_score": float}))
