"""Reading source files (CONTRACT.md §1) in bounded chunks.

CSV in UTF-8 (with or without BOM) or GBK, or Parquet; every column is read
as text, and an empty cell stays an empty string (never NaN, never the
string "nan"): a customer called 'NA' is a customer.

:func:`read_source` is how ingest and ``ecif standardise`` read a file: a row
is never shifted into other columns. A row with more fields than the header
is read as the header says when the surplus fields are empty (a trailing
comma on every row, a common export quirk) and refused otherwise; a row with
fewer fields, or a last line cut inside a quoted field, is refused; each
refused row comes with its data-row and line numbers and its fields as read.
Well-formed files go through Arrow's reader; from the first row Arrow cannot
place, the rest of the file is read by Python's ``csv`` module, which knows
line numbers.

:func:`read_source_chunks` (pandas) is the old reference reader, kept for
benchmarks and tests: on a well-formed file the two read the same; on a
ragged one pandas pads short rows and shifts long ones.
"""

from __future__ import annotations

import codecs
import csv
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from matching.exceptions import InputFileError
from matching.standardise.columns import INPUT_COLUMNS, REQUIRED_COLUMNS
from matching.standardise.issues import Issue

__all__ = ["read_source", "SourceChunk", "RefusedRow", "ROW_TOO_LONG", "ROW_TOO_SHORT",
           "ROW_TRUNCATED", "read_source_chunks", "DEFAULT_CHUNK_ROWS"]

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
        yield from (frame for frame, _ in _read_parquet(path, chunk_rows))
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


def _read_parquet(path: Path, chunk_rows: int) -> Iterator[tuple[pd.DataFrame, int]]:
    """Chunks of the file, each with the file's number of rows."""
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise InputFileError(f"{path}: not a readable Parquet file: {exc}") from exc
    _check_columns(path, list(pf.schema_arrow.names))
    for batch in pf.iter_batches(batch_size=chunk_rows):
        frame = batch.to_pandas()
        frame = frame.astype(object).where(frame.notna(), "").astype(str)
        yield _complete(frame), pf.metadata.num_rows


def _complete_table(table: pa.Table) -> pa.Table:
    for col in INPUT_COLUMNS:
        if col not in table.column_names:
            table = table.append_column(col, pa.array([""] * table.num_rows, pa.string()))
    return table.combine_chunks()


# --- the careful reader ------------------------------------------------------------

#: Why a row could not be read as a record (exception reasons).
ROW_TOO_LONG, ROW_TOO_SHORT, ROW_TRUNCATED = (
    Issue.ROW_TOO_LONG, Issue.ROW_TOO_SHORT, Issue.ROW_TRUNCATED)

_READ_BLOCK = 1 << 22  # bytes Arrow parses at a time; a row must fit in one


@dataclass(frozen=True)
class RefusedRow:
    """A row that cannot be placed in the header's columns: kept as it came."""

    row_number: int  # 1-based data row (blank lines not counted)
    line_number: int  # 1-based line of the file where the row starts
    reason: str
    fields: list[str]


@dataclass
class SourceChunk:
    """Rows read from a source file: ``table`` holds the rows that fit the header
    (every column text, INPUT_COLUMNS completed), ``rows`` their 1-based data-row
    numbers, ``refused`` the rows that did not fit. ``position`` is how far into
    the file (bytes) reading has come, of ``size``."""

    table: pa.Table
    rows: np.ndarray
    refused: list[RefusedRow] = field(default_factory=list)
    position: int = 0
    size: int = 0

    def __len__(self) -> int:
        return self.table.num_rows + len(self.refused)


