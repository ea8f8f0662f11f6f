"""Set-based upsert of source records from a staging table, inside one transaction.

Each chunk is put into a temporary staging table (PostgreSQL: ``COPY`` of the
CSV a worker made; SQLite: one ``executemany``), then four statements move it:
count what is new, newer, unchanged or older; keep the versions being
replaced in ``source_record_version``; update the records with a newer
``updated_key``; insert the new ones. Versions order by ``updated_key``, the
UTC instant to the microsecond. No Python touches a row of the store.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, Index

from ecif.bulk import table_of
from ecif.ingest_prepare import STAGE_COLUMNS, PreparedChunk, stage_rows
from models.db import StoreError
from models.source_record import SourceRecord

__all__ = ["Stage", "UpsertCounts"]

_STAGE = "ingest_stage"
_KEYS = "ingest_keys"
_SQLITE_CACHE_KIB = 256 * 1024
_KNOWN_MOST = 5_000_000  # keys an initial load keeps in memory (about 100 bytes each)
_KEEP = ("record_key", "source_system", "source_customer_id")  # never changed by an update
_INSERTED = (*STAGE_COLUMNS, "version", "ingest_id", "std_version", "first_seen_at",
             "changed_at")


@dataclass
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0


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
        columns = ", ".join(f"{c} TEXT" for c in STAGE_COLUMNS)
        if self.pg:
            conn.exec_driver_sql(f"CREATE TEMP TABLE {_STAGE} ({columns}) ON COMMIT DROP")
        else:
            # a bulk load: a bigger page cache, the stage in memory (set outside the
            # transaction); then BEGIN now: Python's sqlite3 would begin only at the
            # first INSERT, running the DDL before it (the stage, the deferred indexes)
            # outside the transaction, where a crash could not undo it
            conn.exec_driver_sql(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}")
            conn.exec_driver_sql("PRAGMA temp_store = MEMORY")
            if not conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            conn.exec_driver_sql(f"CREATE TEMP TABLE {_STAGE} ({columns})")
            conn.exec_driver_sql(f"CREATE TEMP TABLE {_KEYS} (record_key TEXT)")
        self.deferred: list[Index] = []
        # PostgreSQL: source_record's rows as the planner last knew them, and at the start
        self.analyzed_at = self.rows_before = self._planned_rows() if self.pg else 0
        self.rows = 0  # rows this run added
        self.changed = 0  # rows this run added or replaced
        # SQLite, on an initial load: every key in the store, so none need looking up
        self.known: set[str] | None = None

    def defer_indexes(self) -> None:
        """On an initial load (an empty table), build the secondary indexes once at
        the end instead of row by row. Unique keys stay: the upsert relies on them."""
        empty = self.conn.exec_driver_sql("SELECT 1 FROM source_record LIMIT 1").first()
        if empty is not None:
            return
        self.deferred = [i for i in table_of(SourceRecord).indexes if not i.unique]
        for index in self.deferred:
            index.drop(self.conn)
        if not self.pg:
            self.known = set()

    def load(self, chunk: PreparedChunk) -> UpsertCounts:
        """Upsert one chunk's staged rows; return what became of them."""
        if not chunk.staged:
            return UpsertCounts()
        if not self.pg:
            return self._load_sqlite(chunk)
        self._fill(chunk)
        counts = self._upsert(chunk.staged)
        self.conn.exec_driver_sql(f"TRUNCATE {_STAGE}" if self.pg else f"DELETE FROM {_STAGE}")
        self.rows += counts.new
        self.changed += counts.new + counts.updated
        return counts

    def _load_sqlite(self, chunk: PreparedChunk) -> UpsertCounts:
        """SQLite: the keys first; rows of keys not in the store go straight in (most
        rows of a night, all of an initial load), only the others through the stage."""
        assert chunk.stage_columns is not None
        run = self.conn.exec_driver_sql
        columns = stage_rows(chunk.stage_columns)
        keys = columns[0]
        existing = self._stored(keys)
        fresh = np.ones(len(keys), dtype=bool)
        fresh[existing] = False
        marks = ", ".join("?" for _ in STAGE_COLUMNS)
        p = self.params
        constants = f"1, {int(p['run'])}, '{p['std']}', '{p['now']}', '{p['now']}'"
        if fresh.any():
            picked = columns if fresh.all() else [col[fresh] for col in columns]
            run(f"INSERT INTO source_record ({', '.join(_INSERTED)}) VALUES ({marks}, "
                f"{constants})", list(zip(*picked, strict=True)))
        counts = UpsertCounts(new=int(fresh.sum()))
        if self.known is not None:
            self.known.update(keys[fresh].tolist())
            if len(self.known) > _KNOWN_MOST:
                self.known = None
        if len(existing):
            names = ", ".join(STAGE_COLUMNS)
            run(f"INSERT INTO temp.{_STAGE} ({names}) VALUES ({marks})",
                list(zip(*(col[existing] for col in columns), strict=True)))
            old = self._upsert(len(existing))
            run(f"DELETE FROM temp.{_STAGE}")
            counts.updated, counts.unchanged, counts.stale = old.updated, old.unchanged, old.stale
        self.rows += counts.new
        return counts

    def _stored(self, keys: np.ndarray) -> np.ndarray:
        """SQLite: the positions of the keys already in source_record, in order."""
        if self.known is not None:  # an initial load: what this run stored so far
            known = self.known
            return np.flatnonzero(np.fromiter((k in known for k in keys.tolist()),
                                              dtype=bool, count=len(keys)))
        run = self.conn.exec_driver_sql
        run(f"INSERT INTO temp.{_KEYS} (record_key) VALUES (?)", [(k,) for k in keys])
        found = run(f"SELECT k.rowid - 1 FROM temp.{_KEYS} k JOIN source_record e "
                    "ON e.record_key = k.record_key ORDER BY k.rowid").all()
        run(f"DELETE FROM temp.{_KEYS}")  # rowids count from 1 again
        return np.fromiter((r[0] for r in found), dtype=np.int64, count=len(found))

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
            self.conn.exec_driver_sql(f"DROP TABLE temp.{_STAGE}")
            self.conn.exec_driver_sql(f"DROP TABLE temp.{_KEYS}")
            self.conn.exec_driver_sql("PRAGMA cache_size = -2000")  # SQLite's default

    def _fill(self, chunk: PreparedChunk) -> None:
        """PostgreSQL: COPY the worker's rows (text format) into the stage."""
        names = ", ".join(STAGE_COLUMNS)
        assert chunk.stage_csv is not None
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {_STAGE} ({names}) FROM STDIN") as copy:  # text format
            copy.write(chunk.stage_csv)
        # the join column and the version order are all the statements' plans hang on:
        # analysing only them skips sorting a sample of every wide column (raw above all)
        self.conn.exec_driver_sql(f"ANALYZE {_STAGE} (record_key, updated_key)")
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
        join = f"FROM {_STAGE} s JOIN source_record e ON e.record_key = s.record_key"
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
                f"FROM {_STAGE} s WHERE source_record.record_key = s.record_key "
                "AND s.updated_key > source_record.updated_key", p)
        if existing < staged:
            values = ", ".join(f"s.{c}" for c in STAGE_COLUMNS)
            run(f"INSERT INTO source_record ({', '.join(_INSERTED)}) SELECT {values}, 1, "
                f"{m('run')}, {m('std')}, {m('now')}, {m('now')} FROM {_STAGE} s "
                "WHERE NOT EXISTS (SELECT 1 FROM source_record e "
                "WHERE e.record_key = s.record_key)", p)
        return UpsertCounts(new=staged - existing, updated=newer, unchanged=same,
                            stale=existing - newer - same)
