"""Reading source files (CONTRACT.md §1) in bounded chunks.

CSV in UTF-8 (with or without BOM) or GBK, or Parquet; every column is read
as text, and an empty cell stays an empty string (never NaN, never the
string "nan"): a customer called 'NA' is a customer.

:func:`read_source_chunks` (pandas) reads every file and is the reference.
:func:`read_source_tables` is the fast path for well-formed CSV: Arrow's
reader, several times cheaper, yielding Arrow tables that cross to worker
processes as plain buffers. Where it could read a file differently from the
reference (a short row pandas would pad, duplicate header names, text that
does not decode) it raises :class:`NotArrowReadable` instead, and the caller
reads the file with :func:`read_source_chunks`.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from matching.exceptions import InputFileError
from matching.standardise.columns import INPUT_COLUMNS, REQUIRED_COLUMNS

__all__ = ["read_source_chunks", "read_source_tables", "NotArrowReadable", "DEFAULT_CHUNK_ROWS"]

DEFAULT_CHUNK_ROWS = 100_000


def _normalise_encoding(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        raise InputFileError(f"unknown encoding {encoding!r}; expected utf-8 or gbk") from exc
    # utf-8-sig reads files with and without a BOM alike.
    return "utf-8-sig" if name == "utf-8" else name


def _check_columns(path: Path, columns: list[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InputFileError(
            f"{path}: missing required column(s) {', '.join(missing)}; "
            f"expected the contract header {','.join(INPUT_COLUMNS)}"
        )


def _complete(frame: pd.DataFrame) -> pd.DataFrame:
    for col in INPUT_COLUMNS:
        if col not in frame.columns:
            frame[col] = ""
    return frame


def read_source_chunks(
    path: Path, encoding: str = "utf-8", chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """Yield the file as DataFrames of at most ``chunk_rows`` rows, all text.

    Raises InputFileError (with the file, and what was expected) when the file
    is missing, not decodable in ``encoding``, or lacks a required column.
    Columns beyond the contract's are kept (they travel with rejected rows).
    """
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if path.suffix.lower() in (".parquet", ".pq"):
        yield from _read_parquet(path, chunk_rows)
        return
    enc = _normalise_encoding(encoding)
    try:
        with pd.read_csv(
            path,
            dtype=str,
            encoding=enc,
            keep_default_na=False,
            na_filter=False,
            chunksize=chunk_rows,
            engine="c",
        ) as reader:
            first = True
            for chunk in reader:
                if first:
                    _check_columns(path, [str(c) for c in chunk.columns])
                    first = False
                yield _complete(chunk)
        if first:  # a header and no rows: still check the header
            header = pd.read_csv(path, dtype=str, encoding=enc, nrows=0)
            _check_columns(path, [str(c) for c in header.columns])
    except UnicodeDecodeError as exc:
        hint = " (try --encoding gbk)" if enc.startswith("utf") else ""
        raise InputFileError(
            f"{path}: not valid {encoding} text at byte {exc.start}{hint}"
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputFileError(f"{path}: empty file, expected a CSV header row") from exc
    except pd.errors.ParserError as exc:
        raise InputFileError(f"{path}: malformed CSV: {exc}") from exc


def _read_parquet(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise InputFileError(f"{path}: not a readable Parquet file: {exc}") from exc
    _check_columns(path, list(pf.schema_arrow.names))
    for batch in pf.iter_batches(batch_size=chunk_rows):
        frame = batch.to_pandas()
        frame = frame.astype(object).where(frame.notna(), "").astype(str)
        yield _complete(frame)


class NotArrowReadable(Exception):
    """Arrow's CSV reader cannot read this file as :func:`read_source_chunks` would."""


def read_source_tables(
    path: Path, encoding: str = "utf-8", chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[pa.Table]:
    """Yield a CSV file as Arrow tables of at most ``chunk_rows`` rows, every
    column a non-null string: what :func:`read_source_chunks` yields, as Arrow.

    Raises InputFileError for a missing file or a header without the required
    columns, and NotArrowReadable (possibly after some tables) when the file
    needs the reference reader.
    """
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    enc = _normalise_encoding(encoding)
    read_options = pcsv.ReadOptions(encoding="utf8" if enc == "utf-8-sig" else enc)
    try:
        names = pcsv.open_csv(path, read_options=read_options).schema.names
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise NotArrowReadable(str(exc)) from exc
    if len(set(names)) != len(names):  # pandas renames duplicates, Arrow does not
        raise NotArrowReadable(f"duplicate column names in {names}")
    _check_columns(path, names)
    convert = pcsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    pending: list[pa.RecordBatch] = []
    rows = 0
    try:
        for batch in pcsv.open_csv(path, read_options=read_options, convert_options=convert):
            pending.append(batch)
            rows += batch.num_rows
            while rows >= chunk_rows:
                table = pa.Table.from_batches(pending)
                yield _complete_table(table.slice(0, chunk_rows))
                rest = table.slice(chunk_rows)
                pending, rows = rest.to_batches(), rest.num_rows
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise NotArrowReadable(str(exc)) from exc
    if rows:
        yield _complete_table(pa.Table.from_batches(pending))


def _complete_table(table: pa.Table) -> pa.Table:
    for col in INPUT_COLUMNS:
        if col not in table.column_names:
            table = table.append_column(col, pa.array([""] * table.num_rows, pa.string()))
    return table.combine_chunks()
