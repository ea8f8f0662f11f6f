"""Stage 6: the change feed (回写) from this run's merge events; the run's plan is
dropped."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, delete, select

from ecif.batch.context import BatchContext, fault_point
from ecif.bulk import insert_rows, read_frame, table_of
from models.batch import PlannedLink, PlannedTask
from models.event import CustomerChange, MergeEvent

__all__ = ["changes_stage", "feed_rows"]


def feed_rows(event_id: int, customer_no: str, before: dict[str, list[str]],
              after: dict[str, list[str]], run_id: int | None, at: Any) -> list[dict[str, Any]]:
    """Customer-number changes an event implies: a number holding records before and
    none after is merged into the event's customer; a number holding records after
    and none before was split from the earlier number that gave it most records."""
    rows = []
    for old, keys in sorted(before.items()):
        if keys and not after.get(old):
            target = max(after, key=lambda n: (len(set(after[n]) & set(keys)), n == customer_no))
            rows.append({"change_type": "merged_into", "customer_no": old,
                         "related_customer_no": target})
    for new, keys in sorted(after.items()):
        if keys and not before.get(new):
            source = max(before, key=lambda n: (len(set(before[n]) & set(keys)), n)) \
                if before else None
            if source:
                rows.append({"change_type": "split_from", "customer_no": new,
                             "related_customer_no": source})
    return [{**r, "event_id": event_id, "run_id": run_id, "changed_at": at} for r in rows]


def write_feed(conn: Connection, events: list[dict[str, Any]]) -> int:
    rows: list[dict[str, Any]] = []
    for e in events:
        at = e["created_at"]
        rows += feed_rows(int(e["id"]), str(e["customer_no"]), json.loads(e["before"]),
                          json.loads(e["after"]), e["run_id"],
                          at.to_pydatetime() if hasattr(at, "to_pydatetime") else at)
    insert_rows(conn, table_of(CustomerChange), rows)
    return len(rows)


def changes_stage(ctx: BatchContext) -> dict[str, Any]:
    fault_point("changes", "start")
    with ctx.engine.begin() as conn:
        events = read_frame(conn, select(
            MergeEvent.id, MergeEvent.customer_no, MergeEvent.before, MergeEvent.after,
            MergeEvent.run_id, MergeEvent.created_at,
        ).where(MergeEvent.run_id == ctx.run_id).order_by(MergeEvent.id))
        n = write_feed(conn, events.to_dict("records"))  # type: ignore[arg-type]
        # the plan has served (merge events keep membership before and after)
        for model in (PlannedLink, PlannedTask):
            conn.execute(delete(model).where(model.run_id == ctx.run_id))
        counts = {"changes": n}
        ctx.complete(conn, "changes", counts)
    return counts
