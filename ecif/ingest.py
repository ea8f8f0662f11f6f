"""``ecif ingest``: load source records into the store (准入 + 入库).

Files (CSV in UTF-8, UTF-8 with BOM or GBK; Parquet) or a source database
table pulled incrementally by its ``updated_at`` watermark. Each chunk is
standardised (the same code as ``ecif standardise``) and upserted by source
key in one transaction: a newer ``updated_at`` replaces the stored version
(kept in ``source_record_version``), an older or identical resend is counted
and ignored, and a row that fails admission lands in ``exception_row`` with
its reasons and the raw row. Re-running an interrupted ingest is safe.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, MetaData, Table, Text, select, text, type_coerce
from sqlalchemy.engine import make_url

from ecif.bulk import analyze, in_batches, insert_rows, read_frame, table_of, update_rows, utc_key
from matching.config import DEFAULT_CONFIG_DIR, CodeMaps, load_code_maps
from matching.exceptions import InputFileError
from matching.sources import read_source_chunks
from matching.standardise.batch import StandardisedChunk, standardise_chunks
from matching.standardise.columns import INPUT_COLUMNS
from matching.vocabulary import IngestStatus, RunStatus
from models.base import utcnow
from models.batch import BatchRun
from models.db import make_engine, require_current_schema
from models.lock import JobBusy, job_lock
from models.source_record import (
    STD_FIELDS,
    ExceptionRow,
    IngestRun,
    SourceRecord,
    SourceRecordVersion,
    SourceWatermark,
)

__all__ = ["IngestSummary", "ingest_files", "ingest_database", "std_version", "identity_keys",
           "IDENTITY_FIELDS"]

log = logging.getLogger(__name__)

#: An update that changes one of these re-opens the record's match.
IDENTITY_FIELDS = ("customer_type", "name_plain", "gender", "birth_date", "id_type",
                   "id_cleaned", "org_core", "org_code", "org_branch")
_CHUNK_ROWS = 100_000
Progress = Callable[[str, int], None]


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


def identity_keys(frame: pd.DataFrame) -> pd.Series:
    """A stable hash of each row's identity fields."""
    hashed = pd.util.hash_pandas_object(frame[list(IDENTITY_FIELDS)].fillna(""), index=False)
    return hashed.map(lambda h: f"{h:016x}")


def ingest_files(engine: Engine, files: Iterable[Path], *, encoding: str = "utf-8",
                 config_dir: Path = DEFAULT_CONFIG_DIR, workers: int | None = None,
                 progress: Progress | None = None) -> IngestSummary:
    paths = list(files)
    for path in paths:
        if not path.exists():
            raise InputFileError(f"{path}: no such file")
    with job_lock(engine, "ingest"):
        require_current_schema(engine)
        loader = _Loader(engine, ", ".join(str(p) for p in paths), config_dir)
        for path in paths:
            chunks = read_source_chunks(path, encoding=encoding, chunk_rows=_CHUNK_ROWS)
            loader.load(chunks, str(path), workers, progress)
        return loader.finish()


def ingest_database(engine: Engine, source_url: str, table: str, *,
                    config_dir: Path = DEFAULT_CONFIG_DIR, workers: int | None = None,
                    progress: Progress | None = None) -> IngestSummary:
    """Pull rows of ``table`` (contract §1 columns) changed since the last pull
    (按时间戳增量抽取), in ``updated_at`` order; the watermark moves with each chunk."""
    source_key = f"{_safe_url(source_url)}#{table}"
    with job_lock(engine, "ingest"):
        require_current_schema(engine)
        with engine.connect() as conn:
            mark = conn.execute(select(SourceWatermark.updated_at)
                                .where(SourceWatermark.source == source_key)).scalar()
        src = make_engine(source_url)
        loader = _Loader(engine, source_key, config_dir)
        try:
            chunks = _pull_chunks(src, table, mark or "")
            loader.load(chunks, source_key, workers, progress, watermark=source_key)
        finally:
            src.dispose()
        return loader.finish()


