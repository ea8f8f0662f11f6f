"""Bulk moves between the store and frames: chunked reads, batched writes,
and the UTC key that orders ``updated_at`` values keyed with and without an offset."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Table, bindparam, insert, text, update

__all__ = ["table_of", "insert_rows", "update_rows", "read_chunks", "read_frame", "utc_key",
           "records", "in_batches"]

_WRITE_BATCH = 20_000
_IN_BATCH = 5_000  # values in one IN (...) list


def table_of(model: type[Any]) -> Table:
    """The Core table behind an ORM model."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with None for missing values (what a DBAPI expects)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict("records")  # type: ignore[return-value]


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), _WRITE_BATCH):
        conn.execute(insert(table), list(rows[start:start + _WRITE_BATCH]))


def update_rows(conn: Connection, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE ``table`` by primary-key column ``key``; each row dict names ``key`` as
    ``_key`` plus the columns to set (all rows the same columns)."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != "_key"]
    stmt = (update(table).where(table.c[key] == bindparam("_key"))
            .values({c: bindparam(c) for c in columns}))
    for start in range(0, len(rows), _WRITE_BATCH):
        conn.execute(stmt, list(rows[start:start + _WRITE_BATCH]))


def in_batches(values: Sequence[Any], size: int = _IN_BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield list(values[start:start + size])


def read_chunks(conn: Connection, query: Any, chunk_rows: int = 100_000,
                params: dict[str, Any] | None = None) -> Iterator[pd.DataFrame]:
    """Stream a query as DataFrames of at most ``chunk_rows`` rows."""
    stmt = text(query) if isinstance(query, str) else query
    result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(
        stmt, params or {})
    columns = list(result.keys())
    for part in result.partitions(chunk_rows):
        yield pd.DataFrame.from_records(part, columns=columns)


def read_frame(conn: Connection, query: Any,
               params: dict[str, Any] | None = None) -> pd.DataFrame:
    stmt = text(query) if isinstance(query, str) else query
    result = conn.execute(stmt, params or {})
    return pd.DataFrame.from_records(list(result), columns=list(result.keys()))


def utc_key(values: Iterable[str | None]) -> pd.Series:
    """Comparable UTC text for ISO 8601 times; a time without offset is China time
    (+08:00); a missing time sorts first ('')."""
    s = pd.Series(list(values), dtype=object).fillna("").astype(str)
    naive = s.str.len().gt(0) & ~s.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True)
    s = s.where(~naive, s + "+08:00")
    parsed = pd.to_datetime(s.where(s.str.len().gt(0)), format="ISO8601", utc=True,
                            errors="coerce")
    return parsed.dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("")
