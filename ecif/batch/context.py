"""What every stage of one batch run shares, and how a stage records itself."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, select, update

from ecif.faults import FAULT_ENV, fault_point
from matching.engine.config import EngineConfig
from models.batch import BatchRun

if TYPE_CHECKING:
    from matching.engine.spark import SparkSettings

__all__ = ["BatchContext", "fault_point", "FAULT_ENV"]


def _cpu_seconds() -> float:
    """Processor time of this process and its waited-for children (the SQLite reader)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass
class BatchContext:
    engine: Engine
    run_id: int
    watermark_from: int
    watermark_to: int
    config_dir: Path
    config: EngineConfig
    workers: int | None = None
    progress: Callable[[str], None] | None = None
    #: the match stage's engine: None for DuckDB, else Spark (matching.engine.spark)
    spark: SparkSettings | None = None
    started: float = field(default_factory=time.perf_counter)
    cpu_started: float = field(default_factory=_cpu_seconds)

    def say(self, message: str) -> None:
        if self.progress:
            self.progress(message)

    def in_scope(self, alias: str = "") -> str:
        """SQL condition: the source record was ingested or changed since the last run."""
        col = f"{alias}.ingest_id" if alias else "ingest_id"
        return f"{col} > {int(self.watermark_from)} AND {col} <= {int(self.watermark_to)}"

    def complete(self, conn: Connection, stage: str, counts: dict[str, Any]) -> None:
        """Mark ``stage`` done, in the stage's own transaction, with its counts and time."""
        row = conn.execute(select(BatchRun.counts, BatchRun.timings)
                           .where(BatchRun.id == self.run_id)).one()
        all_counts = dict(row.counts)
        all_counts.update({f"{stage}.{k}": v for k, v in counts.items()})
        # processor time of this process and its children (the SQLite reader), less
        # sensitive to other work on the machine than the wall-clock timings
        all_counts[f"{stage}.cpu_seconds"] = round(_cpu_seconds() - self.cpu_started, 2)
        timings = dict(row.timings)
        timings[stage] = round(time.perf_counter() - self.started, 2)
        if conn.dialect.name == "postgresql":  # the stage may have grown tables a lot
            _analyze_changed(conn)
        conn.execute(update(BatchRun).where(BatchRun.id == self.run_id).values(
            stage=stage, counts=all_counts, timings=timings))
        fault_point(stage, "commit")
        self.started = time.perf_counter()
        self.cpu_started = _cpu_seconds()


#: Tables whose rows changed (this transaction and since their last ANALYZE) by more
#: than autovacuum's default analyze threshold: 50 rows + 10% of the table.
_CHANGED_TABLES = """
SELECT t.relname FROM pg_stat_user_tables t
JOIN pg_stat_xact_user_tables x ON x.relid = t.relid
WHERE t.schemaname = current_schema()
  AND t.n_mod_since_analyze + x.n_tup_ins + x.n_tup_upd + x.n_tup_del
      > 50 + 0.1 * t.n_live_tup
ORDER BY t.relname
"""


def _analyze_changed(conn: Connection) -> None:
    """ANALYZE (PostgreSQL) the tables the stage, or an ingest before it, changed as
    much as would make autovacuum analyze them: their statistics are right for the
    next stage's plans at once. An ANALYZE of the whole database after every stage
    cost seconds a stage on a store of any size, for tables a night hardly changes."""
    for (name,) in conn.exec_driver_sql(_CHANGED_TABLES).all():
        conn.exec_driver_sql(f'ANALYZE "{name}"')