def read_source(path: Path, encoding: str = "utf-8",
                chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[SourceChunk]:
    """Yield the file in chunks of at most ``chunk_rows`` rows (read + refused).

    Raises InputFileError for a missing or empty file, a header without the
    required columns or with a name twice, and text that does not decode (with
    the byte offset and line) — before or after some chunks: a caller that
    must load all or nothing of a file keeps its writes uncommitted until the end.
    """
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if path.suffix.lower() in (".parquet", ".pq"):
        done = 0
        size = path.stat().st_size
        for frame, total in _read_parquet(path, chunk_rows):
            rows = np.arange(done + 1, done + 1 + len(frame), dtype=np.int64)
            done += len(frame)
            yield SourceChunk(pa.Table.from_pandas(frame, preserve_index=False), rows,
                              position=size * done // max(total, 1), size=size)
        return
    enc = _normalise_encoding(encoding)
    names = _header(path, enc, encoding)
    done = 0
    if not _unbalanced_quotes(path):
        arrow = _ArrowChunks(path, enc, names, chunk_rows)
        try:
            for chunk in arrow:
                done += len(chunk)
                yield chunk
            return
        except _CannotPlace:
            pass  # the rest of the file is read row by row, from the first unread row
    yield from _python_chunks(path, enc, encoding, names, chunk_rows, skip=done)


def _header(path: Path, enc: str, encoding: str) -> list[str]:
    """The header's column names; an empty name becomes ``column_<n>``."""
    try:
        with path.open(encoding=enc, newline="") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError:
        _raise_decode_error(path, enc, encoding)
    if header is None:
        raise InputFileError(f"{path}: empty file, expected a CSV header row")
    names = [name.strip() or f"column_{i}" for i, name in enumerate(header, 1)]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputFileError(f"{path}: column(s) {', '.join(twice)} named twice in the header")
    _check_columns(path, names)
    return names


def _unbalanced_quotes(path: Path) -> bool:
    """An odd number of quote characters: a quoted field never closed (a file cut
    short). A quote byte is never part of a multi-byte UTF-8 or GBK character."""
    count = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 24):
            count += block.count(b'"')
    return count % 2 == 1


class _CannotPlace(Exception):
    """Arrow met a row it cannot place (or cannot decode): read on with Python."""


class _ArrowChunks:
    """The fast path: Arrow's streaming CSV reader, until a row does not fit."""

    def __init__(self, path: Path, enc: str, names: list[str], chunk_rows: int) -> None:
        self.path, self.enc, self.names, self.chunk_rows = path, enc, names, chunk_rows

    def __iter__(self) -> Iterator[SourceChunk]:
        size = self.path.stat().st_size
        stream = pa.OSFile(str(self.path))
        options = pcsv.ReadOptions(column_names=self.names, skip_rows=1,
                                   block_size=_READ_BLOCK,
                                   encoding="utf8" if self.enc == "utf-8-sig" else self.enc)
        parse = pcsv.ParseOptions(newlines_in_values=True)  # a wrong field count raises
        convert = pcsv.ConvertOptions(column_types=dict.fromkeys(self.names, pa.string()),
                                      strings_can_be_null=False,
                                      quoted_strings_can_be_null=False)
        done = 0
        position = 0  # bytes of the file the rows handed out took, about
        pending: list[pa.RecordBatch] = []
        rows = 0
        try:
            reader = pcsv.open_csv(stream, read_options=options, parse_options=parse,
                                   convert_options=convert)
            for batch in reader:
                pending.append(batch)
                rows += batch.num_rows
                while rows >= self.chunk_rows:
                    table = pa.Table.from_batches(pending)
                    part, rest = table.slice(0, self.chunk_rows), table.slice(self.chunk_rows)
                    position = min(position + _csv_bytes(part), size - 1)
                    yield self._chunk(part, done, position, size)
                    done += part.num_rows
                    pending, rows = rest.to_batches(), rest.num_rows
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            # Rows parsed but not yet handed out are read again by the slow path.
            raise _CannotPlace(str(exc)) from exc
        finally:
            stream.close()
        if rows:
            yield self._chunk(pa.Table.from_batches(pending), done, size, size)

    @staticmethod
    def _chunk(table: pa.Table, done: int, position: int, size: int) -> SourceChunk:
        rows = np.arange(done + 1, done + 1 + table.num_rows, dtype=np.int64)
        return SourceChunk(_complete_table(table), rows, position=position, size=size)


def _csv_bytes(table: pa.Table) -> int:
    """About how many bytes of CSV the rows of ``table`` were: their text, plus a
    separator per cell (an Arrow string column holds 4 bytes of offset per cell).
    Arrow reads ahead, so its file position says little about the rows handed out."""
    return max(0, table.nbytes - 3 * table.num_rows * table.num_columns)


class _Lines:
    """The lines of a text file, counting them and keeping those of the current row."""

    def __init__(self, fh: io.TextIOWrapper) -> None:
        self.fh = fh
        self.number = 0
        self.held: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self.fh)
        self.number += 1
        self.held.append(line)
        return line

    def take(self) -> tuple[int, str]:
        """The first line number and the text of the row just read."""
        text = "".join(self.held)
        first = self.number - len(self.held) + 1
        self.held = []
        return first, text