def _safe_url(url: str) -> str:
    """The URL as it may be stored and shown: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def _pull_chunks(src: Engine, table: str, since: str) -> Iterator[pd.DataFrame]:
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
    with src.connect() as conn:
        result = conn.execute(query.execution_options(stream_results=True))
        names = list(result.keys())
        for part in result.partitions(_CHUNK_ROWS):
            frame = pd.DataFrame.from_records(part, columns=names)
            frame = frame.astype(object).where(frame.notna(), "").astype(str)
            for c in INPUT_COLUMNS:
                if c not in frame.columns:
                    frame[c] = ""
            yield frame


def _no_unfinished_batch(engine: Engine) -> None:
    """A batch run that crashed works on the records as they were: finish it first."""
    with engine.connect() as conn:
        run = conn.execute(select(BatchRun.id).where(BatchRun.status == RunStatus.RUNNING)
                           ).scalar()
    if run is not None:
        raise JobBusy(f"batch run {run} did not finish; run `ecif batch` to finish it "
                      "before ingesting more")


class _Loader:
    """One ingest run: chunks in, rows upserted, counts kept."""

    def __init__(self, engine: Engine, source: str, config_dir: Path) -> None:
        _no_unfinished_batch(engine)
        self.engine = engine
        self.codes: CodeMaps = load_code_maps(config_dir)
        self.std_version = std_version(config_dir)
        self.summary = IngestSummary()
        with engine.begin() as conn:
            run_id = conn.execute(
                table_of(IngestRun).insert().values(source=source, status=IngestStatus.RUNNING,
                                                    started_at=utcnow(), counts={})
            ).inserted_primary_key
        assert run_id is not None
        self.summary.ingest_id = int(run_id[0])

    def load(self, chunks: Iterable[pd.DataFrame], name: str, workers: int | None,
             progress: Progress | None, watermark: str | None = None) -> None:
        stash: deque[pd.DataFrame] = deque()
        done = 0

        def numbered() -> Iterator[pd.DataFrame]:
            start = 0
            for chunk in chunks:
                chunk = chunk.reset_index(drop=True)
                chunk["_row"] = [str(i) for i in range(start + 1, start + 1 + len(chunk))]
                start += len(chunk)
                stash.append(chunk)
                yield chunk

        results: Iterator[StandardisedChunk] = standardise_chunks(
            numbered(), self.codes, workers=workers)
        for result in results:
            raw = stash.popleft()
            with self.engine.begin() as conn:
                self._rejects(conn, result.rejected, name)
                bad_rows = set(result.rejected["_row"]) if len(result.rejected) else set()
                admitted_raw = raw[~raw["_row"].isin(bad_rows)].reset_index(drop=True)
                if len(admitted_raw) != len(result.admitted):
                    raise RuntimeError("standardised rows out of step with the raw rows")
                self._upsert(conn, result.admitted, admitted_raw)
                analyze(conn, "source_record")
                if watermark and len(raw):
                    self._move_watermark(conn, watermark, str(raw["updated_at"].max()))
            self.summary.read += len(raw)
            done += len(raw)
            if progress:
                progress(name, done)

    def finish(self) -> IngestSummary:
        with self.engine.begin() as conn:
            conn.execute(table_of(IngestRun).update()
                         .where(IngestRun.id == self.summary.ingest_id)
                         .values(status=IngestStatus.DONE, finished_at=utcnow(),
                                 counts=self.summary.as_dict()))
        return self.summary

    def _rejects(self, conn: Connection, bad: pd.DataFrame, name: str) -> None:
        if bad.empty:
            return
        raw_cols = [c for c in bad.columns if c not in ("reasons", "_row")]
        rows = [{
            "ingest_id": self.summary.ingest_id, "source_file": name,
            "row_number": int(r["_row"]) if r.get("_row") else None,
            "source_system": r.get("source_system") or None,
            "source_customer_id": r.get("source_customer_id") or None,
            "reasons": r["reasons"],
            "raw": json.dumps({c: r[c] for c in raw_cols}, ensure_ascii=False),
            "created_at": utcnow(),
        } for r in bad.to_dict("records")]
        insert_rows(conn, table_of(ExceptionRow), rows)
        self.summary.rejected += len(rows)
        for reasons in bad["reasons"]:
            self.summary.reject_counts.update(str(reasons).split(";"))

    def _upsert(self, conn: Connection, std: pd.DataFrame, raw: pd.DataFrame) -> None:
        if std.empty:
            return
        frame = std.copy()
        raw_cols = [c for c in raw.columns if c != "_row"]
        lines = raw[raw_cols].to_json(orient="records", lines=True, force_ascii=False)
        frame["raw"] = lines.split("\n")[: len(raw)]
        frame["record_key"] = frame["source_system"] + ":" + frame["source_customer_id"]
        frame["_ts"] = utc_key(frame["updated_at"]).to_numpy()
        frame["_row"] = raw["_row"].astype(int).to_numpy()
        frame = frame.sort_values(["record_key", "_ts", "_row"])
        dup = frame.duplicated("record_key", keep="last")
        self.summary.stale += int(dup.sum())
        frame = frame[~dup].reset_index(drop=True)
        frame["identity_key"] = identity_keys(frame).to_numpy()

        existing: pd.DataFrame = pd.concat([read_frame(conn, select(
            SourceRecord.id, SourceRecord.record_key, SourceRecord.updated_at,
            SourceRecord.version, type_coerce(SourceRecord.raw, Text).label("raw"),
            SourceRecord.ingest_id,
        ).where(SourceRecord.record_key.in_(keys))) for keys in in_batches(
            frame["record_key"].tolist())], ignore_index=True)
        merged = frame.merge(existing.add_prefix("old_"), how="left",
                             left_on="record_key", right_on="old_record_key")
        is_new = merged["old_id"].isna()
        old_ts = utc_key(merged["old_updated_at"]).to_numpy()
        newer = ~is_new & (merged["_ts"].to_numpy() > old_ts)
        same = ~is_new & ~newer & (merged["raw"] == merged["old_raw"])
        self.summary.new += int(is_new.sum())
        self.summary.updated += int(newer.sum())
        self.summary.unchanged += int(same.sum())
        self.summary.stale += int((~is_new & ~newer & ~same).sum())

        now = utcnow()
        columns = ["record_key", "source_system", "source_customer_id", "customer_type",
                   "updated_at", "raw", "identity_key", *STD_FIELDS]
        fresh = merged.loc[is_new, columns].copy()
        fresh["version"] = 1
        fresh["ingest_id"] = self.summary.ingest_id
        fresh["std_version"] = self.std_version
        fresh["first_seen_at"] = now
        fresh["changed_at"] = now
        insert_rows(conn, table_of(SourceRecord), fresh)

        upd = merged[newer]
        if len(upd):
            history = pd.DataFrame({
                "record_id": upd["old_id"].astype(int), "version": upd["old_version"].astype(int),
                "updated_at": upd["old_updated_at"], "raw": upd["old_raw"],
                "ingest_id": upd["old_ingest_id"].astype(int), "replaced_at": now})
            insert_rows(conn, table_of(SourceRecordVersion), history)
            changes = upd[[c for c in columns if c not in
                           ("record_key", "source_system", "source_customer_id")]].copy()
            changes["_key"] = upd["old_id"].astype(int)
            changes["version"] = upd["old_version"].astype(int) + 1
            changes["ingest_id"] = self.summary.ingest_id
            changes["std_version"] = self.std_version
            changes["changed_at"] = now
            update_rows(conn, table_of(SourceRecord), "id", changes)

    def _move_watermark(self, conn: Connection, source: str, newest: str) -> None:
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
