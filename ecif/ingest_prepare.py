"""What a worker process makes of one chunk of source rows, ready for the store.

Standardise (the same steps as ``ecif standardise``), quarantine times beyond
the tolerance into the future, keep the newest version of a key repeated
within the chunk, and lay the rows out as the staging table takes them: CSV
bytes for PostgreSQL's COPY; for SQLite, a small SQLite database holding the
stage table, written by ADBC from Arrow (no Python per row; the parent
attaches it and moves the rows with SQL). Rows that cannot be admitted come
back as exception rows with the raw row. Everything per row is done
column-wise (numpy, Arrow): one Python call per distinct value at most.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ecif.settings import memory_dir
from matching.config import CodeMaps
from matching.sources import SourceChunk
from matching.standardise.batch import StandardisedChunk, standardise_frame
from matching.standardise.issues import Issue
from matching.standardise.steps import utc_instant
from models.source_record import STD_FIELDS

__all__ = ["PrepareContext", "PreparedChunk", "prepare_chunk", "STAGE_COLUMNS", "STAGE_TABLE",
           "stage_database", "EXCEPTION_COLUMNS", "IDENTITY_FIELDS", "identity_keys",
           "identity_key_of", "future_limit"]

#: An update that changes one of these re-opens the record's match.
IDENTITY_FIELDS = ("customer_type", "name_plain", "gender", "birth_date", "id_type",
                   "id_cleaned", "org_core", "org_code", "org_branch")

#: The staging table's columns, in order: what ``source_record`` takes from a row.
STAGE_COLUMNS: tuple[str, ...] = (
    "record_key", "source_system", "source_customer_id", "customer_type", "updated_at",
    "updated_key", "raw", "identity_key", *STD_FIELDS)

#: The stage table's name (PostgreSQL: a temporary table; SQLite: in the chunk's database).
STAGE_TABLE = "ingest_stage"

EXCEPTION_COLUMNS = ("row_number", "line_number", "source_system", "source_customer_id",
                     "reasons", "raw")

_KEY_WIDTH = {"source_system": 40, "source_customer_id": 150}  # exception_row's columns
_CONTROL = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f\\ufeff]"
_NEEDS_ESCAPE = '["\\\\\\x00-\\x1f]'  # what json.dumps escapes (ensure_ascii=False)


#: Each byte as two lower-case hex digits.
_HEX = np.array([f"{b:02x}".encode() for b in range(256)], dtype="S2")


def identity_keys(frame: pd.DataFrame) -> pd.Series:
    """A stable hash of each row's identity fields: 16 lower-case hex digits
    (``f"{h:016x}"`` of the 64-bit hash, written column-wise)."""
    hashed = pd.util.hash_pandas_object(frame[list(IDENTITY_FIELDS)].fillna(""), index=False)
    octets = hashed.to_numpy(dtype=np.uint64).astype(">u8").view(np.uint8).reshape(-1, 8)
    text = np.ascontiguousarray(_HEX[octets]).view("S16").ravel().astype("U16")
    return pd.Series(text.astype(object), index=hashed.index)


_U64 = (1 << 64) - 1


def identity_key_of(record: Mapping[str, Any]) -> str:
    """:func:`identity_keys` of one record without building a frame (the real-time
    path): pandas hashes each value (``hash_array``, elementwise) and combines a
    row's column hashes as CPython combines a tuple's; the same here in integers.
    (``categorize=False``: the same hashes, without factorizing nine values first,
    which cost 0.17 ms a call.)"""
    values = np.array(["" if record.get(f) is None else record.get(f)
                       for f in IDENTITY_FIELDS], dtype=object)
    out, mult, n = 0x345678, 1000003, len(IDENTITY_FIELDS)
    for i, h in enumerate(pd.util.hash_array(values, categorize=False).tolist()):
        out = ((out ^ h) * mult) & _U64
        mult = (mult + 82520 + 2 * (n - i)) & _U64
    return f"{(out + 97531) & _U64:016x}"


def future_limit(now: datetime, tolerance: timedelta) -> str:
    """The latest ``updated_key`` admitted at ``now`` (naive times are UTC, as stored)."""
    when = now + tolerance
    return utc_instant(when if when.tzinfo else when.replace(tzinfo=UTC))


#: A staged column: (codes, values), row i holding values[codes[i]]; or (None, values).
StageColumn = tuple[np.ndarray | None, pa.Array]


@dataclass(frozen=True)
class PrepareContext:
    """What every chunk of one ingest run is prepared with."""

    codes: CodeMaps
    future_limit: str  # a later updated_key is quarantined (UPDATED_AT_FUTURE)
    copy_csv: bool  # stage as COPY rows (PostgreSQL; text format) rather than a database (SQLite)


@dataclass
class PreparedChunk:
    name: str  # the file (or pulled table) the rows came from
    read: int
    staged: int  # rows in the stage: one per key, the newest version in the chunk
    stale: int  # older versions of a key within the chunk, left out
    stage_csv: bytes | None
    stage_db: bytes | None  # SQLite: a database file holding STAGE_TABLE (stage_database)
    exceptions: pd.DataFrame  # EXCEPTION_COLUMNS
    reject_counts: Counter[str]
    newest_updated_at: str | None  # the largest updated_at as sent (database pulls)
    position: int
    size: int


def prepare_chunk(ctx: PrepareContext, item: tuple[str, SourceChunk]) -> PreparedChunk:
    name, chunk = item
    table = chunk.table
    result = standardise_frame(table, ctx.codes)
    raw = _raw_json(table)
    admitted = result.admitted_positions
    keys = result.values("updated_key")
    future = np.flatnonzero(keys > ctx.future_limit) if len(keys) else np.empty(0, np.intp)
    kept = np.setdiff1d(np.arange(len(admitted)), future, assume_unique=True)
    system = result.values("source_system", kept)
    record_key = system + ":" + result.values("source_customer_id", kept)
    newest = _newest_per_key(record_key, keys[kept], chunk.rows[admitted[kept]])
    kept = kept[newest]
    stage = _stage_columns(result, kept, record_key[newest], raw.take(admitted[kept]))

    exceptions = _exceptions(chunk, result, raw, admitted[future])
    reject_counts: Counter[str] = Counter()
    for reasons, n in exceptions["reasons"].value_counts().items():
        for code in str(reasons).split(";"):
            reject_counts[code] += int(n)
    newest_sent = None
    if "updated_at" in table.column_names and table.num_rows:
        newest_sent = pc.max(table.column("updated_at")).as_py()
    return PreparedChunk(
        name=name, read=len(chunk), staged=len(kept),
        stale=len(admitted) - len(future) - len(kept),
        stage_csv=_csv(stage) if ctx.copy_csv else None,
        stage_db=None if ctx.copy_csv else stage_database(stage),
        exceptions=exceptions, reject_counts=reject_counts, newest_updated_at=newest_sent,
        position=chunk.position, size=chunk.size)


def _newest_per_key(keys: np.ndarray, instants: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Positions keeping, per key, the newest instant (the later row on a tie)."""
    key_codes, uniques = pd.factorize(keys)
    if len(uniques) == len(keys):
        return np.arange(len(keys))
    instant_codes = pd.factorize(instants, sort=True)[0]
    order = np.lexsort((rows, instant_codes, key_codes))
    last = np.ones(len(order), dtype=bool)
    last[:-1] = key_codes[order][1:] != key_codes[order][:-1]
    return np.sort(order[last])


