"""Stage 4: golden records by survivorship (config/survivorship.yaml) for every
customer this run touched, with a history row for each new version (客户信息回溯)."""

from __future__ import annotations

from typing import Any

from ecif.batch.context import BatchContext, fault_point
from ecif.services.golden import refresh_golden
from matching.vocabulary import BatchStage

__all__ = ["golden_stage"]


def golden_stage(ctx: BatchContext) -> dict[str, Any]:
    fault_point(BatchStage.GOLDEN, "start")
    with ctx.engine.begin() as conn:
        # two queries, not one with OR: the second walks the ingest_id index over the
        # night's records (an OR had the store scan every link joined to its record)
        touched = (f"SELECT l2.customer_no FROM link l2 WHERE l2.run_id = {int(ctx.run_id)} "
                   "UNION SELECT l2.customer_no FROM link l2 JOIN source_record s2 "
                   f"ON s2.id = l2.record_id WHERE {ctx.in_scope('s2')}")
        counts = refresh_golden(conn, touched, ctx.run_id, ctx.config_dir)
        ctx.complete(conn, BatchStage.GOLDEN, counts)
    return counts
