"""Stage 3: apply the plan: customer numbers, links, tombstones, merge events
(through :func:`ecif.services.clusters.apply_clusters`, as every steward change)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from ecif.batch.context import BatchContext, fault_point
from ecif.services.clusters import EventInfo, apply_clusters
from ecif.snapshot import read_columnar
from matching.vocabulary import BATCH_ACTOR, BatchStage

__all__ = ["merge_stage"]


def merge_stage(ctx: BatchContext) -> dict[str, Any]:
    fault_point(BatchStage.MERGE, "start")
    with ctx.engine.begin() as conn:
        # the plan the match stage committed, read columnar (a first night: every record)
        nullable = {"p.rule": "rule", "p.model_version": "model_version",
                    "l.customer_no": "prior_no", "l.link_type": "old_link_type",
                    "l.identity_key": "old_identity", "l.rule": "old_rule",
                    "l.model_version": "old_model_version"}
        planned = conn.execute(text("SELECT count(*) FROM planned_link WHERE run_id = :r"),
                               {"r": ctx.run_id}).scalar_one()
        plan = read_columnar(conn, (
            "SELECT p.record_id, p.cluster, p.link_type, "
            "s.record_key, s.customer_type, s.identity_key, "
            + ", ".join(f"coalesce({c}, '') AS {name}" for c, name in nullable.items())
            + " FROM planned_link p JOIN source_record s ON s.id = p.record_id "
            f"LEFT JOIN link l ON l.record_id = p.record_id WHERE p.run_id = {int(ctx.run_id)}"),
            empty_is_null=tuple(nullable.values()), expected_rows=int(planned))
        applied = apply_clusters(conn, plan, ctx.run_id, info=EventInfo(BATCH_ACTOR))
        ctx.complete(conn, BatchStage.MERGE, applied.counts)
    return applied.counts
