"""Stage 5: open or refresh review tasks, close the ones merges have answered.

A planned suspect group becomes a task only if its records still belong to
two or more customers. It refreshes (adds members to) an open task that
already asks about one of its customers instead of opening a duplicate. An
open task whose records now all belong to one customer is closed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection, update

from ecif.batch.context import BatchContext, fault_point
from ecif.bulk import insert_rows, read_frame, table_of
from models.base import utcnow
from models.task import CLOSED, OPEN, ReviewTask, TaskMember

__all__ = ["tasks_stage", "close_answered_tasks"]


def tasks_stage(ctx: BatchContext) -> dict[str, Any]:
    fault_point("tasks", "start")
    with ctx.engine.begin() as conn:
        planned = read_frame(conn, (
            "SELECT p.group_key, p.record_id, p.task_type, l.customer_no, s.customer_type "
            "FROM planned_task p JOIN link l ON l.record_id = p.record_id "
            "JOIN source_record s ON s.id = p.record_id WHERE p.run_id = :r "
            "ORDER BY p.group_key, p.record_id"), {"r": ctx.run_id})
        opened, refreshed = _open_or_refresh(conn, planned, ctx.run_id)
        closed = close_answered_tasks(conn, ctx.run_id, f"batch run {ctx.run_id}")
        counts = {"opened": opened, "refreshed": refreshed, "closed": closed}
        ctx.complete(conn, "tasks", counts)
    return counts


def _open_members(conn: Connection) -> pd.DataFrame:
    return read_frame(conn, (
        "SELECT m.task_id, m.record_id, l.customer_no FROM task_member m "
        "JOIN review_task t ON t.id = m.task_id JOIN link l ON l.record_id = m.record_id "
        f"WHERE t.status = '{OPEN}'"))


def _open_or_refresh(conn: Connection, planned: pd.DataFrame, run_id: int) -> tuple[int, int]:
    if planned.empty:
        return 0, 0
    members = _open_members(conn)
    task_of: dict[str, int] = {}
    for task_id, no in zip(members["task_id"], members["customer_no"], strict=True):
        task_of.setdefault(str(no), int(task_id))
    have = set(zip(members["task_id"].astype(int), members["record_id"].astype(int),
                   strict=True))
    now = utcnow()
    opened = refreshed = 0
    for _, group in planned.groupby("group_key", sort=True):
        customers = sorted(set(group["customer_no"]))
        kind = str(group["task_type"].iloc[0])
        if len(customers) < 2 and kind != "identity_change":
            continue  # already one customer: nothing to ask
        existing = sorted({task_of[c] for c in customers if c in task_of})
        if existing:
            task_id = existing[0]
            conn.execute(update(ReviewTask).where(ReviewTask.id == task_id)
                         .values(updated_run=run_id, updated_at=now))
            refreshed += 1
        else:
            inserted = conn.execute(table_of(ReviewTask).insert().values(
                task_type=kind, status=OPEN, customer_type=str(group["customer_type"].iloc[0]),
                created_run=run_id, updated_run=run_id, created_at=now, updated_at=now))
            key = inserted.inserted_primary_key
            assert key is not None
            task_id = int(key[0])
            opened += 1
        fresh = [(int(r), str(c)) for r, c in zip(group["record_id"], group["customer_no"],
                                                  strict=True) if (task_id, int(r)) not in have]
        insert_rows(conn, table_of(TaskMember), [
            {"task_id": task_id, "record_id": r, "customer_no": c} for r, c in fresh])
        have.update((task_id, r) for r, _ in fresh)
        for c in customers:
            task_of.setdefault(c, task_id)
    return opened, refreshed


def close_answered_tasks(conn: Connection, run_id: int | None, by: str) -> int:
    """Close open suspect tasks whose records all belong to one customer now."""
    members = _open_members(conn)
    if members.empty:
        return 0
    kinds = read_frame(conn, f"SELECT id AS task_id, task_type FROM review_task "
                             f"WHERE status = '{OPEN}'")
    spread = members.groupby("task_id")["customer_no"].nunique()
    identity = set(kinds.loc[kinds["task_type"].eq("identity_change"), "task_id"])
    answered = [int(t) for t in spread[spread < 2].index if t not in identity]
    if answered:
        conn.execute(update(ReviewTask).where(ReviewTask.id.in_(answered)).values(
            status=CLOSED, closed_at=utcnow(), closed_by=by,
            close_reason="records merged into one customer"))
    return len(answered)
