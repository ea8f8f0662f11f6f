"""``ecif export links|tasks|changes``: CSV files exactly as CONTRACT.md §3, streamed."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from ecif.bulk import read_chunks
from matching.exceptions import ECIFError
from models.db import require_current_schema

__all__ = ["export_links", "export_tasks", "export_changes", "LINK_COLUMNS", "TASK_COLUMNS",
           "CHANGE_COLUMNS", "parse_since"]

LINK_COLUMNS = ("source_system", "source_customer_id", "customer_no", "link_type")
TASK_COLUMNS = ("task_id", "task_type", "status", "source_system", "source_customer_id",
                "customer_no")
CHANGE_COLUMNS = ("change_id", "changed_at", "change_type", "customer_no",
                  "related_customer_no", "run_id")


def _write(engine: Engine, out: Path, columns: tuple[str, ...], sql: str,
           params: dict[str, object] | None = None) -> int:
    require_current_schema(engine)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    tmp = out.with_name(out.name + ".tmp")
    with engine.connect() as conn, tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for chunk in read_chunks(conn, sql, 100_000, params):
            chunk = chunk.astype(object).where(chunk.notna(), "")
            writer.writerows(chunk[list(columns)].itertuples(index=False, name=None))
            rows += len(chunk)
    tmp.replace(out)
    return rows


def export_links(engine: Engine, out: Path) -> int:
    """One row per ingested source record; a record no batch has linked yet is
    ``pending`` with no customer number."""
    return _write(engine, out, LINK_COLUMNS, (
        "SELECT s.source_system, s.source_customer_id, l.customer_no, "
        "coalesce(l.link_type, 'pending') AS link_type FROM source_record s "
        "LEFT JOIN link l ON l.record_id = s.id ORDER BY s.source_system, s.source_customer_id"))


def export_tasks(engine: Engine, out: Path) -> int:
    """One row per record in an open review task, with its current customer number."""
    return _write(engine, out, TASK_COLUMNS, (
        "SELECT t.id AS task_id, t.task_type, t.status, s.source_system, "
        "s.source_customer_id, l.customer_no FROM review_task t "
        "JOIN task_member m ON m.task_id = t.id JOIN source_record s ON s.id = m.record_id "
        "LEFT JOIN link l ON l.record_id = s.id WHERE t.status = 'open' "
        "ORDER BY t.id, s.source_system, s.source_customer_id"))


def parse_since(value: str) -> datetime:
    """An ISO 8601 date or time, read as UTC when it carries no offset."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ECIFError(f"--since {value!r}: expected an ISO 8601 time such as "
                        "2026-12-01 or 2026-12-01T02:00:00+08:00") from exc
    if parsed.tzinfo is not None:
        from datetime import UTC

        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def export_changes(engine: Engine, out: Path, since: datetime) -> int:
    """Customer-number changes (merged_into / split_from) at or after ``since`` (UTC)."""
    return _write(engine, out, CHANGE_COLUMNS, (
        "SELECT id AS change_id, changed_at, change_type, customer_no, related_customer_no, "
        "run_id FROM customer_change WHERE changed_at >= :since ORDER BY id"),
        {"since": since})
