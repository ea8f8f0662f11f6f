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

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, func, select

from ecif import rowsql
from ecif.bulk import in_batches, insert_rows, table_of
from matching.realtime.blocking import block_keys, candidate_rules, text_key
from models.realtime import BlockKey, TermFrequency

__all__ = ["IndexFrames", "index_frames", "write_index", "index_record", "TF_COLUMNS",
           "index_is_empty"]

#: Term-frequency-adjusted columns per type (matching/engine/comparisons.py, settings.py).
TF_COLUMNS = {"P": ("name_plain", "name_pinyin", "mobile", "phone", "address"),
              "G": ("org_core", "phone", "address")}
_TABLES = {"P": "persons", "G": "organisations"}
#: keys from which an empty index is written before its key index is built
_REBUILD_MIN = 100_000
_KEY_BATCH = 200_000


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
    ``focus`` is None), term frequencies of all. ``ids`` maps record key to id.

    Set-based: DuckDB builds each rule's key text for every record holding its
    columns; only the hash runs per key in Python (the same text and hash as
    :func:`matching.realtime.blocking.block_keys`, which the API uses)."""
    key_parts: list[pd.DataFrame] = []
    refreshed: list[np.ndarray] = []
    tf_parts = []
    for ctype, table in _TABLES.items():
        if not db.con.execute("SELECT count(*) FROM information_schema.tables "
                              f"WHERE table_name = '{table}'").fetchall()[0][0]:
            continue
        where = f"{focus} = 1" if focus else "TRUE"
        uids = db.fetch_arrow(f"SELECT unique_id FROM {table} WHERE {where}").column(0)
        refreshed.append(_record_ids(ids, uids.to_pylist()))
        for sql in _key_texts_sql(table, ctype, where):
            got = db.fetch_arrow(sql)
            texts = got.column(1).to_pylist()
            key_parts.append(pd.DataFrame({
                "record_id": _record_ids(ids, got.column(0).to_pylist()),
                "key": np.fromiter(map(text_key, texts), dtype=np.int64, count=len(texts))}))
        for col in TF_COLUMNS[ctype]:
            frame = db.fetch_arrow(
                f"SELECT '{ctype}' AS customer_type, '{col}' AS tf_column, "
                f"CAST({col} AS VARCHAR) AS value, count(*) AS count FROM {table} "
                f"WHERE {col} IS NOT NULL GROUP BY {col} HAVING count(*) > 1 "
                f"UNION ALL SELECT '{ctype}', '{col}', '', count({col}) FROM {table}"
            ).to_pandas()
            tf_parts.append(frame)
    keys = (pd.concat(key_parts, ignore_index=True) if key_parts
            else pd.DataFrame({"record_id": np.array([], np.int64),
                               "key": np.array([], np.int64)}))
    # one row per record and key (two rules' texts differ, so only a hash collision
    # repeats a key), in primary-key order: the cheapest order for the store's b-trees
    keys = keys.drop_duplicates().sort_values(["record_id", "key"], ignore_index=True)
    tf = (pd.concat(tf_parts, ignore_index=True) if tf_parts
          else pd.DataFrame(columns=["customer_type", "tf_column", "value", "count"]))
    done = np.concatenate(refreshed) if refreshed else np.array([], np.int64)
    return IndexFrames(keys, [int(i) for i in done], tf)


def _record_ids(ids: pd.Series, keys: list[str]) -> np.ndarray:
    pos = ids.index.get_indexer(pd.Index(keys))
    if (pos < 0).any():
        missing = [k for k, p in zip(keys, pos, strict=True) if p < 0][:3]
        raise KeyError(f"records not in the store: {missing}")
    return ids.to_numpy()[pos].astype(np.int64)


def _key_texts_sql(table: str, ctype: str, where: str) -> list[str]:
    """Per candidate rule, SQL of (unique_id, the text :func:`block_keys` hashes) for
    the records holding every column of the rule."""
    out = []
    for i, cols in enumerate(candidate_rules(ctype)):
        text = " || chr(31) || ".join(f"CAST({c} AS VARCHAR)" for c in cols)
        held = " AND ".join(f"{c} IS NOT NULL" for c in cols)
        out.append(f"SELECT unique_id, '{ctype}{i}' || chr(31) || {text} AS t "
                   f"FROM {table} WHERE ({where}) AND {held}")
    return out


def write_index(conn: Connection, frames: IndexFrames) -> None:
    empty = index_is_empty(conn)
    if not empty:
        for batch in in_batches(frames.refreshed):
            conn.execute(delete(BlockKey).where(BlockKey.record_id.in_(batch)))
    if conn.dialect.name == "sqlite" and len(frames.keys) > _REBUILD_MIN and empty:
        # a whole index (a first night): SQLite builds the key index faster by sorting
        # afterwards than by a random insert per row (same transaction: all or nothing;
        # 3.6 against 13.5 CPU-s for 1.6M keys)
        key_index = next(i for i in table_of(BlockKey).indexes if i.name == "ix_block_key_key")
        key_index.drop(conn)
        _insert_keys(conn, frames.keys)
        key_index.create(conn)
    else:
        _insert_keys(conn, frames.keys)
    conn.execute(delete(TermFrequency))
    insert_rows(conn, table_of(TermFrequency), frames.tf)


def _insert_keys(conn: Connection, keys: pd.DataFrame) -> None:
    """Two integer columns: on SQLite straight from the arrays (the generic row
    conversion cost 4 µs a key), elsewhere :func:`ecif.bulk.insert_rows` (COPY)."""
    if conn.dialect.name != "sqlite":
        insert_rows(conn, table_of(BlockKey), keys)
        return
    rows = list(zip(keys["record_id"].astype("int64").tolist(),
                    keys["key"].astype("int64").tolist(), strict=True))
    for start in range(0, len(rows), _KEY_BATCH):
        conn.exec_driver_sql("INSERT INTO block_key (record_id, key) VALUES (?, ?)",
                             rows[start:start + _KEY_BATCH])


def index_record(conn: Connection, record_id: int, features: Mapping[str, Any],
                 customer_type: str, *, fresh: bool = False) -> None:
    """(Re)write the keys of one record (a registration or an update through the API;
    ``fresh``: a record just inserted, with no keys yet), at the driver level."""
    if not fresh:
        rowsql.run(conn, "DELETE FROM block_key WHERE record_id = ?", (record_id,))
    keys = sorted(set(block_keys(features, customer_type)))
    rowsql.run_many(conn, "INSERT INTO block_key (record_id, key) VALUES (?, ?)",
                    [(record_id, k) for k in keys])


def count_keys(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(BlockKey)).scalar_one())
