"""Review tasks' life cycle (疑似客户复核): opened and refreshed by the batch; claimed
(with an expiry, so nothing stays stuck), released, commented on and closed by
stewards; closed by the store when its records all belong to one customer.

A task's *fingerprint* is a hash of its members and their customers: a page
carries the fingerprint it was drawn with, and a decision on a task whose
fingerprint changed since (a batch ran, another steward acted) is refused
with a :class:`Conflict` instead of being half-applied.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, or_, select, update

from ecif.bulk import in_batches, insert_rows, read_frame, table_of
from ecif.services.audit import audit
from ecif.services.base import WRITERS, Actor, require_role
from ecif.services.policy import ReviewPolicy
from matching.exceptions import BadInput, Conflict, Forbidden, NotFound
from matching.vocabulary import RequestStatus, Role, TaskStatus, TaskType
from models.base import utcnow
from models.customer import Link
from models.source_record import SourceRecord
from models.task import ChangeRequest, ReviewTask, TaskComment, TaskMember

__all__ = ["refuse_held_by_other", "close_answered_tasks", "task_fingerprint", "claim",
           "release", "next_task",
           "comment", "close_task", "require_task", "task_customers", "require_fresh",
           "add_members", "mark_unsure"]

_MAX_COMMENT = 4000


def require_task(conn: Connection, task_id: int, *, lock: bool = False) -> Any:
    """The task row (locked for the transaction on PostgreSQL with ``lock``)."""
    query = select(ReviewTask).where(ReviewTask.id == task_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"review task {task_id}: no such task")
    return row


def task_customers(conn: Connection, task_id: int) -> pd.DataFrame:
    """The task's records with their current customers: record_id, record_key,
    customer_no."""
    return read_frame(conn, select(TaskMember.record_id, SourceRecord.record_key,
                                   Link.customer_no)
                      .join(SourceRecord, SourceRecord.id == TaskMember.record_id)
                      .join(Link, Link.record_id == TaskMember.record_id)
                      .where(TaskMember.task_id == task_id)
                      .order_by(SourceRecord.record_key))


def task_fingerprint(conn: Connection, task_id: int) -> str:
    task = require_task(conn, task_id)
    members = task_customers(conn, task_id)
    text = "|".join([task.status, *(f"{k}={c}" for k, c in zip(
        members["record_key"], members["customer_no"], strict=True))])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def require_fresh(conn: Connection, task_id: int, seen: str | None) -> str:
    """The task's fingerprint; Conflict when ``seen`` (the page's) differs."""
    now = task_fingerprint(conn, task_id)
    if seen is not None and seen != now:
        raise Conflict(f"review task {task_id} changed since it was shown (a batch ran or "
                       "another steward acted); reload it and decide again")
    return now


def _open(task: Any) -> None:
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"review task {task.id} is {task.status}"
                       + (f" ({task.close_reason})" if task.close_reason else ""))


def _claim_holds(task: Any, policy: ReviewPolicy, now: Any) -> bool:
    return bool(task.locked_by) and task.locked_at is not None and \
        task.locked_at > now - timedelta(minutes=policy.claim_minutes)


def refuse_held_by_other(conn: Connection, task_id: int, actor: Actor,
                         policy: ReviewPolicy) -> None:
    """Conflict when another person's claim on the task still holds (a decision on a
    task someone else is working on is refused; an admin may override)."""
    task = require_task(conn, task_id)
    if actor.role == Role.ADMIN or actor.system:
        return
    if _claim_holds(task, policy, utcnow()) and task.locked_by != actor.name:
        until = task.locked_at + timedelta(minutes=policy.claim_minutes)
        raise Conflict(f"review task {task_id} is claimed by {task.locked_by} until "
                       f"{until:%H:%M} UTC")


def claim(conn: Connection, task_id: int, actor: Actor, policy: ReviewPolicy) -> None:
    """Claim an open task for ``actor`` (again: extends the claim)."""
    require_role(actor, WRITERS, "claim review tasks")
    task = require_task(conn, task_id, lock=True)
    _open(task)
    now = utcnow()
    if _claim_holds(task, policy, now) and task.locked_by != actor.name:
        until = task.locked_at + timedelta(minutes=policy.claim_minutes)
        raise Conflict(f"review task {task_id} is claimed by {task.locked_by} until "
                       f"{until:%H:%M} UTC")
    conn.execute(update(ReviewTask).where(ReviewTask.id == task_id)
                 .values(locked_by=actor.name, locked_at=now))
    audit(conn, actor, "task_claimed", "review_task", task_id,
          before={"locked_by": task.locked_by}, after={"locked_by": actor.name})


def release(conn: Connection, task_id: int, actor: Actor) -> None:
    """Give a claimed task back to the queue (the claimer, or an admin)."""
    task = require_task(conn, task_id, lock=True)
    if not task.locked_by:
        return
    if task.locked_by != actor.name and actor.role != Role.ADMIN and not actor.system:
        raise Forbidden(f"review task {task_id} is claimed by {task.locked_by}, not "
                        f"{actor.name}")
    conn.execute(update(ReviewTask).where(ReviewTask.id == task_id)
                 .values(locked_by=None, locked_at=None))
    audit(conn, actor, "task_released", "review_task", task_id,
          before={"locked_by": task.locked_by}, after={"locked_by": None})


def next_task(conn: Connection, actor: Actor, policy: ReviewPolicy, *,
              task_type: str | None = None, customer_type: str | None = None) -> int | None:
    """Claim the highest-priority open task nobody holds (highest score first, then
    the oldest) and return its id; None when the queue is empty. A task waiting
    for approval is not offered."""
    require_role(actor, WRITERS, "claim review tasks")
    now = utcnow()
    expired = now - timedelta(minutes=policy.claim_minutes)
    pending = select(ChangeRequest.task_id).where(
        ChangeRequest.status == RequestStatus.PENDING, ChangeRequest.task_id.is_not(None))
    query = (select(ReviewTask.id).where(
        ReviewTask.status == TaskStatus.OPEN,
        or_(ReviewTask.locked_by.is_(None), ReviewTask.locked_at < expired,
            ReviewTask.locked_by == actor.name),
        ReviewTask.id.not_in(pending))
        .order_by(ReviewTask.max_score.desc().nulls_last(), ReviewTask.created_at,
                  ReviewTask.id).limit(20))
    if task_type:
        query = query.where(ReviewTask.task_type == TaskType(task_type))
    if customer_type:
        query = query.where(ReviewTask.customer_type == customer_type)
    for task_id in conn.execute(query).scalars():
        took = conn.execute(update(ReviewTask).where(
            ReviewTask.id == task_id, ReviewTask.status == TaskStatus.OPEN,
            or_(ReviewTask.locked_by.is_(None), ReviewTask.locked_at < expired,
                ReviewTask.locked_by == actor.name))
            .values(locked_by=actor.name, locked_at=now))
        if took.rowcount == 1:  # nobody took it between the read and the update
            audit(conn, actor, "task_claimed", "review_task", task_id,
                  after={"locked_by": actor.name}, via="next")
            return int(task_id)
    return None


def comment(conn: Connection, task_id: int, actor: Actor, body: str) -> int:
    require_role(actor, WRITERS, "comment on review tasks")
    body = (body or "").strip()
    if not body:
        raise BadInput("a comment needs some text", {"comment": "empty"})
    if len(body) > _MAX_COMMENT:
        raise BadInput(f"a comment holds at most {_MAX_COMMENT} characters",
                       {"comment": "too long"})
    require_task(conn, task_id)
    row = conn.execute(table_of(TaskComment).insert().values(
        task_id=task_id, author=actor.name, body=body, created_at=utcnow())
    ).inserted_primary_key
    assert row is not None
    audit(conn, actor, "task_commented", "review_task", task_id, after={"comment": body})
    return int(row[0])


def mark_unsure(conn: Connection, task_id: int, actor: Actor, note: str) -> None:
    """Unsure (拿不准): the task stays open with the steward's comment, back in the queue."""
    task = require_task(conn, task_id, lock=True)
    _open(task)
    comment(conn, task_id, actor, note)
    if task.locked_by == actor.name:
        conn.execute(update(ReviewTask).where(ReviewTask.id == task_id)
                     .values(locked_by=None, locked_at=None))
    audit(conn, actor, "task_unsure", "review_task", task_id, after={"comment": note})


