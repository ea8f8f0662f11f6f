"""Writing day files (CSV or Parquet), the truth file and the optional tag
file, a bounded number of rows at a time.

The bytes written never depend on how the rows were chunked: CSV rows are
written one after the other, and Parquet row groups always hold
:data:`PARQUET_ROW_GROUP` rows. CSV is UTF-8 or GBK (strict: every character
the generator uses is GBK-encodable, a test checks, so nothing is ever
replaced); Parquet is UTF-8 by definition.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from matching.exceptions import ECIFError

__all__ = ["CONTRACT_COLUMNS", "TableWriter", "check_encoding", "PARQUET_ROW_GROUP"]

#: CONTRACT.md §1, in order.
CONTRACT_COLUMNS: tuple[str, ...] = (
    "source_system", "source_customer_id", "customer_type", "name", "gender", "birth_date",
    "id_type", "id_number", "mobile", "phone", "email", "address", "legal_rep", "updated_at",
)
PARQUET_ROW_GROUP = 65_536
_ENCODINGS = {"utf-8": "utf-8", "gbk": "gbk"}


def check_encoding(encoding: str) -> str:
    """The codec name for ``encoding``: UTF-8 or GBK (CONTRACT.md §1)."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        raise ECIFError(f"unknown encoding {encoding!r}; expected utf-8 or gbk") from exc
    if name not in _ENCODINGS:
        raise ECIFError(f"encoding {encoding!r} is not supported; expected utf-8 or gbk")
    return _ENCODINGS[name]


class TableWriter:
    """Rows of fixed columns to one CSV or Parquet file."""

    def __init__(self, path: Path, columns: Sequence[str], fmt: str = "csv",
                 encoding: str = "utf-8", buffer_rows: int = 200_000) -> None:
        self.path = path
        self.columns = tuple(columns)
        self.fmt = fmt
        self.rows = 0
        self._buffer_rows = max(1, buffer_rows)
        self._pending: list[list[Any]] = [[] for _ in self.columns]
        self._pending_rows = 0
        self._file: IO[str] | None = None
        self._csv: Any = None
        self._parquet: pq.ParquetWriter | None = None
        if fmt == "csv":
            self._file = path.open("w", encoding=check_encoding(encoding), newline="")
            self._csv = csv.writer(self._file, lineterminator="\n")
            self._csv.writerow(self.columns)
        elif fmt == "parquet":
            schema = pa.schema([(c, pa.string()) for c in self.columns])
            self._parquet = pq.ParquetWriter(path, schema, compression="snappy")
        else:
            raise ECIFError(f"unknown format {fmt!r}; expected csv or parquet")

    def write(self, columns: Sequence[Sequence[Any]]) -> None:
        """Append rows given column-wise (one sequence per column, equal lengths)."""
        n = len(columns[0]) if columns else 0
        for pending, values in zip(self._pending, columns, strict=True):
            pending.extend(values)
        self._pending_rows += n
        self.rows += n
        if self._parquet is not None:
            while self._pending_rows >= PARQUET_ROW_GROUP:
                self._flush_parquet(PARQUET_ROW_GROUP)
        elif self._pending_rows >= self._buffer_rows:
            self._flush_csv()

    def _flush_csv(self) -> None:
        if self._pending_rows:
            self._csv.writerows(zip(*self._pending, strict=True))
        self._pending = [[] for _ in self.columns]
        self._pending_rows = 0

    def _flush_parquet(self, rows: int) -> None:
        assert self._parquet is not None
        table = pa.table({c: pa.array(v[:rows], pa.string())
                          for c, v in zip(self.columns, self._pending, strict=True)})
        self._parquet.write_table(table, row_group_size=rows)
        self._pending = [v[rows:] for v in self._pending]
        self._pending_rows -= rows

    def close(self) -> None:
        if self._parquet is not None:
            if self._pending_rows:
                self._flush_parquet(self._pending_rows)
            self._parquet.close()
            self._parquet = None
        elif self._file is not None:
            self._flush_csv()
            self._file.close()
            self._file = None

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