def _python_chunks(path: Path, enc: str, encoding: str, names: list[str], chunk_rows: int,
                   skip: int) -> Iterator[SourceChunk]:
    """The careful path: Python's csv module, row by row, from data row ``skip + 1``."""
    width = len(names)
    size = path.stat().st_size
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        with path.open(encoding=enc, newline="") as fh:
            lines = _Lines(fh)
            reader = csv.reader(lines)
            next(reader)  # the header
            lines.take()
            good: list[list[str]] = []
            numbers: list[int] = []
            refused: list[RefusedRow] = []
            row = 0
            for fields in reader:
                line, text = lines.take()
                if not fields:
                    continue  # a blank line is not a row
                row += 1
                if row <= skip:
                    continue
                if len(fields) > width and not any(fields[width:]):
                    fields = fields[:width]  # a trailing comma
                cut = _cut_in_quotes(text)
                if len(fields) == width and not cut:
                    good.append(fields)
                    numbers.append(row)
                else:
                    reason = (ROW_TRUNCATED if cut else ROW_TOO_LONG if len(fields) > width
                              else ROW_TOO_SHORT)
                    refused.append(RefusedRow(row, line, reason, fields))
                if len(good) + len(refused) >= chunk_rows:
                    yield _python_chunk(names, good, numbers, refused, fh, size)
                    good, numbers, refused = [], [], []
            if good or refused:
                yield _python_chunk(names, good, numbers, refused, fh, size)
    except UnicodeDecodeError:
        _raise_decode_error(path, enc, encoding)
    finally:
        csv.field_size_limit(limit)


def _cut_in_quotes(text: str) -> bool:
    """A row that the end of the file cut inside a quoted field."""
    if text.count('"') % 2 == 0:
        return False
    try:
        list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _python_chunk(names: list[str], good: list[list[str]], numbers: list[int],
                  refused: list[RefusedRow], fh: io.TextIOWrapper, size: int) -> SourceChunk:
    columns = list(zip(*good, strict=True)) if good else [()] * len(names)
    table = pa.table({name: pa.array(col, pa.string()) for name, col in
                      zip(names, columns, strict=True)})
    try:
        position = cast(io.BufferedReader, fh.buffer).tell()
    except (OSError, ValueError):
        position = 0
    return SourceChunk(_complete_table(table), np.array(numbers, dtype=np.int64), refused,
                       position=position, size=size)


def _raise_decode_error(path: Path, enc: str, encoding: str) -> None:
    """Find where ``path`` stops decoding and say so (byte offset and line)."""
    decoder = codecs.getincrementaldecoder(enc)()
    offset, line = 0, 1
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                bad = offset + exc.start
                line += block[: exc.start].count(b"\n")
                hint = " (try --encoding gbk)" if enc.startswith("utf") else ""
                raise InputFileError(f"{path}: not valid {encoding} text at byte {bad} "
                                     f"(line {line}){hint}") from None
            offset += len(block)
            line += block.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InputFileError(f"{path}: not valid {encoding} text: the file ends inside a "
                             "character") from None
    raise InputFileError(f"{path}: not valid {encoding} text")
