"""File-level standardisation: read a source file in chunks, standardise on
every core, write the standardised rows and the rejected rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from matching.config import DEFAULT_CONFIG_DIR, load_code_maps
from matching.sources import DEFAULT_CHUNK_ROWS, read_source_chunks
from matching.standardise.batch import standardise_chunks
from matching.standardise.columns import INPUT_COLUMNS, OUTPUT_COLUMNS

__all__ = ["StandardiseSummary", "standardise_file"]


@dataclass
class StandardiseSummary:
    read: int = 0
    admitted: int = 0
    persons: int = 0
    organisations: int = 0
    rejected: int = 0
    issue_counts: Counter[str] = field(default_factory=Counter)
    reject_counts: Counter[str] = field(default_factory=Counter)


def _count_codes(series: pd.Series) -> Counter[str]:
    counts: Counter[str] = Counter()
    for value, n in series.dropna().value_counts().items():
        for code in str(value).split(";"):
            counts[code] += int(n)
    return counts


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
    rejected row, as read plus ``reasons``, to ``rejects``. Nothing is dropped:
    read == admitted + rejected."""
    codes = load_code_maps(config_dir)
    summary = StandardiseSummary()
    out.parent.mkdir(parents=True, exist_ok=True)
    rejects.parent.mkdir(parents=True, exist_ok=True)
    reject_header: list[str] | None = None
    with out.open("w", encoding="utf-8", newline="") as ok_fh, \
            rejects.open("w", encoding="utf-8", newline="") as bad_fh:
        ok_fh.write(",".join(OUTPUT_COLUMNS) + "\n")
        chunks = read_source_chunks(path, encoding=encoding, chunk_rows=chunk_rows)
        for result in standardise_chunks(chunks, codes, workers=workers):
            ok, bad = result.admitted, result.rejected
            summary.read += len(ok) + len(bad)
            summary.admitted += len(ok)
            summary.rejected += len(bad)
            summary.persons += int((ok["customer_type"] == "P").sum())
            summary.organisations += int((ok["customer_type"] == "G").sum())
            summary.issue_counts.update(_count_codes(ok["issues"]))
            summary.reject_counts.update(_count_codes(bad["reasons"]))
            ok.to_csv(ok_fh, header=False, index=False, lineterminator="\n")
            if reject_header is None:
                reject_header = list(bad.columns)
                bad_fh.write(",".join(reject_header) + "\n")
            bad[reject_header].to_csv(bad_fh, header=False, index=False, lineterminator="\n")
        if reject_header is None:
            bad_fh.write(",".join([*INPUT_COLUMNS, "reasons"]) + "\n")
    return summary