def _raw_json(table: pa.Table) -> pa.Array:
    """Each row as received, as compact JSON (column: value as read): what
    ``json.dumps`` writes for each distinct value, put together by Arrow."""
    if table.num_rows == 0:
        return pa.array([], pa.string())
    parts: list[pa.Array | str] = []
    for i, column in enumerate(table.column_names):
        encoded = pc.dictionary_encode(table.column(column)).combine_chunks()
        parts.append(("{" if i == 0 else ",") + json.dumps(column, ensure_ascii=False) + ":")
        parts.append(_json_strings(encoded.dictionary).take(encoded.indices))
    parts.append("}")
    return pc.binary_join_element_wise(*parts, "")


def _json_strings(values: pa.Array) -> pa.Array:
    """JSON string literals of ``values``: quoted as they are, unless a character
    needs escaping (a quote, a backslash, a control character): then ``json.dumps``."""
    quoted = pc.binary_join_element_wise('"', values, '"', "")
    special = pc.match_substring_regex(values, _NEEDS_ESCAPE)
    picked = np.flatnonzero(special.to_numpy(zero_copy_only=False))
    if not len(picked):
        return quoted
    escaped = [json.dumps(v, ensure_ascii=False) for v in values.take(picked).to_pylist()]
    return pc.replace_with_mask(quoted, special, pa.array(escaped, pa.string()))


def _stage_columns(result: StandardisedChunk, kept: np.ndarray, record_key: np.ndarray,
                   raw: pa.Array) -> list[StageColumn]:
    """The staging table's columns for the kept rows, each as (codes, values) where
    row ``i`` holds ``values[codes[i]]``, or (None, values) for one value a row.
    Values travel as Arrow arrays and codes as int32: plain buffers between processes."""
    identity = pd.DataFrame({c: result.values(c, kept) for c in IDENTITY_FIELDS})
    own: dict[str, StageColumn] = {
        "record_key": (None, pa.array(record_key, pa.string())), "raw": (None, raw),
        "identity_key": (None, pa.array(identity_keys(identity).to_numpy(dtype=object),
                                        pa.string()))}
    columns = []
    for c in STAGE_COLUMNS:
        if c in own:
            columns.append(own[c])
        else:
            codes, values = result.encoded(c, kept)
            columns.append((codes.astype(np.int32), pa.array(values, pa.string())))
    return columns


