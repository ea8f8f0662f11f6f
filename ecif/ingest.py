"""``ecif ingest``: load source records into the store (准入 + 入库).

Files (CSV in UTF-8, UTF-8 with BOM or GBK; Parquet) or a source database
table pulled incrementally by its ``updated_at`` watermark. One ingest run is
all or nothing: its rows are read in chunks, prepared by worker processes
(standardised by the same code as ``ecif standardise``; see
:mod:`ecif.ingest_prepare`) and upserted set-wise (:mod:`ecif.upsert`) inside
ONE transaction that commits with the run marked ``done``. A file that fails
anywhere (a byte that does not decode, a kill -9) leaves nothing behind, with
one worker or many; the run is marked ``failed`` (by the next ingest or
batch, after a kill). A newer ``updated_at`` (to the microsecond, in UTC)
replaces the stored version, which is kept in ``source_record_version``; an
older or identical resend is counted and ignored; a time beyond the
tolerance into the future is quarantined; a row that fails admission lands in
``exception_row`` with its reasons and the raw row.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection, Engine, MetaData, Table, select, text, update
from sqlalchemy.engine import make_url

from ecif.bulk import insert_rows, table_of
from ecif.faults import fault_point
from ecif.ingest_prepare import (
    IDENTITY_FIELDS,
    PrepareContext,
    PreparedChunk,
    future_limit,
    identity_keys,
    prepare_chunk,
)
from ecif.progress import Progress
from ecif.upsert import Stage, bulk_journal
from matching.config import DEFAULT_CONFIG_DIR, load_code_maps, load_yaml
from matching.exceptions import ConfigError, InputFileError
from matching.parallel import POOL_MIN_ROWS, map_ordered
from matching.sources import DEFAULT_CHUNK_ROWS, SourceChunk, read_source
from matching.standardise.columns import INPUT_COLUMNS
from matching.vocabulary import IngestStatus, RunStatus
from models.base import utcnow
from models.batch import BatchRun
from models.db import make_engine, require_current_schema
from models.lock import JobBusy, job_lock
from models.source_record import ExceptionRow, IngestRun, SourceWatermark

__all__ = ["IngestSummary", "ingest_files", "ingest_database", "std_version", "identity_keys",
           "IDENTITY_FIELDS", "close_dead_runs", "future_tolerance"]

log = logging.getLogger(__name__)

_DEFAULT_TOLERANCE = timedelta(hours=1)
_BYTES_PER_ROW = 170  # a contract row of the generated files, about


@dataclass
class IngestSummary:
    ingest_id: int = 0
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0  # the same version sent again
    stale: int = 0  # older than (or as old as, but different from) the stored version
    rejected: int = 0
    reject_counts: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {"read": self.read, "new": self.new, "updated": self.updated,
                "unchanged": self.unchanged, "stale": self.stale, "rejected": self.rejected,
                "reject_counts": dict(self.reject_counts)}


def std_version(config_dir: Path = DEFAULT_CONFIG_DIR) -> str:
    """Which code maps standardised a record: re-standardise when they change."""
    return hashlib.sha256((config_dir / "codes.yaml").read_bytes()).hexdigest()[:16]


def future_tolerance(config_dir: Path = DEFAULT_CONFIG_DIR) -> timedelta:
    """How far into the future an ``updated_at`` may lie (config/ingest.yaml)."""
    path = config_dir / "ingest.yaml"
    if not path.exists():
        return _DEFAULT_TOLERANCE
    minutes = (load_yaml(path) or {}).get("future_tolerance_minutes", 60)
    if not isinstance(minutes, int | float) or minutes < 0:
        raise ConfigError(f"{path}: future_tolerance_minutes must be a number of minutes "
                          f">= 0, not {minutes!r}")
    return timedelta(minutes=minutes)


def close_dead_runs(conn: Connection) -> int:
    """Mark ``failed`` the ingest runs left ``running`` by a process that died: the
    caller holds the job lock, so no such run is alive. Their rows never committed."""
    result = conn.execute(update(IngestRun).where(IngestRun.status == IngestStatus.RUNNING)
                          .values(status=IngestStatus.FAILED, finished_at=utcnow()))
    return int(result.rowcount or 0)


def ingest_files(engine: Engine, files: Iterable[Path], *, encoding: str = "utf-8",
                 config_dir: Path = DEFAULT_CONFIG_DIR, workers: int | None = None,
                 progress: Progress | None = None,
                 chunk_rows: int = DEFAULT_CHUNK_ROWS) -> IngestSummary:
    """Load ``files`` in one run: everything, or (on any error) nothing."""
    paths = list(files)
    for path in paths:
        if not path.exists():
            raise InputFileError(f"{path}: no such file")
    total = sum(p.stat().st_size for p in paths) or 1
    chunk_rows = _chunk_rows(total, workers, chunk_rows)

    def chunks() -> Iterator[tuple[str, SourceChunk]]:
        before = 0
        for path in paths:
            for chunk in read_source(path, encoding=encoding, chunk_rows=chunk_rows):
                chunk.position, chunk.size = before + chunk.position, total
                yield str(path), chunk
            before += path.stat().st_size

    with job_lock(engine, "ingest"):
        return _Run(engine, ", ".join(str(p) for p in paths), config_dir).load(
            chunks(), workers, progress)


def ingest_database(engine: Engine, source_url: str, table: str, *,
                    config_dir: Path = DEFAULT_CONFIG_DIR, workers: int | None = None,
                    progress: Progress | None = None,
                    chunk_rows: int = DEFAULT_CHUNK_ROWS) -> IngestSummary:
    """Pull rows of ``table`` (contract §1 columns) changed since the last pull
    (按时间戳增量抽取), in ``updated_at`` order; the watermark moves with the run."""
    source_key = f"{_safe_url(source_url)}#{table}"
    with job_lock(engine, "ingest"):
        with engine.connect() as conn:
            mark = conn.execute(select(SourceWatermark.updated_at)
                                .where(SourceWatermark.source == source_key)).scalar()
        src = make_engine(source_url)
        try:
            chunks = ((source_key, c) for c in _pull_chunks(src, table, mark or "", chunk_rows))
            return _Run(engine, source_key, config_dir).load(chunks, workers, progress,
                                                             watermark=source_key)
        finally:
            src.dispose()


def _chunk_rows(size: int, workers: int | None, most: int) -> int:
    """Rows per chunk: a small night (one chunk's worth) is cut so that every worker
    gets a part, never below the size from which a pool pays."""
    workers = workers or os.cpu_count() or 1
    rows = size // _BYTES_PER_ROW
    if workers <= 1 or rows >= most * workers:
        return most
    return max(POOL_MIN_ROWS, min(most, -(-rows // workers)))


def _safe_url(url: str) -> str:
    """The URL as it may be stored and shown: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def _pull_chunks(src: Engine, table: str, since: str, chunk_rows: int) -> Iterator[SourceChunk]:
    try:
        source = Table(table, MetaData(), autoload_with=src)
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise InputFileError(f"source table {table!r} at {_safe_url(str(src.url))}: cannot "
                             f"be read: {reason[0] if reason else type(exc).__name__}") from exc
    missing = [c for c in ("source_system", "source_customer_id", "customer_type", "name",
                           "updated_at") if c not in source.c]
    if missing:
        raise InputFileError(f"source table {table!r}: missing column(s) {', '.join(missing)}")
    cols = [source.c[c] for c in INPUT_COLUMNS if c in source.c]
    query = select(*cols).where(source.c.updated_at > since).order_by(source.c.updated_at)
    done = 0
    with src.connect() as conn:
        result = conn.execute(query.execution_options(stream_results=True))
        names = list(result.keys())
        for part in result.partitions(chunk_rows):
            frame = pd.DataFrame.from_records(part, columns=names)
            frame = frame.astype(object).where(frame.notna(), "").astype(str)
            for c in INPUT_COLUMNS:
                if c not in frame.columns:
                    frame[c] = ""
            rows = np.arange(done + 1, done + 1 + len(frame), dtype=np.int64)
            done += len(frame)
            yield SourceChunk(pa.Table.from_pandas(frame, preserve_index=False), rows)


def _rows(item: tuple[str, SourceChunk]) -> int:
    return len(item[1])


class _Run:
    """One ingest run: a ``running`` row first, then every chunk in one transaction."""

    def __init__(self, engine: Engine, source: str, config_dir: Path) -> None:
        require_current_schema(engine)
        self.engine = engine
        self.source = source
        self.config_dir = config_dir
        self.summary = IngestSummary()

    def load(self, chunks: Iterable[tuple[str, SourceChunk]], workers: int | None,
             progress: Progress | None, watermark: str | None = None) -> IngestSummary:
        with self.engine.begin() as conn:
            dead = close_dead_runs(conn)
            if dead:
                log.warning("marked %d ingest run(s) left running by a dead process as failed",
                            dead)
            _no_unfinished_batch(conn)
            now = utcnow()
            run_id = conn.execute(table_of(IngestRun).insert().values(
                source=self.source, status=IngestStatus.RUNNING, started_at=now,
                counts={})).inserted_primary_key
        assert run_id is not None
        self.summary.ingest_id = int(run_id[0])
        if progress:
            progress("ingest", 0, 0.0)
        try:
            self._load(chunks, workers, progress, watermark)
        except BaseException as exc:
            self._failed(exc)
            raise
        return self.summary

    def _load(self, chunks: Iterable[tuple[str, SourceChunk]], workers: int | None,
              progress: Progress | None, watermark: str | None) -> None:
        s = self.summary
        with self.engine.connect() as conn, bulk_journal(conn), conn.begin():
            context = PrepareContext(
                load_code_maps(self.config_dir),
                future_limit(utcnow(), future_tolerance(self.config_dir)),
                copy_csv=conn.dialect.name == "postgresql")
            stage = Stage(conn, s.ingest_id, std_version(self.config_dir), utcnow())
            stage.defer_indexes()
            newest: str | None = None
            prepared = map_ordered(partial(prepare_chunk, context), chunks, workers=workers,
                                   preload=["ecif.ingest_prepare", "matching.standardise.warm",
                                            "adbc_driver_sqlite.dbapi"],
                                   rows=_rows)
            with closing(prepared) as results:
                for chunk in results:
                    self._chunk(conn, stage, chunk, progress)
                    if chunk.newest_updated_at and (newest is None
                                                    or chunk.newest_updated_at > newest):
                        newest = chunk.newest_updated_at
            stage.finish()
            if watermark and newest:
                _move_watermark(conn, watermark, newest)
            conn.execute(update(IngestRun).where(IngestRun.id == s.ingest_id).values(
                status=IngestStatus.DONE, finished_at=utcnow(),
                counts=s.as_dict()))
            fault_point("ingest", "commit")

    def _chunk(self, conn: Connection, stage: Stage, chunk: PreparedChunk,
               progress: Progress | None) -> None:
        s = self.summary
        self._exceptions(conn, chunk)
        counts = stage.load(chunk)
        s.read += chunk.read
        s.new += counts.new
        s.updated += counts.updated
        s.unchanged += counts.unchanged
        s.stale += counts.stale + chunk.stale
        if progress:
            progress("ingest", s.read,
                     chunk.position / chunk.size if chunk.size else None)
        fault_point("ingest", "chunk")

    def _exceptions(self, conn: Connection, chunk: PreparedChunk) -> None:
        bad = chunk.exceptions
        if bad.empty:
            return
        insert_rows(conn, table_of(ExceptionRow), bad.assign(
            ingest_id=self.summary.ingest_id, source_file=chunk.name, created_at=utcnow()))
        self.summary.rejected += len(bad)
        self.summary.reject_counts.update(chunk.reject_counts)

    def _failed(self, exc: BaseException) -> None:
        """The run's transaction rolled back: say so on its row."""
        reason = f"{type(exc).__name__}: {exc}"[:1000]
        try:
            with self.engine.begin() as conn:
                conn.execute(update(IngestRun).where(IngestRun.id == self.summary.ingest_id)
                             .values(status=IngestStatus.FAILED, finished_at=utcnow(),
                                     counts={"error": reason}))
        except Exception:  # the database itself is gone: the next run closes it
            log.exception("could not mark ingest run %d failed", self.summary.ingest_id)


def _no_unfinished_batch(conn: Connection) -> None:
    """A batch run that crashed works on the records as they were: finish it first."""
    run = conn.execute(select(BatchRun.id).where(BatchRun.status == RunStatus.RUNNING)).scalar()
    if run is not None:
        raise JobBusy(f"batch run {run} did not finish; run `ecif batch` to finish it "
                      "before ingesting more")


def _move_watermark(conn: Connection, source: str, newest: str) -> None:
    updated = conn.execute(
        text("UPDATE source_watermark SET updated_at = :u, pulled_at = :t "
             "WHERE source = :s AND updated_at < :u"),
        {"u": newest, "t": utcnow(), "s": source})
    if updated.rowcount == 0:
        exists = conn.execute(
            select(SourceWatermark.source).where(SourceWatermark.source == source)).first()
        if exists is None:
            insert_rows(conn, table_of(SourceWatermark),
                        [{"source": source, "updated_at": newest, "pulled_at": utcnow()}])
