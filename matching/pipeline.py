"""File-level standardisation: read a source file in chunks, standardise on
every core, write the standardised rows and the rejected rows.

The workers turn their chunk into CSV text and counts themselves
(:func:`_written`), so the parent only reads, hands out chunks and appends
text: no DataFrame of results crosses between processes."""

from __future__ import annotations

import json
import logging
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from matching.config import DEFAULT_CONFIG_DIR, CodeMaps, load_code_maps
from matching.sources import DEFAULT_CHUNK_ROWS, RefusedRow, read_source
from matching.standardise.batch import StandardisedChunk, standardise_chunks
from matching.standardise.columns import INPUT_COLUMNS, OUTPUT_COLUMNS

__all__ = ["StandardiseSummary", "standardise_file"]

logger = logging.getLogger(__name__)

#: After the input columns and ``reasons``: where a row that did not fit the header
#: starts, and its fields as read.
_REJECT_EXTRA = ("reasons", "line_number", "fields")


@dataclass
class StandardiseSummary:
    read: int = 0
    admitted: int = 0
    persons: int = 0
    organisations: int = 0
    rejected: int = 0
    issue_counts: Counter[str] = field(default_factory=Counter)
    reject_counts: Counter[str] = field(default_factory=Counter)


def _count_codes(values: Counter[str]) -> Counter[str]:
    """Issue codes from counts of ``;``-joined issue texts."""
    counts: Counter[str] = Counter()
    for value, n in values.items():
        for code in value.split(";"):
            counts[code] += n
    return counts


@dataclass(frozen=True)
class _Written:
    """What a worker sends back for one chunk."""

    admitted_csv: bytes          # UTF-8 CSV lines, OUTPUT_COLUMNS, no header
    admitted: int
    persons: int
    organisations: int
    issue_counts: Counter[str]
    rejected: pd.DataFrame       # the raw rows as read, plus ``reasons``


def _written(chunk: StandardisedChunk) -> _Written:
    types = chunk.counts("customer_type")
    return _Written(chunk.admitted_csv(), len(chunk), types["P"], types["G"],
                    _count_codes(chunk.counts("issues")), chunk.rejected)


def standardise_file(
    path: Path,
    out: Path,
    rejects: Path,
    *,
    encoding: str = "utf-8",
    config_dir: Path = DEFAULT_CONFIG_DIR,
    workers: int | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> StandardiseSummary:
    """Standardise ``path`` into ``out`` (OUTPUT_COLUMNS, UTF-8 CSV) and write every
    rejected row, as read plus ``reasons``, to ``rejects``; a row that does not fit
    the header (:func:`matching.sources.read_source`) goes there too, with its line
    and its fields as read (JSON) in the last two columns. Nothing is dropped:
    read == admitted + rejected."""
    codes = load_code_maps(config_dir)
    refused: deque[list[RefusedRow]] = deque()

    def tables() -> Iterator[pa.Table]:
        for chunk in read_source(path, encoding=encoding, chunk_rows=chunk_rows):
            refused.append(chunk.refused)
            yield chunk.table

    return _standardise(tables(), out, rejects, codes, workers, refused)


def _standardise(
    chunks: Iterable[pa.Table],
    out: Path,
    rejects: Path,
    codes: CodeMaps,
    workers: int | None,
    refused: deque[list[RefusedRow]],
) -> StandardiseSummary:
    summary = StandardiseSummary()
    out.parent.mkdir(parents=True, exist_ok=True)
    rejects.parent.mkdir(parents=True, exist_ok=True)
    reject_header: list[str] | None = None
    with out.open("wb") as ok_fh, rejects.open("w", encoding="utf-8", newline="") as bad_fh:
        ok_fh.write((",".join(OUTPUT_COLUMNS) + "\n").encode("utf-8"))
        for result in standardise_chunks(chunks, codes, workers=workers, finish=_written):
            bad = _with_refused(result.rejected, refused.popleft())
            summary.read += result.admitted + len(bad)
            summary.admitted += result.admitted
            summary.rejected += len(bad)
            summary.persons += result.persons
            summary.organisations += result.organisations
            summary.issue_counts.update(result.issue_counts)
            summary.reject_counts.update(_count_codes(Counter(bad["reasons"].tolist())))
            ok_fh.write(result.admitted_csv)
            if reject_header is None:
                reject_header = list(bad.columns)
                bad_fh.write(",".join(reject_header) + "\n")
            bad[reject_header].to_csv(bad_fh, header=False, index=False, lineterminator="\n")
        if reject_header is None:
            bad_fh.write(",".join([*INPUT_COLUMNS, *_REJECT_EXTRA]) + "\n")
    return summary


def _with_refused(bad: pd.DataFrame, refused: list[RefusedRow]) -> pd.DataFrame:
    """The rejected rows, and after them the rows that did not fit the header."""
    bad = bad.assign(line_number="", fields="")
    if not refused:
        return bad
    extra = pd.DataFrame({
        "reasons": [str(r.reason) for r in refused],
        "line_number": [str(r.line_number) for r in refused],
        "fields": [json.dumps(r.fields, ensure_ascii=False) for r in refused]})
    return pd.concat([bad, extra], ignore_index=True).fillna("")
