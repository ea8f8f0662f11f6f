"""``ecif export links|tasks|changes|audit``: CSV files exactly as CONTRACT.md §3,
streamed.

A regular file is written whole or not at all (a temporary file renamed over
it); a device (``/dev/stdout``) or a pipe is written in place; a symbolic link
is followed and stays a link (its target is written), never replaced by a
regular file.
"""

from __future__ import annotations

import csv
import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, select

from ecif.bulk import read_chunks
from matching.exceptions import BadInput
from matching.vocabulary import PENDING_LINK, TaskStatus
from models.auth import AuditLog
from models.db import require_current_schema

__all__ = ["export_links", "export_tasks", "export_changes", "export_audit", "LINK_COLUMNS",
           "TASK_COLUMNS", "CHANGE_COLUMNS", "AUDIT_COLUMNS", "parse_since", "open_output"]

LINK_COLUMNS = ("source_system", "source_customer_id", "customer_no", "link_type")
TASK_COLUMNS = ("task_id", "task_type", "status", "source_system", "source_customer_id",
                "customer_no")
CHANGE_COLUMNS = ("change_id", "changed_at", "change_type", "customer_no",
                  "related_customer_no", "run_id")
AUDIT_COLUMNS = ("audit_id", "at", "actor", "action", "object_type", "object_id", "before",
                 "after", "detail")


@contextmanager
def open_output(out: Path) -> Iterator[IO[str]]:
    """A text stream onto ``out``: a regular file appears whole or not at all, a
    device or pipe is written in place, a symbolic link's target is written."""
    if not str(out).strip():
        raise BadInput("--out: an empty path names no file", {"out": "empty"})
    if out.is_symlink():
        out = out.resolve()
    try:
        mode = out.stat().st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise BadInput(f"--out {out}: a directory; name a file", {"out": "directory"})
    if mode is not None and not stat.S_ISREG(mode):  # a device, a pipe: write in place
        with out.open("w", encoding="utf-8", newline="") as fh:
            yield fh
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            yield fh
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


def _write(engine: Engine, out: Path, columns: tuple[str, ...], sql: Any,
           params: dict[str, object] | None = None) -> int:
    require_current_schema(engine)
    rows = 0
    with engine.connect() as conn, open_output(out) as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for chunk in read_chunks(conn, sql, 100_000, params):
            chunk = chunk.astype(object).where(chunk.notna(), "")
            writer.writerows(chunk[list(columns)].itertuples(index=False, name=None))
            rows += len(chunk)
    return rows


def export_links(engine: Engine, out: Path) -> int:
    """One row per ingested source record; a record no batch has linked yet is
    ``pending`` with no customer number."""
    return _write(engine, out, LINK_COLUMNS, (
        "SELECT s.source_system, s.source_customer_id, l.customer_no, "
        f"coalesce(l.link_type, '{PENDING_LINK}') AS link_type FROM source_record s "
        "LEFT JOIN link l ON l.record_id = s.id ORDER BY s.source_system, s.source_customer_id"))


def export_tasks(engine: Engine, out: Path) -> int:
    """One row per record in an open review task, with its current customer number."""
    return _write(engine, out, TASK_COLUMNS, (
        "SELECT t.id AS task_id, t.task_type, t.status, s.source_system, "
        "s.source_customer_id, l.customer_no FROM review_task t "
        "JOIN task_member m ON m.task_id = t.id JOIN source_record s ON s.id = m.record_id "
        "LEFT JOIN link l ON l.record_id = s.id WHERE t.status = :task_status "
        "ORDER BY t.id, s.source_system, s.source_customer_id"), {"task_status": TaskStatus.OPEN})


def parse_since(value: str) -> datetime:
    """An ISO 8601 date or time, read as UTC when it carries no offset."""
    example = "expected an ISO 8601 time such as 2026-12-01 or 2026-12-01T02:00:00+08:00"
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadInput(f"--since {value!r}: {example}", {"since": "not a time"}) from exc
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        except OverflowError as exc:
            raise BadInput(f"--since {value!r}: out of range in UTC; {example}",
                           {"since": "out of range"}) from exc
    return parsed


def export_changes(engine: Engine, out: Path, since: datetime) -> int:
    """Customer-number changes (merged_into / split_from) at or after ``since`` (UTC)."""
    return _write(engine, out, CHANGE_COLUMNS, (
        "SELECT id AS change_id, changed_at, change_type, customer_no, related_customer_no, "
        "run_id FROM customer_change WHERE changed_at >= :since ORDER BY id"),
        {"since": since})


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           sort_keys=True, default=str)


def export_audit(engine: Engine, out: Path, since: datetime) -> int:
    """Audit rows (who, when, what, before, after) at or after ``since`` (UTC)."""
    require_current_schema(engine)
    query = (select(AuditLog.id, AuditLog.at, AuditLog.actor, AuditLog.action,
                    AuditLog.object_type, AuditLog.object_id, AuditLog.before,
                    AuditLog.after, AuditLog.detail)
             .where(AuditLog.at >= since).order_by(AuditLog.id))
    rows = 0
    with engine.connect() as conn, open_output(out) as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(AUDIT_COLUMNS)
        result = conn.execute(query.execution_options(stream_results=True, yield_per=10_000))
        for r in result:
            writer.writerow([r.id, r.at.isoformat(sep=" "), r.actor, r.action, r.object_type,
                             r.object_id, _text(r.before), _text(r.after), _text(r.detail)])
            rows += 1
    return rows
