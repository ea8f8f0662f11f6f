"""Set-based upsert of source records from a staging table, inside one transaction.

Each chunk is put into a staging table (PostgreSQL: ``COPY`` of the rows a
worker wrote into a temporary table; SQLite: the database file a worker wrote,
deserialized into an attached in-memory schema), then four statements move it:
count what is new, newer, unchanged or older; keep the versions being
replaced in ``source_record_version``; update the records with a newer
``updated_key``; insert the new ones. Versions order by ``updated_key``, the
UTC instant to the microsecond. No Python touches a row of the store.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, Index, exc

from ecif.bulk import table_of
from ecif.ingest_prepare import STAGE_COLUMNS, STAGE_TABLE, PreparedChunk, stage_database
from models.db import SQLITE_BUSY_MS, StoreError
from models.source_record import SourceRecord

__all__ = ["Stage", "UpsertCounts", "bulk_journal"]

log = logging.getLogger(__name__)

_SCHEMA = "ingest"  # SQLite: the attached in-memory schema a chunk's stage is put in
_SQLITE_CACHE_KIB = 256 * 1024
_KEEP = ("record_key", "source_system", "source_customer_id")  # never changed by an update
_INSERTED = (*STAGE_COLUMNS, "version", "ingest_id", "std_version", "first_seen_at",
             "changed_at")


@dataclass
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0


@contextmanager
def bulk_journal(conn: Connection) -> Iterator[None]:
    """Around an SQLite ingest transaction on ``conn``, before it begins: an initial
    load (``source_record`` empty) runs in rollback-journal mode and goes back to WAL
    after. In WAL mode every page of a bulk load is written twice (into the WAL,
    then by the checkpoint into the database): 1.9 GB instead of 0.9 for a million
    records, about 6 s of the load's serial end. A rollback journal keeps the old
    content of changed pages only, and an initial load's pages are new ones. Crash
    safety is the journal's, with ``synchronous = FULL`` while it lasts (a hot
    journal is rolled back by the next connection, which switches back to WAL on
    connect). Where the switch is refused (another connection has the database
    open: the app, a reader) the load runs in WAL mode as ever."""
    if conn.dialect.name != "sqlite":
        yield
        return
    empty = conn.exec_driver_sql("SELECT 1 FROM source_record LIMIT 1").first() is None
    conn.rollback()  # end the read SQLAlchemy began: the caller begins the load's own
    mode = "wal"
    if empty:
        try:
            mode = _journal_mode(conn, "DELETE")
        except exc.OperationalError:  # another connection has the database open
            conn.rollback()
            log.info("initial load in WAL mode: the SQLite store is open elsewhere")
    try:
        yield
    finally:
        if mode != "wal":
            try:
                conn.rollback()  # nothing is open after the commit; after a failure, end it
                _journal_mode(conn, "WAL")
            except Exception:  # the next connection sets WAL on connect
                log.warning("could not switch the SQLite store back to WAL mode after an "
                            "initial load", exc_info=True)


def _journal_mode(conn: Connection, mode: str) -> str:
    """Set SQLite's journal mode outside any transaction; the mode it is in now."""
    # leaving WAL mode needs the database to itself: ask once, do not wait for it
    conn.exec_driver_sql("PRAGMA busy_timeout = 0")
    try:
        # main only: a pooled connection may have the stage's in-memory schema attached
        now = str(conn.exec_driver_sql(f"PRAGMA main.journal_mode = {mode}").scalar()).lower()
        # a rollback journal is safe against power loss only with FULL (NORMAL is,
        # in WAL mode: models.db); the cost is a few more fsyncs in one transaction
        conn.exec_driver_sql(
            f"PRAGMA main.synchronous = {'NORMAL' if now == 'wal' else 'FULL'}")
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
        conn.commit()
    return now


