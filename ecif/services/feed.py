"""The change feed (回写): customer-number changes that downstream systems follow,
derived from merge events (the batch's and the stewards' alike)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from ecif.bulk import insert_rows, read_frame, table_of
from matching.vocabulary import ChangeType
from models.event import CustomerChange, MergeEvent

__all__ = ["feed_rows", "write_feed", "write_feed_for_events"]


def feed_rows(event_id: int, customer_no: str, before: dict[str, list[str]],
              after: dict[str, list[str]], run_id: int | None, at: Any) -> list[dict[str, Any]]:
    """Customer-number changes an event implies: a number holding records before and
    none after is merged into the customer that took most of its records; a
    number holding records after and none before was split from the earlier
    number that gave it most records."""
    rows = []
    for old, keys in sorted(before.items()):
        if keys and not after.get(old):
            target = max(after, key=lambda n: (len(set(after[n]) & set(keys)), n == customer_no))
            rows.append({"change_type": ChangeType.MERGED_INTO, "customer_no": old,
                         "related_customer_no": target})
    for new, keys in sorted(after.items()):
        if keys and not before.get(new):
            source = max(before, key=lambda n: (len(set(before[n]) & set(keys)), n)) \
                if before else None
            if source:
                rows.append({"change_type": ChangeType.SPLIT_FROM, "customer_no": new,
                             "related_customer_no": source})
    return [{**r, "event_id": event_id, "run_id": run_id, "changed_at": at} for r in rows]


def write_feed(conn: Connection, events: Sequence[dict[str, Any]]) -> int:
    """Feed rows for ``events`` (id, customer_no, before, after, run_id, created_at)."""
    rows: list[dict[str, Any]] = []
    for e in events:
        at = e["created_at"]
        rows += feed_rows(int(e["id"]), str(e["customer_no"]), e["before"], e["after"],
                          e["run_id"], at.to_pydatetime() if hasattr(at, "to_pydatetime") else at)
    insert_rows(conn, table_of(CustomerChange), rows)
    return len(rows)


def write_feed_for_events(conn: Connection, where: Any) -> int:
    """Feed rows for the merge events a condition on ``MergeEvent`` selects."""
    events = read_frame(conn, select(
        MergeEvent.id, MergeEvent.customer_no, MergeEvent.before, MergeEvent.after,
        MergeEvent.run_id, MergeEvent.created_at,
    ).where(where).order_by(MergeEvent.id))
    return write_feed(conn, events.to_dict("records"))  # type: ignore[arg-type]
