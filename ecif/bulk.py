"""Bulk moves between the store and frames: chunked reads, batched writes,
and the UTC key that orders ``updated_at`` values keyed with and without an offset."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Table, text

from models.base import JSONDocument

__all__ = ["analyze", "table_of", "insert_rows", "update_rows", "read_chunks", "read_frame",
           "utc_key", "in_batches"]

_WRITE_BATCH = 20_000
_IN_BATCH = 5_000  # values in one IN (...) list
_SET_BASED = 1_000  # rows from which an SQLite UPDATE goes through a temporary table


def analyze(conn: Connection, *tables: str) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk write: on a table that grew
    from empty, stale statistics turn an indexed IN (...) lookup into a full scan per
    chunk. (SQLite plans by its indexes without statistics.)"""
    if conn.dialect.name == "postgresql":
        for table in tables:
            conn.exec_driver_sql(f"ANALYZE {table}")


def table_of(model: type[Any]) -> Table:
    """The Core table behind an ORM model."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _json_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _column(series: pd.Series, dialect: str, json_column: bool = False) -> list[Any]:
    """A column as Python values the driver binds: None for missing, datetimes as
    SQLAlchemy stores them on SQLite, JSON documents as their text."""
    if json_column:
        return [_json_text(v) for v in series.astype(object).where(series.notna(), None)]
    if pd.api.types.is_datetime64_any_dtype(series):
        if dialect == "sqlite":
            text_values = series.dt.strftime("%Y-%m-%d %H:%M:%S.%f")
            return text_values.astype(object).where(series.notna(), None).tolist()
        return [None if pd.isna(v) else v.to_pydatetime() for v in series]
    return series.astype(object).where(series.notna(), None).tolist()


def _tuples(frame: pd.DataFrame, dialect: str, table: Table | None = None
            ) -> list[tuple[Any, ...]]:
    def is_json(name: object) -> bool:
        return table is not None and str(name) in table.c and isinstance(
            table.c[str(name)].type, JSONDocument)

    return list(zip(*[_column(frame[c], dialect, is_json(c)) for c in frame.columns],
                    strict=True))


def _frame(rows: Sequence[dict[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    return rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))


def insert_rows(conn: Connection, table: Table,
                rows: Sequence[dict[str, Any]] | pd.DataFrame) -> None:
    """Bulk INSERT: COPY on PostgreSQL, executemany on SQLite (driver level: the ORM's
    per-row parameter handling costs more than the database at a million rows)."""
    frame = _frame(rows)
    if frame.empty:
        return
    dialect = conn.dialect.name
    cols = [str(c) for c in frame.columns]
    unknown = [c for c in cols if c not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no column(s) {unknown}")
    data = _tuples(frame, dialect, table)
    names = ", ".join(cols)
    if dialect == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in data:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in cols)
    for start in range(0, len(data), _WRITE_BATCH):
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})",
                             data[start:start + _WRITE_BATCH])


def update_rows(conn: Connection, table: Table, key: str,
                rows: Sequence[dict[str, Any]] | pd.DataFrame) -> None:
    """Bulk UPDATE of ``table`` by column ``key``: each row names the key as ``_key``
    plus the columns to set (all rows the same columns)."""
    frame = _frame(rows)
    if frame.empty:
        return
    columns = [str(c) for c in frame.columns if c != "_key"]
    frame = frame[["_key", *columns]]
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.exec_driver_sql(f"CREATE TEMP TABLE _upd ON COMMIT DROP AS SELECT {key} AS _key, "
                             f"{', '.join(columns)} FROM {table.name} WITH NO DATA")
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY _upd (_key, {', '.join(columns)}) FROM STDIN") as copy:
            for row in _tuples(frame, dialect, table):
                copy.write_row(row)
        sets = ", ".join(f"{c} = _upd.{c}" for c in columns)
        conn.exec_driver_sql(f"UPDATE {table.name} SET {sets} FROM _upd "
                             f"WHERE {table.name}.{key} = _upd._key")
        conn.exec_driver_sql("DROP TABLE _upd")
        return
    data = _tuples(frame, dialect, table)
    if len(data) < _SET_BASED:
        sets = ", ".join(f"{c} = ?" for c in columns)
        conn.exec_driver_sql(f"UPDATE {table.name} SET {sets} WHERE {key} = ?",
                             [(*row[1:], row[0]) for row in data])
        return
    # many rows: into a temporary table, then one UPDATE ... FROM (SQLite 3.33+),
    # about twice as fast as an UPDATE per row
    conn.exec_driver_sql("DROP TABLE IF EXISTS temp._upd")
    conn.exec_driver_sql(f"CREATE TEMP TABLE _upd AS SELECT {key} AS _key, "
                         f"{', '.join(columns)} FROM {table.name} WHERE 0")
    marks = ", ".join("?" for _ in range(len(columns) + 1))
    for start in range(0, len(data), _WRITE_BATCH):
        conn.exec_driver_sql(f"INSERT INTO temp._upd VALUES ({marks})",
                             data[start:start + _WRITE_BATCH])
    sets = ", ".join(f"{c} = _upd.{c}" for c in columns)
    conn.exec_driver_sql(f"UPDATE {table.name} SET {sets} FROM temp._upd "
                         f"WHERE {table.name}.{key} = _upd._key")
    conn.exec_driver_sql("DROP TABLE temp._upd")


def in_batches(values: Sequence[Any], size: int = _IN_BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield list(values[start:start + size])


def read_chunks(conn: Connection, query: Any, chunk_rows: int = 100_000,
                params: dict[str, Any] | None = None) -> Iterator[pd.DataFrame]:
    """Stream a query as DataFrames of at most ``chunk_rows`` rows."""
    stmt = text(query) if isinstance(query, str) else query
    stmt = stmt.execution_options(stream_results=True, yield_per=chunk_rows)
    result = conn.execute(stmt, params or {})
    columns = list(result.keys())
    for part in result.partitions(chunk_rows):
        yield pd.DataFrame.from_records(part, columns=columns)


def read_frame(conn: Connection, query: Any,
               params: dict[str, Any] | None = None) -> pd.DataFrame:
    stmt = text(query) if isinstance(query, str) else query
    result = conn.execute(stmt, params or {})
    return pd.DataFrame.from_records(list(result), columns=list(result.keys()))


def utc_key(values: Iterable[str | None]) -> pd.Series:
    """Comparable UTC text for ISO 8601 times, to the microsecond
    (``YYYY-MM-DDTHH:MM:SS.ffffff``); a time without offset is China time (+08:00);
    a missing time sorts first ('')."""
    s = pd.Series(list(values), dtype=object).fillna("").astype(str)
    naive = s.str.len().gt(0) & ~s.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True)
    s = s.where(~naive, s + "+08:00")
    parsed = pd.to_datetime(s.where(s.str.len().gt(0)), format="ISO8601", utc=True,
                            errors="coerce")
    return parsed.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").fillna("")