def close_task(conn: Connection, task_id: int, actor: Actor, reason: str) -> None:
    task = require_task(conn, task_id, lock=True)
    _open(task)
    conn.execute(update(ReviewTask).where(ReviewTask.id == task_id).values(
        status=TaskStatus.CLOSED, closed_at=utcnow(), closed_by=actor.name,
        close_reason=reason, locked_by=None, locked_at=None))
    audit(conn, actor, "task_closed", "review_task", task_id,
          before={"status": task.status}, after={"status": TaskStatus.CLOSED}, reason=reason)


def _open_members(conn: Connection, task_ids: list[int] | None = None) -> pd.DataFrame:
    """Members of open tasks with their current customers and task types: every
    open task, or only those of ``task_ids`` (read by key, not by scanning)."""
    query = (select(TaskMember.task_id, TaskMember.record_id, Link.customer_no,
                    ReviewTask.task_type)
             .join(ReviewTask, ReviewTask.id == TaskMember.task_id)
             .join(Link, Link.record_id == TaskMember.record_id)
             .where(ReviewTask.status == TaskStatus.OPEN))
    if task_ids is None:
        return read_frame(conn, query)
    parts = [read_frame(conn, query.where(TaskMember.task_id.in_(part)))
             for part in in_batches(sorted(set(task_ids)))]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["task_id", "record_id", "customer_no", "task_type"])


def close_answered_tasks(conn: Connection, run_id: int | None, by: Actor,
                         task_ids: list[int] | None = None) -> int:
    """Close open suspect tasks whose records all belong to one customer now (all
    open tasks, or those of ``task_ids``)."""
    members = _open_members(conn, task_ids)
    if members.empty:
        return 0
    spread = members.groupby("task_id")["customer_no"].nunique()
    # an identity task asks about one customer, a QA task about a pair the machine may
    # have merged: neither is answered by its records sharing a customer
    identity = set(members.loc[members["task_type"].isin([TaskType.IDENTITY_CHANGE,
                                                          TaskType.QA_SAMPLE]), "task_id"])
    answered = [int(t) for t in spread[spread < 2].index if t not in identity]
    if answered:
        reason = "records merged into one customer"
        conn.execute(update(ReviewTask).where(ReviewTask.id.in_(answered)).values(
            status=TaskStatus.CLOSED, closed_at=utcnow(), closed_by=by.name,
            close_reason=reason, locked_by=None, locked_at=None))
        audit(conn, by, "tasks_closed", "review_task",
              answered[0] if len(answered) == 1 else f"{len(answered)} tasks",
              after={"status": TaskStatus.CLOSED, "tasks": answered[:100]}, reason=reason,
              run_id=run_id)
    return len(answered)


def add_members(conn: Connection, rows: list[tuple[int, int, str]]) -> None:
    """(task_id, record_id, customer_no) members, written in bulk (the tasks stage)."""
    insert_rows(conn, table_of(TaskMember), pd.DataFrame(
        rows, columns=["task_id", "record_id", "customer_no"]))

