"""One customer as the stewards' page and API show it (客户视图): the golden
record, its source records, its merge, split and rollback history with who and
why, the trail of its basic and contact fields over versions (客户信息回溯),
the manual-override flags (standing cannot-links from splits), the changes
waiting for approval and the open tasks it is in.

Read-only; every read is by key (customer number, record ids, event ids), so a
page costs the same on a store of millions. PII is masked here for roles
without PII rights (:mod:`ecif.services.masking`), so no caller can forget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, or_, select

from ecif.bulk import in_batches
from ecif.services.customers import customers_fingerprint, event_fingerprint, lookup
from ecif.services.masking import mask_fields
from matching.vocabulary import EventType, Judgement, RequestStatus, Role, TaskStatus
from models.customer import GOLDEN_FIELDS, Customer, CustomerHistory, Link
from models.decision import Decision
from models.event import EventMove, MergeEvent
from models.source_record import SourceRecord
from models.task import ChangeRequest, ReviewTask, TaskMember

__all__ = ["CustomerView", "customer_view", "may_see_pii", "ROLLBACK_TYPES", "task_events"]

#: Roles that see PII unmasked.
PII_ROLES = (Role.STEWARD, Role.APPROVER, Role.ADMIN)
#: Events a steward may roll back from a customer's history.
ROLLBACK_TYPES = (EventType.MERGE, EventType.SPLIT, EventType.MANUAL_MERGE,
                  EventType.MANUAL_SPLIT)
_MAX_EVENTS = 200
_MAX_HISTORY = 200
_MAX_FINGERPRINTS = 50
_RECORD_FIELDS = ("name", "gender", "birth_date", "id_type", "id_number", "mobile", "phone",
                  "email", "address", "legal_rep", "updated_at", "issues")


def may_see_pii(role: str) -> bool:
    return role in PII_ROLES


@dataclass
class CustomerView:
    customer: dict[str, Any]
    chain: list[str]
    records: list[dict[str, Any]]
    events: list[dict[str, Any]]
    history: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    pending: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    tombstones: list[str]
    fingerprint: str
    masked: bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def followed(self) -> bool:
        return len(self.chain) > 1

    @property
    def manual_override(self) -> bool:
        return bool(self.flags)

    def as_dict(self) -> dict[str, Any]:
        return {"customer": self.customer, "chain": self.chain, "records": self.records,
                "events": self.events, "history": self.history, "flags": self.flags,
                "manual_override": self.manual_override, "pending": self.pending,
                "tasks": self.tasks, "tombstones": self.tombstones,
                "fingerprint": self.fingerprint, "masked": self.masked}


def customer_view(conn: Connection, customer_no: str, *, pii: bool) -> CustomerView:
    """Everything the customer page shows; NotFound for an unknown number. A
    tombstone's number gives the customer it was merged into (``chain``)."""
    resolved = lookup(conn, customer_no)
    c = resolved.customer
    no = c.customer_no
    mask = (lambda d: d) if pii else mask_fields
    customer = mask({"customer_no": no, "customer_type": c.customer_type, "status": c.status,
                     "version": c.version, "records": c.records, "created_at": c.created_at,
                     "updated_at": c.updated_at, **{f: getattr(c, f) for f in GOLDEN_FIELDS}})
    records = [mask(r) for r in _records(conn, no)]
    keys = [r["record_key"] for r in records]
    events = _events(conn, no)
    return CustomerView(
        customer=customer, chain=resolved.chain, records=records, events=events,
        history=_history(conn, no, mask), flags=_flags(conn, keys),
        pending=_pending(conn, no, {e["id"] for e in events}),
        tasks=_tasks(conn, no), tombstones=_tombstones(conn, no),
        fingerprint=customers_fingerprint(conn, [no]), masked=not pii)


def _records(conn: Connection, no: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(
        SourceRecord.id, SourceRecord.record_key, SourceRecord.source_system,
        SourceRecord.source_customer_id, SourceRecord.customer_type,
        *(getattr(SourceRecord, f) for f in _RECORD_FIELDS),
        Link.link_type, Link.rule, Link.since, Link.run_id,
    ).join(Link, Link.record_id == SourceRecord.id).where(Link.customer_no == no)
        .order_by(SourceRecord.record_key))
    return [dict(r._mapping) for r in rows]


def _events(conn: Connection, no: str) -> list[dict[str, Any]]:
    moved = select(EventMove.event_id).where(
        or_(EventMove.to_customer_no == no, EventMove.from_customer_no == no))
    ids = set(conn.execute(select(MergeEvent.id).where(MergeEvent.customer_no == no)
                           .order_by(MergeEvent.id.desc()).limit(_MAX_EVENTS)).scalars())
    ids |= set(conn.execute(moved.order_by(EventMove.event_id.desc())
                            .limit(_MAX_EVENTS * 4)).scalars())
    chosen = sorted(ids, reverse=True)[:_MAX_EVENTS]
    out: list[dict[str, Any]] = []
    for part in in_batches(chosen):
        for e in conn.execute(select(MergeEvent).where(MergeEvent.id.in_(part))):
            out.append({
                "id": e.id, "event_type": e.event_type, "customer_no": e.customer_no,
                "created_at": e.created_at, "created_by": e.created_by,
                "approved_by": e.approved_by, "reason": e.reason, "task_id": e.task_id,
                "run_id": e.run_id, "rule": e.rule, "model_version": e.model_version,
                "before": e.before, "after": e.after, "undone_by": e.undone_by,
                "undoes": e.undoes,
                "rollbackable": e.undone_by is None and e.event_type in ROLLBACK_TYPES})
    out.sort(key=lambda e: e["id"], reverse=True)
    for shown in [e for e in out if e["rollbackable"]][:_MAX_FINGERPRINTS]:
        shown["fingerprint"] = event_fingerprint(conn, shown["id"])
    return out


