"""The real-time API's index, kept in step by the batch and by registrations:
blocking keys per record (``block_key``) and the term frequencies Splink
counted (``term_frequency``); see :mod:`models.realtime`.

The batch's match stage computes both from the engine's feature tables while
its DuckDB is open (:func:`index_frames`) and writes them in its plan's
transaction (:func:`write_index`): the keys of the records in scope (all
records when the index is empty, e.g. after the upgrade that added it, or was
built for other rules: :func:`index_is_current`) and every term frequency afresh.

The keys: one per candidate blocking rule a record holds, and one per weak rule
no candidate rule covers (:func:`matching.realtime.blocking.indexed_rules`), so
that the API finds a weak rule's records as the batch pairs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, func, insert, select

from ecif import rowsql
from ecif.bulk import in_batches, insert_rows, table_of
from matching.engine.config import EngineConfig
from matching.realtime.blocking import (
    block_keys,
    candidate_rules,
    index_signature,
    indexed_rules,
    rule_key_text,
    rule_keys,
    text_key,
)
from models.customer import Counter
from models.realtime import BlockKey, TermFrequency

__all__ = ["IndexFrames", "index_frames", "write_index", "index_record", "index_statements",
           "TF_COLUMNS",
           "index_is_current", "weak_index_rules", "record_keys"]

#: Term-frequency-adjusted columns per type (matching/engine/comparisons.py, settings.py).
TF_COLUMNS = {"P": ("name_plain", "name_pinyin", "mobile", "phone", "address"),
              "G": ("org_core", "phone", "address")}
_TABLES = {"P": "persons", "G": "organisations"}
#: keys from which an empty index is written before its key index is built
_REBUILD_MIN = 100_000
_KEY_BATCH = 200_000
#: the counter holding :func:`matching.realtime.blocking.index_signature` of the keys
_SIGNATURE = "block_key_rules"


@dataclass
class IndexFrames:
    keys: pd.DataFrame  # record_id, key
    refreshed: list[int]  # record ids whose keys are replaced
    tf: pd.DataFrame  # customer_type, column, value, count
    signature: int | None = None  # set when the keys are every record's (a whole index)


def weak_index_rules(config: EngineConfig) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Per type, the columns of the weak rules that get keys of their own."""
    return {ctype: indexed_rules(ctype, [r.equal for r in config.for_type(ctype).weak_rules])
            for ctype in _TABLES}


def record_keys(features: Mapping[str, Any], customer_type: str,
                weak: Mapping[str, tuple[tuple[str, ...], ...]]) -> list[int]:
    """Every key of one record: candidate rules and indexed weak rules."""
    return sorted({*block_keys(features, customer_type),
                   *rule_keys(features, customer_type, weak.get(customer_type, ()))})


def index_is_current(conn: Connection, config: EngineConfig) -> bool:
    """True when the store's keys exist and were built for ``config``'s rules; else
    the batch writes the keys of every record."""
    if conn.execute(select(BlockKey.record_id).limit(1)).first() is None:
        return False
    held = conn.execute(select(Counter.value).where(Counter.name == _SIGNATURE)).scalar()
    return held == index_signature(weak_index_rules(config))


def index_frames(db: Any, ids: pd.Series, focus: str | None, config: EngineConfig
                 ) -> IndexFrames:
    """From the engine's feature tables in ``db`` (a DuckDB backend after
    ``run_matching``): keys of the records whose ``focus`` is 1 (all when
    ``focus`` is None), term frequencies of all. ``ids`` maps record key to id.

    Set-based: DuckDB builds each rule's key text for every record holding its
    columns; only the hash runs per key in Python (the same text and hash as
    :func:`record_keys`, which the API uses)."""
    weak = weak_index_rules(config)
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
        for sql in _key_texts_sql(table, ctype, where, weak[ctype]):
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
    return IndexFrames(keys, [int(i) for i in done], tf,
                       index_signature(weak) if focus is None else None)


def _record_ids(ids: pd.Series, keys: list[str]) -> np.ndarray:
    pos = ids.index.get_indexer(pd.Index(keys))
    if (pos < 0).any():
        missing = [k for k, p in zip(keys, pos, strict=True) if p < 0][:3]
        raise KeyError(f"records not in the store: {missing}")
    return ids.to_numpy()[pos].astype(np.int64)


def _key_texts_sql(table: str, ctype: str, where: str,
                   weak: tuple[tuple[str, ...], ...]) -> list[str]:
    """Per candidate rule and indexed weak rule, SQL of (unique_id, the text
    :func:`record_keys` hashes) for the records holding every column of the rule."""
    prefixes = [(f"{ctype}{i}", cols) for i, cols in enumerate(candidate_rules(ctype))]
    prefixes += [(rule_key_text(ctype, cols), cols) for cols in weak]
    out = []
    for prefix, cols in prefixes:
        text = " || chr(31) || ".join(f"CAST({c} AS VARCHAR)" for c in cols)
        held = " AND ".join(f"{c} IS NOT NULL" for c in cols)
        out.append(f"SELECT unique_id, '{prefix}' || chr(31) || {text} AS t "
                   f"FROM {table} WHERE ({where}) AND {held}")
    return out


def write_index(conn: Connection, frames: IndexFrames) -> None:
    empty = conn.execute(select(BlockKey.record_id).limit(1)).first() is None
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
    if frames.signature is not None:
        conn.execute(delete(Counter).where(Counter.name == _SIGNATURE))
        conn.execute(insert(Counter).values(name=_SIGNATURE, value=frames.signature))


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
                 customer_type: str, weak: Mapping[str, tuple[tuple[str, ...], ...]], *,
                 fresh: bool = False) -> None:
    """(Re)write the keys of one record (a registration or an update through the API;
    ``fresh``: a record just inserted, with no keys yet; ``weak``:
    :func:`weak_index_rules`), at the driver level."""
    if not fresh:  # (not in one statement with the insert: that would not see the delete)
        rowsql.run(conn, "DELETE FROM block_key WHERE record_id = ?", (record_id,))
    rowsql.together(conn, index_statements(record_id, features, customer_type, weak))


def index_statements(record_id: int, features: Mapping[str, Any], customer_type: str,
                     weak: Mapping[str, tuple[tuple[str, ...], ...]]
                     ) -> list[tuple[str, tuple[Any, ...]]]:
    """The keys of a record that has none yet (just inserted), as (sql, params) for
    :func:`ecif.rowsql.together`: one insert of every key (none when it has none)."""
    keys = record_keys(features, customer_type, weak)
    if not keys:
        return []
    return [("INSERT INTO block_key (record_id, key) VALUES "
             + ", ".join("(?, ?)" for _ in keys), tuple(v for k in keys for v in (record_id, k)))]


def count_keys(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(BlockKey)).scalar_one())