class Stage:
    """The staging table of one ingest transaction on ``conn``."""

    def __init__(self, conn: Connection, ingest_id: int, std_version: str,
                 now: datetime) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        if not self.pg and sqlite3.sqlite_version_info < (3, 33):
            raise StoreError(f"SQLite {sqlite3.sqlite_version} is too old: ingest needs "
                             "3.33 or later (UPDATE ... FROM)")
        self.params: dict[str, Any] = {
            "run": ingest_id, "std": std_version,
            "now": now if self.pg else now.strftime("%Y-%m-%d %H:%M:%S.%f")}
        if self.pg:
            columns = ", ".join(f"{c} TEXT" for c in STAGE_COLUMNS)
            conn.exec_driver_sql(f"CREATE TEMP TABLE {STAGE_TABLE} ({columns}) ON COMMIT DROP")
            self.stage = STAGE_TABLE
        else:
            driver = conn.connection.driver_connection
            assert isinstance(driver, sqlite3.Connection)
            self.sqlite = driver
            if not hasattr(self.sqlite, "deserialize"):
                raise StoreError("ingest into SQLite needs sqlite3.Connection.deserialize "
                                 "(Python 3.11 or later, SQLite built with it)")
            # a bulk load: a bigger page cache, sorting for the index builds in memory
            # (both set outside the transaction); then BEGIN now: Python's sqlite3
            # would begin only at the first INSERT, running the DDL before it (the
            # deferred indexes) outside the transaction, where a crash could not undo it
            conn.exec_driver_sql(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}")
            conn.exec_driver_sql("PRAGMA temp_store = MEMORY")
            attached = {row[1] for row in conn.exec_driver_sql("PRAGMA database_list")}
            if _SCHEMA not in attached:  # a pooled connection keeps it from its last run
                conn.exec_driver_sql(f"ATTACH ':memory:' AS {_SCHEMA}")
            if not self.sqlite.in_transaction:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            self.stage = f"{_SCHEMA}.{STAGE_TABLE}"
        self.deferred: list[Index] = []
        # PostgreSQL: source_record's rows as the planner last knew them, and at the start
        self.analyzed_at = self.rows_before = self._planned_rows() if self.pg else 0
        self.rows = 0  # rows this run added
        self.changed = 0  # rows this run added or replaced

    def defer_indexes(self) -> None:
        """On an initial load (an empty table), build the secondary indexes once at
        the end instead of row by row. Unique keys stay: the upsert relies on them."""
        empty = self.conn.exec_driver_sql("SELECT 1 FROM source_record LIMIT 1").first()
        if empty is not None:
            return
        self.deferred = [i for i in table_of(SourceRecord).indexes if not i.unique]
        for index in self.deferred:
            index.drop(self.conn)

    def load(self, chunk: PreparedChunk) -> UpsertCounts:
        """Upsert one chunk's staged rows; return what became of them."""
        if not chunk.staged:
            return UpsertCounts()
        if self.pg:
            self._fill(chunk)
        else:
            assert chunk.stage_db is not None
            self.sqlite.deserialize(chunk.stage_db, name=_SCHEMA)
        counts = self._upsert(chunk.staged)
        if self.pg:
            self.conn.exec_driver_sql(f"TRUNCATE {STAGE_TABLE}")
        else:  # give the chunk's memory back: an empty stage in its place
            self.sqlite.deserialize(_empty_stage(), name=_SCHEMA)
        self.rows += counts.new
        self.changed += counts.new + counts.updated
        return counts

    def finish(self) -> None:
        initial = bool(self.deferred)
        for index in self.deferred:
            index.create(self.conn)
        self.deferred = []
        if self.pg:
            if initial or self.changed > self.rows_before // 10:
                # statistics for the batch that follows; a night that changed a few
                # per cent of a large table leaves them as true as they were
                # (autovacuum's own threshold is 10 %), and a full ANALYZE of a
                # million wide rows costs seconds
                self.conn.exec_driver_sql("ANALYZE source_record")
        else:
            self.conn.exec_driver_sql("PRAGMA cache_size = -2000")  # SQLite's default

    def _fill(self, chunk: PreparedChunk) -> None:
        """PostgreSQL: COPY the worker's rows (text format) into the stage."""
        names = ", ".join(STAGE_COLUMNS)
        assert chunk.stage_csv is not None
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {STAGE_TABLE} ({names}) FROM STDIN") as copy:  # text format
            copy.write(chunk.stage_csv)
        # the join column and the version order are all the statements' plans hang on:
        # analysing only them skips sorting a sample of every wide column (raw above all)
        self.conn.exec_driver_sql(f"ANALYZE {STAGE_TABLE} (record_key, updated_key)")
        if self.rows_before + self.rows > 2 * self.analyzed_at:
            # the table doubled since the planner last counted it (an initial load):
            # its row count and the join column's statistics, not the whole table's
            self.conn.exec_driver_sql("ANALYZE source_record (record_key, updated_key)")
            self.analyzed_at = max(self.rows_before + self.rows, 1)

    def _planned_rows(self) -> int:
        """source_record's rows as PostgreSQL's planner last counted them (0: never)."""
        found = self.conn.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE oid = 'source_record'::regclass").scalar()
        return max(int(found or 0), 0)

    def _mark(self, name: str) -> str:
        """A bound parameter in the driver's style."""
        return f"%({name})s" if self.pg else f":{name}"

    def _upsert(self, staged: int) -> UpsertCounts:
        if not self.pg:
            return self._statements(staged)
        # Every statement pairs each staged row with at most one stored row by the
        # unique record_key: one index probe a row. The planner, costing a probe as
        # a random read from disk, prefers to hash the whole of source_record for
        # each statement instead: four scans of a million wide rows for a night of
        # thousands. Probes it is, for these statements only.
        self.conn.exec_driver_sql("SET LOCAL enable_hashjoin = off; "
                                  "SET LOCAL enable_mergejoin = off")
        try:
            return self._statements(staged)
        finally:
            self.conn.exec_driver_sql("SET LOCAL enable_hashjoin TO DEFAULT; "
                                      "SET LOCAL enable_mergejoin TO DEFAULT")

    def _statements(self, staged: int) -> UpsertCounts:
        run, p, m = self.conn.exec_driver_sql, self.params, self._mark
        # SQLite: CROSS JOIN keeps the stage the outer loop (an index probe a staged row)
        join = (f"FROM {self.stage} s {'JOIN' if self.pg else 'CROSS JOIN'} source_record e "
                "ON e.record_key = s.record_key")
        found = run(
            "SELECT count(*), "
            "coalesce(sum(CASE WHEN s.updated_key > e.updated_key THEN 1 ELSE 0 END), 0), "
            "coalesce(sum(CASE WHEN s.updated_key <= e.updated_key AND s.raw = e.raw "
            f"THEN 1 ELSE 0 END), 0) {join}").one()
        existing, newer, same = (int(v) for v in found)
        if newer:
            run("INSERT INTO source_record_version (record_id, version, updated_at, raw, "
                "ingest_id, replaced_at) SELECT e.id, e.version, e.updated_at, e.raw, "
                f"e.ingest_id, {m('now')} {join} WHERE s.updated_key > e.updated_key", p)
            sets = ", ".join(f"{c} = s.{c}" for c in STAGE_COLUMNS if c not in _KEEP)
            run(f"UPDATE source_record SET {sets}, version = source_record.version + 1, "
                f"ingest_id = {m('run')}, std_version = {m('std')}, changed_at = {m('now')} "
                f"FROM {self.stage} s WHERE source_record.record_key = s.record_key "
                "AND s.updated_key > source_record.updated_key", p)
        if existing < staged:
            values = ", ".join(f"s.{c}" for c in STAGE_COLUMNS)
            run(f"INSERT INTO source_record ({', '.join(_INSERTED)}) SELECT {values}, 1, "
                f"{m('run')}, {m('std')}, {m('now')}, {m('now')} FROM {self.stage} s "
                "WHERE NOT EXISTS (SELECT 1 FROM source_record e "
                "WHERE e.record_key = s.record_key)", p)
        return UpsertCounts(new=staged - existing, updated=newer, unchanged=same,
                            stale=existing - newer - same)


@cache
def _empty_stage() -> bytes:
    return stage_database([(None, pa.array([], pa.string()))] * len(STAGE_COLUMNS))
