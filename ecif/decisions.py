"""Steward decisions as service functions (the review app and tests call these):
append-only rows, an audit entry for each, never edited in place."""

from __future__ import annotations

import json

from sqlalchemy import Connection, select, update

from ecif.bulk import table_of
from matching.exceptions import ECIFError
from models.auth import AuditLog
from models.base import utcnow
from models.decision import CANNOT_LINK, MUST_LINK, Decision

__all__ = ["add_decision", "withdraw_decision"]


def add_decision(conn: Connection, judgement: str, left: str, right: str, *, by: str,
                 scope: str = "record", reason: str | None = None,
                 approved_by: str | None = None, task_id: int | None = None) -> int:
    """Record that two records (or customers) are, or are not, one customer. The
    next batch obeys it; a live decision on the same pair is superseded."""
    if judgement not in (MUST_LINK, CANNOT_LINK):
        raise ECIFError(f"judgement {judgement!r}: expected {MUST_LINK} or {CANNOT_LINK}")
    if scope not in ("record", "customer"):
        raise ECIFError(f"scope {scope!r}: expected record or customer")
    if left == right:
        raise ECIFError(f"a decision needs two different {scope}s, got {left!r} twice")
    left, right = sorted((left, right))
    now = utcnow()
    new_id = conn.execute(table_of(Decision).insert().values(
        judgement=judgement, scope=scope, left_key=left, right_key=right, reason=reason,
        task_id=task_id, created_by=by, approved_by=approved_by, created_at=now,
    )).inserted_primary_key
    assert new_id is not None
    old = conn.execute(select(Decision.id).where(
        Decision.left_key == left, Decision.right_key == right, Decision.scope == scope,
        Decision.deleted_at.is_(None), Decision.id != new_id[0])).scalars().all()
    if old:
        conn.execute(update(Decision).where(Decision.id.in_(old)).values(
            deleted_at=now, deleted_by=by, superseded_by=new_id[0]))
    _audit(conn, by, f"decision_{judgement}", str(new_id[0]),
           {"left": left, "right": right, "scope": scope, "reason": reason,
            "superseded": list(old)})
    return int(new_id[0])


def withdraw_decision(conn: Connection, decision_id: int, *, by: str) -> None:
    done = conn.execute(update(Decision).where(Decision.id == decision_id,
                                               Decision.deleted_at.is_(None))
                        .values(deleted_at=utcnow(), deleted_by=by))
    if done.rowcount != 1:
        raise ECIFError(f"decision {decision_id}: no such live decision")
    _audit(conn, by, "decision_withdrawn", str(decision_id), {})


def _audit(conn: Connection, actor: str, action: str, object_id: str,
           detail: dict[str, object]) -> None:
    conn.execute(table_of(AuditLog).insert().values(
        at=utcnow(), actor=actor, action=action, object_type="decision", object_id=object_id,
        detail=json.dumps(detail, ensure_ascii=False)))
