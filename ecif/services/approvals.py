"""Maker-checker (审核): a steward asks for a change; where config/review.yaml says
the action needs approval it waits as a ``change_request`` until an approver
approves it (it takes effect at once) or rejects it with a reason. Nobody
approves their own. A request remembers the state it was asked on: approving
it after the customers or the task changed is refused as stale.

Every steward action comes through :func:`submit`, with or without approval,
so the same checks apply to both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ecif.services import customers, tasks
from ecif.services.audit import audit
from ecif.services.base import APPROVERS, WRITERS, Actor, require_role
from ecif.services.customers import ActionResult
from ecif.services.decisions import make_decisions, refuse_must_link_across
from ecif.services.policy import ReviewPolicy
from matching.exceptions import BadInput, Conflict, Forbidden, NotFound
from matching.vocabulary import Judgement, RequestStatus, StewardAction, TaskStatus
from models.base import utcnow
from models.task import ChangeRequest, ReviewTask

__all__ = ["submit", "submit_bulk", "approve", "reject", "withdraw", "Submitted",
           "BulkOutcome", "pending_for_task", "BULK_ACTIONS", "MAX_BULK"]

_MAX_REASON = 2000


@dataclass(frozen=True)
class Submitted:
    """A change asked for: applied at once (``result``), or waiting (``request_id``)."""

    action: str
    request_id: int | None
    result: ActionResult | None

    @property
    def pending(self) -> bool:
        return self.result is None


def _reason(reason: str | None, required: bool = False) -> str | None:
    reason = (reason or "").strip() or None
    if required and not reason:
        raise BadInput("a reason is needed", {"reason": "empty"})
    if reason and len(reason) > _MAX_REASON:
        raise BadInput(f"a reason holds at most {_MAX_REASON} characters",
                       {"reason": "too long"})
    return reason


def _action(action: str) -> StewardAction:
    try:
        return StewardAction(action)
    except ValueError:
        raise BadInput(f"action {action!r}: expected one of "
                       + ", ".join(a.value for a in StewardAction),
                       {"action": "unknown"}) from None


def _task_customers(conn: Connection, task_id: int, keys: list[str] | None) -> list[str]:
    members = tasks.task_customers(conn, task_id)
    if keys:
        unknown = sorted(set(keys) - set(members["record_key"]))
        if unknown:
            raise BadInput(f"record {unknown[0]} is not in review task {task_id}",
                           {"records": "not in this task"})
        members = members[members["record_key"].isin(keys)]
    return sorted(set(members["customer_no"]))


def _normalise(conn: Connection, action: StewardAction, payload: dict[str, Any]
               ) -> dict[str, Any]:
    """Check a payload's shape (BadInput naming each bad field); return it cleaned."""
    def ints(name: str) -> int:
        value = payload.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadInput(f"{name} must be a whole number", {name: "missing or not a number"})
        return value

    def strs(name: str, required: bool = True) -> list[str]:
        value = payload.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise BadInput(f"{name} must be a list of strings", {name: "not a list of strings"})
        if required and not value:
            raise BadInput(f"{name} must not be empty", {name: "empty"})
        return sorted(set(value))

    if action in (StewardAction.MERGE, StewardAction.NOT_DUPLICATE):
        out: dict[str, Any] = {"task_id": ints("task_id")}
        if action == StewardAction.MERGE:
            out["records"] = strs("records", required=False)
        return out
    if action == StewardAction.FORCE_MERGE:
        return {"customers": strs("customers")}
    if action == StewardAction.SPLIT:
        no = payload.get("customer_no")
        if not isinstance(no, str) or not no:
            raise BadInput("customer_no is needed", {"customer_no": "missing"})
        return {"customer_no": no, "records": strs("records")}
    return {"event_id": ints("event_id")}


