"""The nightly batch: a run record (batch_run), then each stage in order.

Each stage writes its data and marks itself done in one transaction, so a
crash (kill -9 included) loses at most the stage in progress; ``ecif batch``
again resumes the unfinished run at that stage and reaches the same end
state. A second batch (or an ingest) while one runs is refused by the job lock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from ecif.batch.changes_stage import changes_stage
from ecif.batch.context import BatchContext
from ecif.batch.golden_stage import golden_stage
from ecif.batch.match_stage import match_stage
from ecif.batch.merge_stage import merge_stage
from ecif.batch.standardise_stage import standardise_stage
from ecif.batch.tasks_stage import tasks_stage
from ecif.ingest import close_dead_runs
from ecif.invariants import check_invariants
from matching.engine.config import EngineConfig
from matching.exceptions import ECIFError
from matching.vocabulary import BatchStage, RunStatus
from models.base import utcnow
from models.batch import STAGES, BatchRun
from models.db import require_current_schema
from models.lock import job_lock
from models.source_record import IngestRun

if TYPE_CHECKING:
    from matching.engine.spark import SparkSettings

__all__ = ["run_batch", "BatchSummary"]

log = logging.getLogger(__name__)

_STAGES: dict[str, Callable[[BatchContext], dict[str, Any]]] = {
    BatchStage.STANDARDISE: standardise_stage, BatchStage.MATCH: match_stage,
    BatchStage.MERGE: merge_stage, BatchStage.GOLDEN: golden_stage,
    BatchStage.TASKS: tasks_stage, BatchStage.CHANGES: changes_stage,
}
assert tuple(_STAGES) == STAGES


@dataclass
class BatchSummary:
    run_id: int
    resumed_from: str | None  # the last stage done before a crash ("start": none), if resumed
    records_in_scope: int
    counts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def _start_or_resume(engine: Engine) -> tuple[BatchRun, bool]:
    with Session(engine, expire_on_commit=False) as session:
        run = session.scalars(select(BatchRun).where(BatchRun.status == RunStatus.RUNNING)
                              .order_by(BatchRun.id.desc())).first()
        if run is not None:
            run.attempts += 1
            session.commit()
            return run, True
        last = session.scalar(select(func.max(BatchRun.watermark_to))
                              .where(BatchRun.status == RunStatus.DONE)) or 0
        newest = session.scalar(select(func.max(IngestRun.id))) or 0
        run = BatchRun(status=RunStatus.RUNNING, stage=None, watermark_from=last,
                       watermark_to=newest, started_at=utcnow(), attempts=1, counts={},
                       timings={}, model_versions={})
        session.add(run)
        session.commit()
        return run, False


#: The store's tables with more pages than their visibility map marked all-visible
#: when VACUUM or ANALYZE last looked (empty and untouched tables are left alone).
_NOT_ALL_VISIBLE = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind = 'r'
  AND pg_relation_size(c.oid)
      > c.relallvisible::bigint * current_setting('block_size')::bigint
ORDER BY c.relname
"""


def _vacuum(engine: Engine, ctx: BatchContext) -> None:
    """PostgreSQL, after a run is done: VACUUM the store's tables, so that the day's
    API traffic does not pay for the night. A night rewrites most of ``customer``
    (every golden record of a first night is updated once), replaces the review
    tasks and prunes the scored pairs; left to autovacuum (off on some servers,
    minutes late on others) the first reads of the day skip dead rows, set hint
    bits and cannot use index-only scans. Only tables with pages not all-visible
    by their last count (a stage ANALYZEs what it changed a lot, which counts
    them) are vacuumed. A failure here leaves a finished run finished."""
    started = time.perf_counter()
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            tables = [str(t) for (t,) in conn.exec_driver_sql(_NOT_ALL_VISIBLE).all()]
            for table in tables:
                conn.exec_driver_sql(f'VACUUM "{table}"')
    except Exception:
        log.warning("VACUUM after batch run %d failed (the run is done; autovacuum or "
                    "the next batch will catch up)", ctx.run_id, exc_info=True)
        return
    ctx.say(f"vacuum: {len(tables)} tables in {time.perf_counter() - started:.1f}s")


def run_batch(engine: Engine, config: EngineConfig, *, config_dir: Path,
              workers: int | None = None,
              progress: Callable[[str], None] | None = None,
              spark: SparkSettings | None = None) -> BatchSummary:
    with job_lock(engine, "batch"):
        require_current_schema(engine)
        with engine.begin() as conn:  # an ingest killed before: nothing of it committed
            close_dead_runs(conn)
        run, resumed = _start_or_resume(engine)
        ctx = BatchContext(engine, run.id, run.watermark_from, run.watermark_to, config_dir,
                           config, workers, progress, spark)
        start = STAGES.index(run.stage) + 1 if run.stage else 0
        if resumed:
            ctx.say(f"resuming run {run.id} after stage {run.stage or '(none)'}")
        for stage in STAGES[start:]:
            ctx.say(f"stage {stage}")
            _STAGES[stage](ctx)
        with engine.begin() as conn:
            problems = check_invariants(conn, run.watermark_to)
            row = conn.execute(select(BatchRun.counts, BatchRun.timings)
                               .where(BatchRun.id == run.id)).one()
            counts = dict(row.counts)
            counts["invariant_violations"] = len(problems)
            conn.execute(update(BatchRun).where(BatchRun.id == run.id).values(
                status=RunStatus.FAILED if problems else RunStatus.DONE, finished_at=utcnow(),
                counts=counts))
        if problems:
            raise ECIFError(f"batch run {run.id} broke the store's invariants: "
                            + "; ".join(problems))
        if engine.dialect.name == "postgresql":
            _vacuum(engine, ctx)
        return BatchSummary(run.id, (run.stage or "start") if resumed else None,
                            int(counts.get("match.records_in_scope", 0)), counts,
                            dict(row.timings))