def stage_database(columns: list[StageColumn]) -> bytes:
    """The rows as an SQLite database file holding ``STAGE_TABLE`` (every column
    TEXT, rows in order), as bytes for ``sqlite3.Connection.deserialize``. ADBC
    binds the values from Arrow in C: Python's ``executemany`` costs about 9 µs a
    row for these 37 columns (a None parameter alone, looked up as an adapter and
    failing, ~0.3 µs), ADBC under 3."""
    # here, not at the top: the real-time API imports this module for identity_key_of
    from adbc_driver_sqlite import dbapi as adbc_sqlite

    arrays = [values if codes is None else values.take(pa.array(codes))
              for codes, values in columns]
    table = pa.table(dict(zip(STAGE_COLUMNS, arrays, strict=True)))
    # in memory where there is a /dev/shm: the file lives for milliseconds
    handle, path = tempfile.mkstemp(prefix="ecif-stage-", suffix=".db", dir=memory_dir())
    os.close(handle)
    try:
        with adbc_sqlite.connect(path, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("PRAGMA journal_mode = OFF")  # a scratch file: nothing to recover
            cur.execute(f"CREATE TABLE {STAGE_TABLE} "
                        f"({', '.join(f'{c} TEXT' for c in STAGE_COLUMNS)})")
            if table.num_rows:
                cur.adbc_ingest(STAGE_TABLE, table, mode="append")
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def _csv(columns: list[StageColumn]) -> bytes:
    """Rows as COPY's text format takes them: tab between fields, NULL as ``\\N``,
    a backslash, tab, line feed or carriage return in a value escaped with a
    backslash (rare: each distinct value is escaped once, only if it needs it).
    Cheaper than CSV, which would double every quote of the raw JSON."""
    codes0, values0 = columns[0]
    if not len(values0 if codes0 is None else codes0):
        return b""
    fields = []
    for codes, values in columns:
        text = pc.fill_null(_copy_escaped(values), "\\N")
        fields.append(text if codes is None else text.take(pa.array(codes)))
    fields[-1] = pc.binary_join_element_wise(fields[-1], "\n", "")
    lines = pc.binary_join_element_wise(*fields, "\t")
    _, offsets, data = lines.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)[lines.offset:lines.offset + len(lines) + 1]
    return memoryview(data)[bounds[0]:bounds[-1]].tobytes()


_COPY_SPECIAL = "[\\\\\t\n\r]"  # what COPY's text format reads specially in a value
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_escaped(values: pa.Array) -> pa.Array:
    special = pc.fill_null(pc.match_substring_regex(values, _COPY_SPECIAL), False)
    picked = np.flatnonzero(special.to_numpy(zero_copy_only=False))
    if not len(picked):
        return values
    escaped = [v.translate(_COPY_ESCAPES) for v in values.take(picked).to_pylist()]
    return pc.replace_with_mask(values, special, pa.array(escaped, pa.string()))


def _clean_key(values: pd.Series, column: str) -> pd.Series:
    """A key cell as exception_row keeps it: control characters out, trimmed, cut
    to the column's width, None when empty (the raw row keeps it whole)."""
    text = values.astype(str).str.replace(_CONTROL, "", regex=True).str.strip()
    text = text.str.slice(0, _KEY_WIDTH[column])
    return text.where(text.ne(""), None)


def _exceptions(chunk: SourceChunk, result: StandardisedChunk, raw: pa.Array,
                future: np.ndarray) -> pd.DataFrame:
    parts = []
    bad = result.rejected_positions
    for positions, reasons in ((bad, result.rejected["reasons"].to_numpy(dtype=object)),
                               (future, np.full(len(future), str(Issue.UPDATED_AT_FUTURE),
                                                dtype=object))):
        if not len(positions):
            continue
        taken = chunk.table.take(pa.array(positions, pa.int64()))
        frame = pd.DataFrame({
            "row_number": chunk.rows[positions], "line_number": None,
            "source_system": _clean_key(pd.Series(taken.column("source_system").to_pylist()),
                                        "source_system"),
            "source_customer_id": _clean_key(
                pd.Series(taken.column("source_customer_id").to_pylist()),
                "source_customer_id"),
            "reasons": reasons, "raw": raw.take(pa.array(positions, pa.int64())).to_pylist()})
        parts.append(frame)
    if chunk.refused:
        parts.append(pd.DataFrame({
            "row_number": [r.row_number for r in chunk.refused],
            "line_number": [r.line_number for r in chunk.refused],
            "source_system": None, "source_customer_id": None,
            "reasons": [str(r.reason) for r in chunk.refused],
            "raw": [json.dumps({"fields": r.fields}, ensure_ascii=False)
                    for r in chunk.refused]}))
    if not parts:
        return pd.DataFrame(columns=list(EXCEPTION_COLUMNS))
    frame = pd.concat(parts, ignore_index=True).sort_values("row_number", kind="stable")
    return frame.reset_index(drop=True)[list(EXCEPTION_COLUMNS)]
