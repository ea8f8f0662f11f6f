"""The real-time API's index, kept in step by the batch and by registrations:
blocking keys per record (``block_key``) and the term frequencies Splink
counted (``term_frequency``); see :mod:`models.realtime`.

The batch's match stage computes both from the engine's feature tables while
its DuckDB is open (:func:`index_frames`) and writes them in its plan's
transaction (:func:`write_index`): the keys of the records in scope (all
records when the index is empty, e.g. after the upgrade that added it) and
every term frequency afresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, func, insert, select

from ecif.bulk import in_batches, insert_rows, table_of
from matching.realtime.blocking import block_keys
from models.realtime import BlockKey, TermFrequency

__all__ = ["IndexFrames", "index_frames", "write_index", "index_record", "TF_COLUMNS",
           "index_is_empty"]

#: Term-frequency-adjusted columns per type (matching/engine/comparisons.py, settings.py).
TF_COLUMNS = {"P": ("name_plain", "name_pinyin", "mobile", "phone", "address"),
              "G": ("org_core", "phone", "address")}
_TABLES = {"P": "persons", "G": "organisations"}


@dataclass
class IndexFrames:
    keys: pd.DataFrame  # record_id, key
    refreshed: list[int]  # record ids whose keys are replaced
    tf: pd.DataFrame  # customer_type, column, value, count


def index_is_empty(conn: Connection) -> bool:
    return conn.execute(select(BlockKey.record_id).limit(1)).first() is None


def index_frames(db: Any, ids: pd.Series, focus: str | None) -> IndexFrames:
    """From the engine's feature tables in ``db`` (a DuckDB backend after
    ``run_matching``): keys of the records whose ``focus`` is 1 (all when
    ``focus`` is None), term frequencies of all. ``ids`` maps record key to id."""
    key_rows: list[tuple[int, int]] = []
    refreshed: list[int] = []
    tf_parts = []
    for ctype, table in _TABLES.items():
        if not db.con.execute("SELECT count(*) FROM information_schema.tables "
                              f"WHERE table_name = '{table}'").fetchall()[0][0]:
            continue
        where = f"WHERE {focus} = 1" if focus else ""
        for row in db.fetch_arrow(f"SELECT * FROM {table} {where}").to_pylist():
            rid = int(ids[row["unique_id"]])
            refreshed.append(rid)
            key_rows.extend((rid, k) for k in set(block_keys(row, ctype)))
        for col in TF_COLUMNS[ctype]:
            frame = db.fetch_arrow(
                f"SELECT '{ctype}' AS customer_type, '{col}' AS tf_column, "
                f"CAST({col} AS VARCHAR) AS value, count(*) AS count FROM {table} "
                f"WHERE {col} IS NOT NULL GROUP BY {col} HAVING count(*) > 1 "
                f"UNION ALL SELECT '{ctype}', '{col}', '', count({col}) FROM {table}"
            ).to_pandas()
            tf_parts.append(frame)
    keys = pd.DataFrame(key_rows, columns=["record_id", "key"])
    tf = (pd.concat(tf_parts, ignore_index=True) if tf_parts
          else pd.DataFrame(columns=["customer_type", "tf_column", "value", "count"]))
    return IndexFrames(keys, refreshed, tf)


def write_index(conn: Connection, frames: IndexFrames) -> None:
    for batch in in_batches(frames.refreshed):
        conn.execute(delete(BlockKey).where(BlockKey.record_id.in_(batch)))
    insert_rows(conn, table_of(BlockKey), frames.keys)
    conn.execute(delete(TermFrequency))
    insert_rows(conn, table_of(TermFrequency), frames.tf)


def index_record(conn: Connection, record_id: int, features: Mapping[str, Any],
                 customer_type: str) -> None:
    """(Re)write the keys of one record (a registration or an update through the API)."""
    conn.execute(delete(BlockKey).where(BlockKey.record_id == record_id))
    keys = sorted(set(block_keys(features, customer_type)))
    if keys:
        conn.execute(insert(BlockKey), [{"record_id": record_id, "key": k} for k in keys])


def count_keys(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(BlockKey)).scalar_one())