def _fingerprint(conn: Connection, action: StewardAction, payload: dict[str, Any]) -> str:
    if "task_id" in payload:
        return tasks.task_fingerprint(conn, payload["task_id"])
    if action == StewardAction.FORCE_MERGE:
        return customers.customers_fingerprint(conn, payload["customers"])
    if action == StewardAction.SPLIT:
        return customers.customers_fingerprint(conn, [payload["customer_no"]])
    return customers.event_fingerprint(conn, payload["event_id"])


def _precheck(conn: Connection, action: StewardAction, payload: dict[str, Any]) -> None:
    """What can be refused before anyone approves: unknown objects, closed tasks, a
    task already waiting for approval."""
    task_id = payload.get("task_id")
    if task_id is not None:
        task = tasks.require_task(conn, task_id, lock=True)
        if task.status != TaskStatus.OPEN:
            raise Conflict(f"review task {task_id} is {task.status}")
        waiting = pending_for_task(conn, task_id)
        if waiting is not None:
            raise Conflict(f"review task {task_id} waits for approval of request {waiting}")
    if action == StewardAction.MERGE and len(_task_customers(
            conn, payload["task_id"], payload["records"])) < 2:
        raise BadInput("the chosen records already belong to one customer",
                       {"records": "one customer"})
    if action == StewardAction.FORCE_MERGE:
        for no in payload["customers"]:
            customers.lookup(conn, no)
    if action == StewardAction.SPLIT:
        customers.lookup(conn, payload["customer_no"])
    if action == StewardAction.ROLLBACK:
        customers.event_fingerprint(conn, payload["event_id"])  # NotFound if unknown


def pending_for_task(conn: Connection, task_id: int) -> int | None:
    return conn.execute(select(ChangeRequest.id).where(
        ChangeRequest.task_id == task_id,
        ChangeRequest.status == RequestStatus.PENDING)).scalar()


def submit(conn: Connection, action: str, payload: dict[str, Any], *, actor: Actor,
           policy: ReviewPolicy, config_dir: Path, reason: str | None = None,
           seen: str | None = None) -> Submitted:
    """Ask for a change. ``seen``: the fingerprint of the task (or customers, or
    event) as the page showed it; a change since is refused (Conflict)."""
    require_role(actor, WRITERS, "ask for changes")
    kind = _action(action)
    body = _normalise(conn, kind, payload)
    reason = _reason(reason, required=kind == StewardAction.FORCE_MERGE)
    _precheck(conn, kind, body)
    current = _fingerprint(conn, kind, body)
    if seen is not None and seen != current:
        raise Conflict("what you decided on changed since it was shown (a batch ran or "
                       "another steward acted); reload it and decide again")
    if not policy.needs_approval(kind):
        result = _apply(conn, kind, body, actor, config_dir, reason=reason)
        audit(conn, actor, "change_applied", "steward_action", kind,
              after={"action": kind, "payload": body, "result": result.as_dict()},
              reason=reason, task_id=body.get("task_id"))
        return Submitted(kind, None, result)
    request_id = conn.execute(insert(ChangeRequest).values(
        action=kind, status=RequestStatus.PENDING, payload=body, task_id=body.get("task_id"),
        reason=reason, fingerprint=current, requested_by=actor.name, requested_at=utcnow(),
    )).inserted_primary_key
    assert request_id is not None
    audit(conn, actor, "change_requested", "change_request", request_id[0],
          after={"action": kind, "payload": body, "status": RequestStatus.PENDING},
          reason=reason, task_id=body.get("task_id"))
    return Submitted(kind, int(request_id[0]), None)


#: Decisions a steward may apply to several tasks at once (批量处理).
BULK_ACTIONS = (StewardAction.MERGE, StewardAction.NOT_DUPLICATE)
#: At most this many tasks in one bulk decision.
MAX_BULK = 500


@dataclass
class BulkOutcome:
    """One bulk decision: per task, what became of it."""

    action: str
    done: dict[int, Submitted] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action,
                "applied": sorted(t for t, s in self.done.items() if not s.pending),
                "pending": {str(t): s.request_id for t, s in sorted(self.done.items())
                            if s.pending},
                "refused": {str(t): why for t, why in sorted(self.refused.items())}}


