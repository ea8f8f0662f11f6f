"""What the stewards' queue and task page read (no writes here): the open tasks
with filters, sort and paging; one task with its records, the scored pairs
between them (the "why"), the rules that hold, comments and the change waiting
for approval.

Every page read is bounded: the queue reads one page of tasks and the sizes of
that page only (except when sorted by size), so it stays fast on a store of a
million records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from ecif.services.policy import ReviewPolicy
from ecif.services.tasks import require_task, task_fingerprint
from matching.engine.config import load_engine_config
from matching.engine.explain import WaterfallStep, rules_holding, waterfall
from matching.exceptions import BadInput
from matching.vocabulary import RequestStatus, TaskStatus, TaskType
from models.auth import AuditLog
from models.base import utcnow
from models.batch import MatchPair
from models.customer import Link
from models.source_record import SourceRecord
from models.task import ChangeRequest, ReviewTask, TaskComment, TaskMember

__all__ = ["QueueFilter", "QueueRow", "QueuePage", "list_tasks", "queue_counts",
           "TaskView", "PairWhy", "task_view", "RECORD_FIELDS", "SORTS"]

#: The fields shown side by side on the task page, in order.
RECORD_FIELDS = ("name", "gender", "birth_date", "id_type", "id_number", "mobile", "phone",
                 "email", "address", "legal_rep")
#: Queue sort orders.
SORTS = ("score", "age", "size", "updated")
_PAGE_MAX = 200


@dataclass(frozen=True)
class QueueFilter:
    task_type: str | None = None
    customer_type: str | None = None
    claim: str = "all"  # all | free | mine
    min_score: float | None = None
    sort: str = "score"
    page: int = 1
    per_page: int = 50

    def checked(self) -> QueueFilter:
        if self.task_type and self.task_type not in {t.value for t in TaskType}:
            raise BadInput(f"task type {self.task_type!r}: unknown", {"task_type": "unknown"})
        if self.customer_type and self.customer_type not in ("P", "G"):
            raise BadInput("customer type: P or G", {"customer_type": "unknown"})
        if self.claim not in ("all", "free", "mine"):
            raise BadInput("claim: all, free or mine", {"claim": "unknown"})
        if self.sort not in SORTS:
            raise BadInput("sort: " + ", ".join(SORTS), {"sort": "unknown"})
        if self.page < 1 or not 1 <= self.per_page <= _PAGE_MAX:
            raise BadInput(f"page from 1, per_page 1-{_PAGE_MAX}", {"page": "out of range"})
        return self


@dataclass(frozen=True)
class QueueRow:
    id: int
    task_type: str
    customer_type: str
    max_score: float | None
    size: int
    created_at: datetime
    updated_at: datetime
    claimed_by: str | None  # a claim that still holds
    claim_until: datetime | None
    pending_request: int | None

    def age(self, now: datetime) -> timedelta:
        return now - self.created_at


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    filter: QueueFilter
    now: datetime

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.filter.per_page))


def _where(f: QueueFilter, actor_name: str, expired: datetime) -> list[Any]:
    where: list[Any] = [ReviewTask.status == TaskStatus.OPEN]
    if f.task_type:
        where.append(ReviewTask.task_type == f.task_type)
    if f.customer_type:
        where.append(ReviewTask.customer_type == f.customer_type)
    if f.min_score is not None:
        where.append(ReviewTask.max_score >= f.min_score)
    if f.claim == "free":
        where.append(or_(ReviewTask.locked_by.is_(None), ReviewTask.locked_at < expired))
    elif f.claim == "mine":
        where.append(and_(ReviewTask.locked_by == actor_name, ReviewTask.locked_at >= expired))
    return where


def list_tasks(conn: Connection, f: QueueFilter, *, actor_name: str,
               policy: ReviewPolicy) -> QueuePage:
    """One page of open tasks."""
    f = f.checked()
    now = utcnow()
    expired = now - timedelta(minutes=policy.claim_minutes)
    where = _where(f, actor_name, expired)
    total = int(conn.execute(select(func.count()).select_from(ReviewTask)
                             .where(*where)).scalar_one())
    cols = [ReviewTask.id, ReviewTask.task_type, ReviewTask.customer_type,
            ReviewTask.max_score, ReviewTask.created_at, ReviewTask.updated_at,
            ReviewTask.locked_by, ReviewTask.locked_at]
    offset = (f.page - 1) * f.per_page
    sizes: dict[int, int] = {}
    if f.sort == "size":
        size = func.count(TaskMember.record_id).label("size")
        query = (select(*cols, size).join(TaskMember, TaskMember.task_id == ReviewTask.id)
                 .where(*where).group_by(*cols)
                 .order_by(size.desc(), ReviewTask.id).limit(f.per_page).offset(offset))
        rows = conn.execute(query).all()
        sizes = {int(r.id): int(r.size) for r in rows}
    else:
        order: dict[str, list[Any]] = {
            "score": [ReviewTask.max_score.desc().nulls_last(), ReviewTask.created_at],
            "age": [ReviewTask.created_at], "updated": [ReviewTask.updated_at.desc()]}
        rows = conn.execute(select(*cols).where(*where).order_by(*order[f.sort], ReviewTask.id)
                            .limit(f.per_page).offset(offset)).all()
    ids = [int(r.id) for r in rows]
    if ids and not sizes:
        sizes = {int(t): int(n) for t, n in conn.execute(
            select(TaskMember.task_id, func.count()).where(TaskMember.task_id.in_(ids))
            .group_by(TaskMember.task_id))}
    pending: dict[int, int] = {}
    if ids:
        pending = {int(t or 0): int(r) for r, t in conn.execute(
            select(ChangeRequest.id, ChangeRequest.task_id).where(
                ChangeRequest.task_id.in_(ids), ChangeRequest.status == RequestStatus.PENDING))}
    out = []
    for r in rows:
        holds = bool(r.locked_by) and r.locked_at is not None and r.locked_at >= expired
        out.append(QueueRow(
            int(r.id), r.task_type, r.customer_type, r.max_score, sizes.get(int(r.id), 0),
            r.created_at, r.updated_at, r.locked_by if holds else None,
            r.locked_at + timedelta(minutes=policy.claim_minutes) if holds else None,
            pending.get(int(r.id))))
    return QueuePage(out, total, f, now)


def queue_counts(conn: Connection) -> dict[str, int]:
    """Open tasks per type, and tasks waiting for approval."""
    counts = {str(t): int(n) for t, n in conn.execute(
        select(ReviewTask.task_type, func.count()).where(ReviewTask.status == TaskStatus.OPEN)
        .group_by(ReviewTask.task_type))}
    counts["pending_approval"] = int(conn.execute(
        select(func.count()).select_from(ChangeRequest)
        .where(ChangeRequest.status == RequestStatus.PENDING)).scalar_one())
    return counts


@dataclass(frozen=True)
class PairWhy:
    """Why two records of a task are asked about."""

    left: str
    right: str
    probability: float | None
    weight: float | None
    decision: str | None
    rule: str | None  # the strong rule (a rule pair)
    steps: list[WaterfallStep]
    weak_rules: list[str]  # the configured weak rules the two records satisfy
    strong_rules: list[str]  # strong rules that hold on the stored fields (derived)


@dataclass
class TaskView:
    task: Any
    records: list[dict[str, Any]]
    pairs: list[PairWhy]
    comments: list[Any]
    pending: Any | None
    requests: list[Any]
    fingerprint: str
    customers: list[str] = field(default_factory=list)
    history: list[Any] = field(default_factory=list)
    claimed_by: str | None = None  # a claim that still holds


_STD_COLS = ("org_core", "city", "org_code", "uscc", "name_plain", "name_pinyin")


def _records(conn: Connection, task_id: int) -> list[dict[str, Any]]:
    cols = [SourceRecord.id, SourceRecord.record_key, SourceRecord.source_system,
            SourceRecord.source_customer_id, SourceRecord.customer_type,
            SourceRecord.updated_at, SourceRecord.issues, SourceRecord.raw,
            *(getattr(SourceRecord, c) for c in RECORD_FIELDS),
            *(getattr(SourceRecord, c) for c in _STD_COLS),
            Link.customer_no, Link.link_type, TaskMember.customer_no.label("customer_at_open")]
    rows = conn.execute(select(*cols).join(TaskMember, TaskMember.record_id == SourceRecord.id)
                        .outerjoin(Link, Link.record_id == SourceRecord.id)
                        .where(TaskMember.task_id == task_id)
                        .order_by(Link.customer_no, SourceRecord.record_key)).all()
    out = []
    for r in rows:
        rec = dict(r._mapping)
        raw = rec.pop("raw") or {}
        if isinstance(raw, str):
            raw = json.loads(raw)
        rec["source_name"] = raw.get("name")  # as keyed, before standardisation
        rec["issue_list"] = [i for i in (rec.get("issues") or "").split(";") if i]
        out.append(rec)
    return out


def _pairs(conn: Connection, records: list[dict[str, Any]], customer_type: str,
           config_dir: Path, *, across_only: bool = True) -> list[PairWhy]:
    keys = [r["record_key"] for r in records]
    rows = conn.execute(select(MatchPair).where(
        MatchPair.left_key.in_(keys), MatchPair.right_key.in_(keys))
        .order_by(MatchPair.id)).all()
    newest: dict[tuple[str, str], Any] = {}
    for pair in rows:  # ordered by id: the newest row of a pair wins
        newest[(pair.left_key, pair.right_key)] = pair
    tcfg = _type_config(config_dir, customer_type)
    by_key = {r["record_key"]: r for r in records}
    out = []
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            if across_only and by_key[a]["customer_no"] == by_key[b]["customer_no"]:
                continue  # one customer already: nothing to ask
            row: Any = newest.get((a, b)) or newest.get((b, a))
            weak = rules_holding(by_key[a], by_key[b], tcfg.weak_rules)
            strong = rules_holding(by_key[a], by_key[b], tcfg.strong_rules)
            if row is None and not weak:
                continue
            expl = row.explanation if row is not None else None
            if isinstance(expl, str):
                expl = json.loads(expl)
            out.append(PairWhy(
                a, b, row.match_probability if row is not None else None,
                row.match_weight if row is not None else None,
                row.decision if row is not None else None,
                row.rule if row is not None else None,
                waterfall(expl, row.match_weight if row is not None else None), weak, strong))
    out.sort(key=lambda p: -(p.probability if p.probability is not None else -1.0))
    return out


@lru_cache(maxsize=8)
def _type_config(config_dir: Path, customer_type: str) -> Any:
    return load_engine_config(config_dir).for_type(customer_type)


def task_view(conn: Connection, task_id: int, *, config_dir: Path, policy: ReviewPolicy,
              max_pairs: int = 30) -> TaskView:
    """One task as the task page shows it."""
    task = require_task(conn, task_id)
    records = _records(conn, task_id)
    # an identity-change or QA task asks about records of one customer: show those pairs
    across = task.task_type not in (TaskType.IDENTITY_CHANGE, TaskType.QA_SAMPLE)
    pairs = _pairs(conn, records, task.customer_type, config_dir,
                   across_only=across)[:max_pairs]
    comments = conn.execute(select(TaskComment).where(TaskComment.task_id == task_id)
                            .order_by(TaskComment.id)).all()
    requests = conn.execute(select(ChangeRequest).where(ChangeRequest.task_id == task_id)
                            .order_by(ChangeRequest.id.desc())).all()
    pending = next((r for r in requests if r.status == RequestStatus.PENDING), None)
    history = conn.execute(select(AuditLog).where(
        AuditLog.object_type == "review_task", AuditLog.object_id == str(task_id))
        .order_by(AuditLog.id.desc()).limit(30)).all()
    expired = utcnow() - timedelta(minutes=policy.claim_minutes)
    holds = bool(task.locked_by) and task.locked_at is not None and task.locked_at >= expired
    return TaskView(task, records, pairs, list(comments), pending, list(requests),
                    task_fingerprint(conn, task_id),
                    sorted({str(r["customer_no"]) for r in records}), list(history),
                    task.locked_by if holds else None)
