"""The store's standardised records as a DuckDB table, for the engine: the match
stage matches against them and ``ecif train`` trains on them.

Every record goes across each night (the candidates and term frequencies need
them all), so the transfer is columnar: an ADBC driver (Apache Arrow's
database connectivity: SQLite's C API, PostgreSQL's binary COPY) streams
Arrow batches that DuckDB reads as they come; no Python object per value. The
SQLite driver carries its own copy of SQLite, which must never open a file
that this process's sqlite3 has open (two copies of SQLite in one process
release each other's POSIX locks: SQLite's "how to corrupt" list), so it runs
in a child process that streams Arrow IPC through a pipe. A database without
such a driver goes row by row through SQLAlchemy.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection
from sqlalchemy.engine import URL

from ecif.bulk import read_chunks, read_frame
from matching.engine.backend import Backend, DuckDBBackend
from matching.standardise.columns import OUTPUT_COLUMNS
from models.db import StoreError

__all__ = ["load_records", "export_records", "read_columnar", "STD_TABLE", "FOCUS"]

STD_TABLE = "std_records"
#: 1 for a record in the run's scope (new or changed, or named by a decision)
FOCUS = "_focus"
_CHUNK = 200_000
#: reads of fewer rows than this go row by row (see read_columnar)
COLUMNAR_MIN = 50_000


def load_records(conn: Connection, db: DuckDBBackend, watermark_to: int | None = None,
                 focus_sql: str | None = None, focus_keys: Sequence[str] = ()) -> int:
    """Load every record ingested up to ``watermark_to`` (all, when None) into
    ``STD_TABLE``, with ``FOCUS`` set where ``focus_sql`` (a condition on
    ``source_record``) holds or the record key is in ``focus_keys``."""
    cols = list(OUTPUT_COLUMNS)
    focus = f"CASE WHEN {focus_sql} THEN 1 ELSE 0 END" if focus_sql else "0"
    upto = f"WHERE ingest_id <= {int(watermark_to)}" if watermark_to is not None else ""
    url = conn.engine.url
    if _columnar(url):
        # '' stands for NULL on the way (a standardised value is never empty): the
        # SQLite driver types a column by its first rows, and a column NULL there
        # would be typed as a number
        query = ("SELECT id AS record_id, "
                 + ", ".join(f"coalesce({c}, '') AS {c}" for c in cols)
                 + f", {focus} AS {FOCUS} FROM source_record {upto}")
        with _arrow_batches(url, query) as batches:
            db.con.register("_records", batches)
            db.con.execute(
                f"CREATE OR REPLACE TABLE {STD_TABLE} AS SELECT CAST(record_id AS BIGINT) "
                "AS record_id, " + ", ".join(f"CAST(NULLIF({c}, '') AS VARCHAR) AS {c}"
                                              for c in cols)
                + f", CAST({FOCUS} AS INTEGER) AS {FOCUS} FROM _records")
            db.con.unregister("_records")
    else:
        _load_rows(conn, db, cols, focus, upto)
    if focus_keys:
        db.con.register("_decided", pd.DataFrame({"k": list(focus_keys)}))
        db.con.execute(f"UPDATE {STD_TABLE} SET {FOCUS} = 1 WHERE source_system || ':' || "
                       "source_customer_id IN (SELECT k FROM _decided)")
        db.con.unregister("_decided")
    return int(db.con.execute(f"SELECT count(*) FROM {STD_TABLE}").fetchall()[0][0])


def read_columnar(conn: Connection, query: str, empty_is_null: Sequence[str] = (),
                  expected_rows: int | None = None) -> pd.DataFrame:
    """The rows of ``query`` (committed data only: on SQLite and PostgreSQL it runs on
    a connection of its own) as a frame, through the same Arrow path as
    :func:`load_records`; row by row where the store has no such driver.

    SQLite's driver types a column by its first rows, so a text column that may be
    NULL must come as ``coalesce(c, '') AS c`` and be named in ``empty_is_null``:
    its '' become None again (as row by row; a store never holds '' there).
    ``expected_rows`` under :data:`COLUMNAR_MIN`: row by row (the SQLite reader's
    process costs more than it saves on a small read)."""
    url = conn.engine.url
    small = expected_rows is not None and expected_rows < COLUMNAR_MIN
    if small or not _columnar(url):
        frame = read_frame(conn, query)
    else:
        with _arrow_batches(url, query) as batches:
            frame = batches.read_all().to_pandas()
    for c in empty_is_null:
        col = frame[c].astype(object)
        frame[c] = col.where(col.notna() & col.ne(""), None)
    return frame


def export_records(db: DuckDBBackend, target: Backend, staging: Path) -> Path:
    """Hand ``STD_TABLE`` to another engine (Spark) as a Parquet file under
    ``staging`` (a directory the engine's executors can read)."""
    staging.mkdir(parents=True, exist_ok=True)
    path = staging / f"{STD_TABLE}.parquet"
    db.con.execute(f"COPY {STD_TABLE} TO '{path}' (FORMAT parquet)")
    load = getattr(target, "load_parquet", None)
    if load is None:
        raise TypeError(f"{type(target).__name__} cannot read Parquet")
    load(STD_TABLE, path)
    return path


def _columnar(url: URL) -> bool:
    return url.get_backend_name() == "postgresql" or (
        url.get_backend_name() == "sqlite" and bool(url.database)
        and url.database != ":memory:")


@contextmanager
def _arrow_batches(url: URL, query: str) -> Iterator[pa.RecordBatchReader]:
    """The rows of ``query`` on the store at ``url`` as Arrow batches."""
    if url.get_backend_name() == "postgresql":
        import adbc_driver_postgresql.dbapi as adbc_pg

        uri = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with adbc_pg.connect(uri) as source, source.cursor() as cursor:
            cursor.execute(query)
            yield cursor.fetch_record_batch()
        return
    child = subprocess.Popen([sys.executable, "-c", _DUMP, str(url.database)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(query.encode("utf-8"))
    child.stdin.close()
    try:
        yield pa.ipc.open_stream(child.stdout)
    finally:
        child.stdout.close()
        assert child.stderr is not None
        with child.stderr:
            error = child.stderr.read().decode("utf-8", "replace")
        if child.wait() != 0:
            raise StoreError(f"reading the store's records failed: {error.strip()[-500:]}")


#: The child: the query from standard input, Arrow IPC to standard output.
_DUMP = """
import sys
import adbc_driver_sqlite.dbapi as adbc_sqlite
import pyarrow as pa
with adbc_sqlite.connect(sys.argv[1]) as conn, conn.cursor() as cur:
    cur.execute(sys.stdin.read())
    reader = cur.fetch_record_batch()
    with pa.ipc.new_stream(sys.stdout.buffer, reader.schema) as out:
        for batch in reader:
            out.write_batch(batch)
"""


def _load_rows(conn: Connection, db: DuckDBBackend, cols: list[str], focus: str,
               upto: str) -> None:
    db.con.execute(f"CREATE OR REPLACE TABLE {STD_TABLE} (record_id BIGINT, "
                   + ", ".join(f"{c} VARCHAR" for c in cols) + f", {FOCUS} INTEGER)")
    query = (f"SELECT id AS record_id, {', '.join(cols)}, {focus} AS {FOCUS} "
             f"FROM source_record {upto}")
    for chunk in read_chunks(conn, query, _CHUNK):
        for c in cols:
            chunk[c] = chunk[c].astype(object)
        db.con.register("_chunk", chunk)
        db.con.execute(f"INSERT INTO {STD_TABLE} SELECT * FROM _chunk")
        db.con.unregister("_chunk")