def _history(conn: Connection, no: str, mask: Any) -> list[dict[str, Any]]:
    rows = conn.execute(select(CustomerHistory).where(CustomerHistory.customer_no == no)
                        .order_by(CustomerHistory.version.desc()).limit(_MAX_HISTORY)).all()
    rows = rows[::-1]
    out: list[dict[str, Any]] = []
    previous: dict[str, Any] = {}
    for h in rows:
        fields = {f: (h.fields or {}).get(f) for f in GOLDEN_FIELDS}
        changed = [f for f in GOLDEN_FIELDS if previous and fields[f] != previous.get(f)]
        out.append({"version": h.version, "valid_from": h.valid_from, "run_id": h.run_id,
                    "fields": mask(fields), "changed": changed})
        previous = fields
    return out[::-1]


def _flags(conn: Connection, keys: list[str]) -> list[dict[str, Any]]:
    """The standing cannot-links of these records (a split's manual override)."""
    found: dict[int, Any] = {}
    for part in in_batches(sorted(keys)):
        for d in conn.execute(select(Decision).where(
                Decision.judgement == Judgement.CANNOT_LINK, Decision.deleted_at.is_(None),
                or_(Decision.left_key.in_(part), Decision.right_key.in_(part)))):
            found[d.id] = d
    mine = set(keys)
    others = sorted({k for d in found.values() for k in (d.left_key, d.right_key)} - mine)
    where: dict[str, str] = {}
    for part in in_batches(others):
        for r in conn.execute(select(SourceRecord.record_key, Link.customer_no).join(
                Link, Link.record_id == SourceRecord.id).where(
                SourceRecord.record_key.in_(part))):
            where[r.record_key] = r.customer_no
    groups: dict[str, dict[str, Any]] = {}
    for d in sorted(found.values(), key=lambda d: d.id):
        other = d.right_key if d.left_key in mine else d.left_key
        other_no = where.get(other, "")
        g = groups.setdefault(other_no or other, {
            "other_customer_no": other_no, "pairs": 0, "created_by": d.created_by,
            "approved_by": d.approved_by, "reason": d.reason, "created_at": d.created_at,
            "event_id": d.event_id})
        g["pairs"] += 1
    return list(groups.values())


def _pending(conn: Connection, no: str, event_ids: set[int]) -> list[dict[str, Any]]:
    """Waiting changes that name this customer or one of its events."""
    out = []
    for r in conn.execute(select(ChangeRequest).where(
            ChangeRequest.status == RequestStatus.PENDING).order_by(ChangeRequest.id)):
        p = r.payload or {}
        if p.get("customer_no") == no or no in (p.get("customers") or []) \
                or p.get("event_id") in event_ids:
            out.append({"id": r.id, "action": r.action, "payload": p, "reason": r.reason,
                        "requested_by": r.requested_by, "requested_at": r.requested_at})
    return out


def _tasks(conn: Connection, no: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(ReviewTask.id, ReviewTask.task_type, ReviewTask.max_score)
                        .distinct().join(TaskMember, TaskMember.task_id == ReviewTask.id)
                        .join(Link, Link.record_id == TaskMember.record_id)
                        .where(Link.customer_no == no, ReviewTask.status == TaskStatus.OPEN)
                        .order_by(ReviewTask.id))
    return [dict(r._mapping) for r in rows]


def _tombstones(conn: Connection, no: str) -> list[str]:
    return list(conn.execute(select(Customer.customer_no).where(
        Customer.merged_into == no).order_by(Customer.customer_no).limit(100)).scalars())


def task_events(conn: Connection, task_id: int) -> list[dict[str, Any]]:
    """The merge events a review task's decisions made (a merge from its page), with
    the fingerprint a rollback of each is asked on: the task page offers them."""
    out = []
    for e in conn.execute(select(MergeEvent).where(MergeEvent.task_id == task_id)
                          .order_by(MergeEvent.id)):
        rollbackable = e.undone_by is None and e.event_type in ROLLBACK_TYPES
        out.append({"id": e.id, "event_type": e.event_type, "customer_no": e.customer_no,
                    "created_by": e.created_by, "approved_by": e.approved_by,
                    "created_at": e.created_at, "undone_by": e.undone_by,
                    "rollbackable": rollbackable,
                    "fingerprint": event_fingerprint(conn, e.id) if rollbackable else None})
    return out
