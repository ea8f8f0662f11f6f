"""Stage 6: the change feed (回写) from this run's merge events; retention of
scored pairs; the run's plan is dropped."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from ecif.batch.context import BatchContext, fault_point
from ecif.services.feed import write_feed_for_events
from ecif.services.retention import prune_pairs
from matching.vocabulary import BatchStage
from models.batch import PlannedLink, PlannedTask
from models.event import MergeEvent

__all__ = ["changes_stage"]


def changes_stage(ctx: BatchContext) -> dict[str, Any]:
    fault_point(BatchStage.CHANGES, "start")
    with ctx.engine.begin() as conn:
        n = write_feed_for_events(conn, MergeEvent.run_id == ctx.run_id)
        pruned = prune_pairs(conn, ctx.run_id)
        # the plan has served (merge events keep membership before and after)
        for model in (PlannedLink, PlannedTask):
            conn.execute(delete(model).where(model.run_id == ctx.run_id))
        counts = {"changes": n, "pairs_pruned": pruned}
        ctx.complete(conn, BatchStage.CHANGES, counts)
    return counts