def submit_bulk(conn: Connection, action: str, task_ids: list[int], *, actor: Actor,
                policy: ReviewPolicy, config_dir: Path, reason: str | None = None,
                seen: dict[int, str] | None = None) -> BulkOutcome:
    """One decision with one reason on several tasks of one kind (批量处理), each
    through :func:`submit` (so through approval where configured). Each task is
    its own savepoint: a task that changed meanwhile, or is waiting already, is
    refused and named while the others go ahead. ``seen``: task id -> the
    fingerprint the queue showed."""
    require_role(actor, WRITERS, "decide review tasks")
    kind = _action(action)
    if kind not in BULK_ACTIONS:
        raise BadInput(f"action {action!r}: in bulk only "
                       + ", ".join(a.value for a in BULK_ACTIONS), {"action": "not in bulk"})
    ids = sorted({int(t) for t in task_ids})
    if not ids:
        raise BadInput("choose at least one task", {"task_ids": "empty"})
    if len(ids) > MAX_BULK:
        raise BadInput(f"at most {MAX_BULK} tasks at once", {"task_ids": "too many"})
    reason = _reason(reason, required=True)
    found = {r.id: r for r in conn.execute(select(ReviewTask.id, ReviewTask.task_type)
                                           .where(ReviewTask.id.in_(ids)))}
    missing = [t for t in ids if t not in found]
    if missing:
        raise NotFound(f"review task {missing[0]}: no such task")
    kinds = {found[t].task_type for t in ids}
    if len(kinds) > 1:
        raise BadInput("a bulk decision takes tasks of one kind, got "
                       + ", ".join(sorted(kinds)), {"task_ids": "mixed task types"})
    outcome = BulkOutcome(kind)
    for task_id in ids:
        payload: dict[str, Any] = {"task_id": task_id}
        if kind == StewardAction.MERGE:
            payload["records"] = []
        savepoint = conn.begin_nested()
        try:
            tasks.refuse_held_by_other(conn, task_id, actor, policy)
            outcome.done[task_id] = submit(conn, kind, payload, actor=actor, policy=policy,
                                           config_dir=config_dir, reason=reason,
                                           seen=(seen or {}).get(task_id))
            savepoint.commit()
        except (Conflict, BadInput, Forbidden) as exc:
            savepoint.rollback()
            outcome.refused[task_id] = str(exc)
    audit(conn, actor, "bulk_decided", "review_task", f"{len(ids)} tasks",
          after=outcome.as_dict(), reason=reason)
    return outcome


def _require_request(conn: Connection, request_id: int) -> Any:
    query = select(ChangeRequest).where(ChangeRequest.id == request_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"change request {request_id}: no such request")
    req = row
    if req.status != RequestStatus.PENDING:
        raise Conflict(f"change request {request_id} is already {req.status}"
                       + (f" by {req.decided_by}" if req.decided_by else ""))
    return req


def approve(conn: Connection, request_id: int, *, actor: Actor, config_dir: Path,
            note: str | None = None) -> ActionResult:
    """Approve a waiting change: it takes effect now."""
    require_role(actor, APPROVERS, "approve changes")
    req = _require_request(conn, request_id)
    if req.requested_by == actor.name:
        raise Forbidden(f"change request {request_id} was asked for by {actor.name}: "
                        "nobody approves their own")
    kind = StewardAction(req.action)
    if _fingerprint(conn, kind, req.payload) != req.fingerprint:
        raise Conflict(f"change request {request_id} is stale: the customers or the task "
                       "changed since it was asked for; reject it and ask again")
    maker = Actor(req.requested_by, actor.role)
    result = _apply(conn, kind, req.payload, maker, config_dir, reason=req.reason,
                    approved_by=actor.name, request_id=request_id)
    note = _reason(note)
    conn.execute(update(ChangeRequest).where(ChangeRequest.id == request_id).values(
        status=RequestStatus.APPROVED, decided_by=actor.name, decided_at=utcnow(),
        decision_note=note, result=result.as_dict()))
    audit(conn, actor, "change_approved", "change_request", request_id,
          before={"status": RequestStatus.PENDING},
          after={"status": RequestStatus.APPROVED, "result": result.as_dict()},
          requested_by=req.requested_by, note=note, task_id=req.task_id)
    return result


