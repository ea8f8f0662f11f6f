"""Stage 3: apply the plan: customer numbers, links, tombstones, merge events
(through :func:`ecif.services.clusters.apply_clusters`, as every steward change)."""

from __future__ import annotations

from typing import Any

from ecif.batch.context import BatchContext, fault_point
from ecif.bulk import read_frame
from ecif.services.clusters import EventInfo, apply_clusters
from matching.vocabulary import BATCH_ACTOR, BatchStage

__all__ = ["merge_stage"]


def merge_stage(ctx: BatchContext) -> dict[str, Any]:
    fault_point(BatchStage.MERGE, "start")
    with ctx.engine.begin() as conn:
        plan = read_frame(conn, (
            "SELECT p.record_id, p.cluster, p.link_type, p.rule, p.model_version, "
            "s.record_key, s.customer_type, s.identity_key, l.customer_no AS prior_no, "
            "l.link_type AS old_link_type, l.identity_key AS old_identity, "
            "l.rule AS old_rule, l.model_version AS old_model_version "
            "FROM planned_link p JOIN source_record s ON s.id = p.record_id "
            "LEFT JOIN link l ON l.record_id = p.record_id WHERE p.run_id = :r"),
            {"r": ctx.run_id})
        applied = apply_clusters(conn, plan, ctx.run_id, info=EventInfo(BATCH_ACTOR))
        ctx.complete(conn, BatchStage.MERGE, applied.counts)
    return applied.counts
