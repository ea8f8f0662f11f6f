"""The overview page's figures (任务概览与复核统计): tasks per state, the backlog and
the decisions per day, and reviewer statistics — decisions per steward per day,
median time per task, approval and rejection rates, and agreement where two
people judged the same pair.

Read from the store as it is (tasks, change requests, decisions) and from the
audit log (claims and decisions, by time), grouped in SQL where the rows are
many; nothing is kept in a table of its own, so the figures cannot drift from
what happened.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, func, or_, select

from ecif.bulk import read_frame
from ecif.services.policy import ReviewPolicy
from matching.vocabulary import BATCH_ACTOR, RequestStatus, TaskStatus
from models.auth import AuditLog
from models.base import utcnow
from models.decision import Decision
from models.task import ChangeRequest, ReviewTask

__all__ = ["task_counts", "backlog_by_day", "decisions_by_day", "reviewer_stats",
           "overview", "DECISION_ACTIONS"]

#: Audit actions that are a person's decision (a steward's ask or direct change,
#: an approver's verdict, an "unsure").
DECISION_ACTIONS = ("change_requested", "change_applied", "change_approved",
                    "change_rejected", "task_unsure")
_CLAIM = "task_claimed"


def task_counts(conn: Connection, policy: ReviewPolicy, now: datetime | None = None
                ) -> dict[str, int]:
    """Open tasks free / claimed / waiting for approval, closed tasks, and the
    change requests waiting."""
    now = now or utcnow()
    held = now - timedelta(minutes=policy.claim_minutes)
    waiting = select(ChangeRequest.task_id).where(
        ChangeRequest.status == RequestStatus.PENDING, ChangeRequest.task_id.is_not(None))
    is_open = ReviewTask.status == TaskStatus.OPEN
    claimed = and_(ReviewTask.locked_by.is_not(None), ReviewTask.locked_at >= held)
    row = conn.execute(select(
        func.count().filter(is_open, ReviewTask.id.in_(waiting)).label("waiting"),
        func.count().filter(is_open, ReviewTask.id.not_in(waiting), claimed).label("claimed"),
        func.count().filter(is_open, ReviewTask.id.not_in(waiting),
                            or_(ReviewTask.locked_by.is_(None),
                                ReviewTask.locked_at < held)).label("free"),
        func.count().filter(ReviewTask.status == TaskStatus.CLOSED).label("closed"),
    )).one()
    pending = conn.execute(select(func.count()).select_from(ChangeRequest).where(
        ChangeRequest.status == RequestStatus.PENDING)).scalar() or 0
    counts = {k: int(v or 0) for k, v in row._mapping.items()}
    counts["open"] = counts["waiting"] + counts["claimed"] + counts["free"]
    counts["pending_requests"] = int(pending)
    return counts


def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


def _per_day(conn: Connection, column: Any, since: datetime, *where: Any) -> dict[date, int]:
    day = func.date(column)
    rows = conn.execute(select(day.label("day"), func.count().label("n")).where(
        column >= since, *where).group_by(day)).all()
    return {_as_date(r.day): int(r.n) for r in rows}


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def backlog_by_day(conn: Connection, days: int = 30, now: datetime | None = None
                   ) -> list[dict[str, Any]]:
    """For each of the last ``days`` days: tasks opened, closed, and open at the end."""
    now = now or utcnow()
    first = (now - timedelta(days=days - 1)).date()
    start = datetime.combine(first, datetime.min.time())
    before = conn.execute(select(
        func.count().filter(ReviewTask.created_at < start),
        func.count().filter(ReviewTask.closed_at < start))).one()
    opened = _per_day(conn, ReviewTask.created_at, start)
    closed = _per_day(conn, ReviewTask.closed_at, start)
    backlog = int(before[0] or 0) - int(before[1] or 0)
    out = []
    for d in _days(first, now.date()):
        backlog += opened.get(d, 0) - closed.get(d, 0)
        out.append({"day": d, "opened": opened.get(d, 0), "closed": closed.get(d, 0),
                    "open": backlog})
    return out


def decisions_by_day(conn: Connection, days: int = 30, now: datetime | None = None
                     ) -> list[dict[str, Any]]:
    """People's decisions per day (asks, direct changes, approvals, rejections,
    unsure) over the last ``days`` days."""
    now = now or utcnow()
    first = (now - timedelta(days=days - 1)).date()
    per = _per_day(conn, AuditLog.at, datetime.combine(first, datetime.min.time()),
                   AuditLog.action.in_(DECISION_ACTIONS), AuditLog.actor != BATCH_ACTOR)
    return [{"day": d, "decisions": per.get(d, 0)} for d in _days(first, now.date())]


def _decisions(conn: Connection, since: datetime) -> pd.DataFrame:
    frame = read_frame(conn, select(AuditLog.at, AuditLog.actor, AuditLog.action,
                                    AuditLog.object_type, AuditLog.object_id,
                                    AuditLog.detail)
                       .where(AuditLog.at >= since, AuditLog.actor != BATCH_ACTOR,
                              AuditLog.action.in_((*DECISION_ACTIONS, _CLAIM)))
                       .order_by(AuditLog.at, AuditLog.id))
    if frame.empty:
        return frame.assign(task_id=pd.Series(dtype="float64"))

    def task_of(row: Any) -> float:
        if row.object_type == "review_task":
            return float(row.object_id)
        detail = row.detail if isinstance(row.detail, dict) else {}
        value = detail.get("task_id")
        return float(value) if value is not None else float("nan")

    frame["task_id"] = [task_of(r) for r in frame.itertuples()]
    frame["at"] = pd.to_datetime(frame["at"])
    return frame


def _median_seconds(frame: pd.DataFrame) -> dict[str, float]:
    """Per person: the median time from claiming a task to deciding it."""
    claims = frame[frame["action"].eq(_CLAIM) & frame["task_id"].notna()]
    made = frame[~frame["action"].eq(_CLAIM) & frame["task_id"].notna()]
    if claims.empty or made.empty:
        return {}
    joined = pd.merge_asof(
        made.sort_values("at")[["at", "actor", "task_id"]],
        claims.sort_values("at")[["at", "actor", "task_id"]].rename(columns={"at": "claimed"}),
        left_on="at", right_on="claimed", by=["actor", "task_id"], direction="backward")
    joined = joined.dropna(subset=["claimed"])
    joined["seconds"] = (joined["at"] - joined["claimed"]).dt.total_seconds()
    return {str(k): float(v) for k, v in joined.groupby("actor")["seconds"].median().items()}


def _agreement(conn: Connection) -> dict[str, Any]:
    """Pairs of records judged by two or more people (live or since withdrawn or
    superseded): how many, and the share where they all gave the same judgement;
    per pair of people."""
    people = func.count(func.distinct(Decision.created_by))
    pairs = read_frame(conn, select(Decision.left_key, Decision.right_key)
                       .where(Decision.created_by != BATCH_ACTOR)
                       .group_by(Decision.left_key, Decision.right_key).having(people > 1)
                       .limit(100_000))
    if pairs.empty:
        return {"pairs": 0, "agreed": 0, "rate": None, "by_people": []}
    rows = read_frame(conn, select(Decision.left_key, Decision.right_key,
                                   Decision.created_by, Decision.judgement, Decision.id)
                      .where(Decision.created_by != BATCH_ACTOR,
                             Decision.left_key.in_(pairs["left_key"].unique().tolist()[:5000])))
    rows = rows.merge(pairs, on=["left_key", "right_key"])
    # each person's last word on each pair
    rows = rows.sort_values("id").drop_duplicates(["left_key", "right_key", "created_by"],
                                                  keep="last")
    by_pair = rows.groupby(["left_key", "right_key"])["judgement"].nunique()
    agreed = int((by_pair == 1).sum())
    duo = rows.merge(rows, on=["left_key", "right_key"], suffixes=("_a", "_b"))
    duo = duo[duo["created_by_a"] < duo["created_by_b"]]
    duo["same"] = duo["judgement_a"].eq(duo["judgement_b"])
    by_people = [{"a": a, "b": b, "pairs": int(len(g)), "agreed": int(g["same"].sum()),
                  "rate": float(g["same"].mean())}
                 for (a, b), g in duo.groupby(["created_by_a", "created_by_b"])]
    return {"pairs": int(len(by_pair)), "agreed": agreed,
            "rate": agreed / len(by_pair) if len(by_pair) else None, "by_people": by_people}


def reviewer_stats(conn: Connection, days: int = 30, now: datetime | None = None
                   ) -> dict[str, Any]:
    """Per person over the last ``days`` days: decisions per day, the median time
    from claim to decision, and the approval and rejection rates of the changes
    they asked for; agreement where two people judged the same pair."""
    now = now or utcnow()
    since = datetime.combine((now - timedelta(days=days - 1)).date(), datetime.min.time())
    frame = _decisions(conn, since)
    per_day: dict[str, dict[str, int]] = {}
    made = frame[~frame["action"].eq(_CLAIM)] if not frame.empty else frame
    for actor, at in zip(made.get("actor", []), made.get("at", []), strict=True):
        day = pd.Timestamp(at).date().isoformat()
        per_day.setdefault(str(actor), {}).setdefault(day, 0)
        per_day[str(actor)][day] += 1
    medians = _median_seconds(frame) if not frame.empty else {}
    verdicts = read_frame(conn, select(ChangeRequest.requested_by, ChangeRequest.status,
                                       func.count().label("n"))
                          .where(ChangeRequest.requested_at >= since)
                          .group_by(ChangeRequest.requested_by, ChangeRequest.status))
    rates: dict[str, dict[str, Any]] = {}
    for who, g in verdicts.groupby("requested_by"):
        n = dict(zip(g["status"], g["n"].astype(int), strict=True))
        decided = n.get(RequestStatus.APPROVED, 0) + n.get(RequestStatus.REJECTED, 0)
        rates[str(who)] = {
            "asked": int(sum(n.values())), "approved": n.get(RequestStatus.APPROVED, 0),
            "rejected": n.get(RequestStatus.REJECTED, 0),
            "pending": n.get(RequestStatus.PENDING, 0),
            "approval_rate": n.get(RequestStatus.APPROVED, 0) / decided if decided else None,
            "rejection_rate": n.get(RequestStatus.REJECTED, 0) / decided if decided else None}
    names = sorted(set(per_day) | set(medians) | set(rates))
    people = [{"name": name, "decisions": sum(per_day.get(name, {}).values()),
               "per_day": per_day.get(name, {}), "median_seconds": medians.get(name),
               **(rates.get(name) or {"asked": 0, "approved": 0, "rejected": 0, "pending": 0,
                                      "approval_rate": None, "rejection_rate": None})}
              for name in names]
    return {"since": since, "people": people, "agreement": _agreement(conn)}


def overview(conn: Connection, policy: ReviewPolicy, days: int = 30) -> dict[str, Any]:
    now = utcnow()
    return {"counts": task_counts(conn, policy, now), "backlog": backlog_by_day(conn, days, now),
            "decisions": decisions_by_day(conn, days, now),
            "reviewers": reviewer_stats(conn, days, now)}