def reject(conn: Connection, request_id: int, *, actor: Actor, reason: str) -> None:
    """Reject a waiting change, with a reason (it never takes effect)."""
    require_role(actor, APPROVERS, "reject changes")
    reason_text = _reason(reason, required=True)
    req = _require_request(conn, request_id)
    if req.requested_by == actor.name:
        raise Forbidden(f"change request {request_id} is your own: withdraw it instead")
    conn.execute(update(ChangeRequest).where(ChangeRequest.id == request_id).values(
        status=RequestStatus.REJECTED, decided_by=actor.name, decided_at=utcnow(),
        decision_note=reason_text))
    audit(conn, actor, "change_rejected", "change_request", request_id,
          before={"status": RequestStatus.PENDING}, after={"status": RequestStatus.REJECTED},
          reason=reason_text, requested_by=req.requested_by, task_id=req.task_id)


def withdraw(conn: Connection, request_id: int, *, actor: Actor) -> None:
    """The steward who asked takes a waiting change back."""
    req = _require_request(conn, request_id)
    if req.requested_by != actor.name:
        raise Forbidden(f"change request {request_id} was asked for by {req.requested_by}")
    conn.execute(update(ChangeRequest).where(ChangeRequest.id == request_id).values(
        status=RequestStatus.WITHDRAWN, decided_by=actor.name, decided_at=utcnow()))
    audit(conn, actor, "change_withdrawn", "change_request", request_id,
          before={"status": RequestStatus.PENDING}, after={"status": RequestStatus.WITHDRAWN})


def _apply(conn: Connection, kind: StewardAction, payload: dict[str, Any], actor: Actor,
           config_dir: Path, *, reason: str | None, approved_by: str | None = None,
           request_id: int | None = None) -> ActionResult:
    common: dict[str, Any] = {"actor": actor, "config_dir": config_dir, "reason": reason,
                              "approved_by": approved_by, "request_id": request_id}
    if kind == StewardAction.MERGE:
        nos = _task_customers(conn, payload["task_id"], payload.get("records"))
        return customers.merge(conn, nos, task_id=payload["task_id"], **common)
    if kind == StewardAction.FORCE_MERGE:
        nos = [customers.lookup(conn, no).customer.customer_no for no in payload["customers"]]
        return customers.merge(conn, nos, **common)
    if kind == StewardAction.SPLIT:
        return customers.split(conn, payload["customer_no"], payload["records"], **common)
    if kind == StewardAction.ROLLBACK:
        return customers.rollback(conn, payload["event_id"], **common)
    return _not_duplicate(conn, payload["task_id"], **common)


def _not_duplicate(conn: Connection, task_id: int, *, actor: Actor, config_dir: Path,
                   reason: str | None, approved_by: str | None,
                   request_id: int | None) -> ActionResult:
    """The customers of a task are different people: a cannot-link between every
    record of each and every record of the others; the task closes."""
    members = tasks.task_customers(conn, task_id)
    groups = {str(no): sorted(g["record_key"]) for no, g in members.groupby("customer_no")}
    if len(groups) < 2:
        raise Conflict(f"review task {task_id}'s records belong to one customer already")
    pairs = []
    nos = sorted(groups)
    for i, a in enumerate(nos):
        for b in nos[i + 1:]:
            refuse_must_link_across(conn, groups[a], groups[b])
            pairs += [(x, y) for x in groups[a] for y in groups[b]]
    decisions = make_decisions(conn, Judgement.CANNOT_LINK, pairs, actor=actor, reason=reason,
                               approved_by=approved_by, task_id=task_id, request_id=request_id)
    tasks.close_task(conn, task_id, actor, reason or "not duplicate")
    return ActionResult(StewardAction.NOT_DUPLICATE, nos[0], [], decisions)
