"""The store's standardised records as a DuckDB table, for the engine: the match
stage matches against them and ``ecif train`` trains on them."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Connection

from ecif.bulk import read_chunks
from matching.engine.backend import DuckDBBackend
from matching.standardise.columns import OUTPUT_COLUMNS

__all__ = ["load_records", "STD_TABLE", "FOCUS"]

STD_TABLE = "std_records"
#: 1 for a record in the run's scope (new or changed, or named by a decision)
FOCUS = "_focus"
_CHUNK = 200_000


def load_records(conn: Connection, db: DuckDBBackend, watermark_to: int | None = None,
                 focus_sql: str | None = None, focus_keys: Sequence[str] = ()) -> int:
    """Load every record ingested up to ``watermark_to`` (all, when None) into
    ``STD_TABLE``, with ``FOCUS`` set where ``focus_sql`` (a condition on
    ``source_record``) holds or the record key is in ``focus_keys``."""
    cols = list(OUTPUT_COLUMNS)
    db.con.execute(f"CREATE OR REPLACE TABLE {STD_TABLE} (record_id BIGINT, "
                   + ", ".join(f"{c} VARCHAR" for c in cols) + f", {FOCUS} INTEGER)")
    focus = f"CASE WHEN {focus_sql} THEN 1 ELSE 0 END" if focus_sql else "0"
    upto = f"WHERE ingest_id <= {int(watermark_to)}" if watermark_to is not None else ""
    query = (f"SELECT id AS record_id, {', '.join(cols)}, {focus} AS {FOCUS} "
             f"FROM source_record {upto}")
    total = 0
    for chunk in read_chunks(conn, query, _CHUNK):
        for c in cols:
            chunk[c] = chunk[c].astype(object)
        db.con.register("_chunk", chunk)
        db.con.execute(f"INSERT INTO {STD_TABLE} SELECT * FROM _chunk")
        db.con.unregister("_chunk")
        total += len(chunk)
    if focus_keys:
        db.con.register("_decided", pd.DataFrame({"k": list(focus_keys)}))
        db.con.execute(f"UPDATE {STD_TABLE} SET {FOCUS} = 1 WHERE source_system || ':' || "
                       "source_customer_id IN (SELECT k FROM _decided)")
        db.con.unregister("_decided")
    return total
