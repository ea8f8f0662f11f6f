"""Benchmark: standardisation throughput and peak memory on generated data.

    .venv/bin/python bench/standardise.py [--records 1000000] [--workers N] [--file F]

Generates RECORDS source rows with the project's generator (seed 1), or takes
the source file F, then runs
the batch path (``ecif standardise``'s code) over the file and reports
records/s and the peak resident memory of the whole process tree (parent +
workers, sampled every 100 ms). As the peer, in the same run, it times the
per-record path without any caching on one core over a slice of the same file,
and prints the speed ratio.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from _common import TreeMemory, machine

from matching.config import load_code_maps
from matching.generator import generate
from matching.pipeline import standardise_file
from matching.sources import read_source_chunks
from matching.standardise import steps as steps_module
from matching.standardise.record import standardise_record


def _uncached_per_record(path: Path, rows: int) -> float:
    """Records/s of the per-record path on one core with every cache disabled."""
    codes = load_code_maps()
    frame = next(read_source_chunks(path, "utf-8", rows))
    fields = steps_module._Fields(size=0)  # lru_cache(maxsize=0): no caching
    steps_module.cached_fields.cache_clear()
    original = steps_module.cached_fields
    steps_module.cached_fields = lambda: fields  # type: ignore[assignment]
    try:
        cols = list(frame.columns)
        started = time.perf_counter()
        for raw in frame.itertuples(index=False):
            standardise_record(dict(zip(cols, raw, strict=True)), codes)
        return len(frame) / (time.perf_counter() - started)
    finally:
        steps_module.cached_fields = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--peer-rows", type=int, default=50_000)
    parser.add_argument("--file", type=Path, help="a source file to use instead of generating")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        if args.file is not None:
            src = args.file
        else:
            t0 = time.perf_counter()
            generate(tmpdir / "gen", records=args.records, seed=1)
            print(f"generated {args.records:,} records in {time.perf_counter() - t0:.1f}s")
            src = tmpdir / "gen" / "day_001.csv"

        with TreeMemory() as mem:
            t0 = time.perf_counter()
            summary = standardise_file(src, tmpdir / "std.csv", tmpdir / "rejects.csv",
                                       workers=args.workers)
            elapsed = time.perf_counter() - t0
        rate = summary.read / elapsed
        peer = _uncached_per_record(src, min(args.peer_rows, summary.read))

    print(f"machine: {machine()}")
    print(f"batch standardise: {summary.read:,} rows ({summary.admitted:,} admitted, "
          f"{summary.rejected:,} rejected) in {elapsed:.1f}s with {args.workers} workers")
    print(f"  throughput: {rate:,.0f} records/s   peak RSS (process tree): "
          f"{mem.peak_gib:.2f} GiB ({mem.peak / 2**20:,.0f} MiB)")
    print(f"  CPU: {mem.cpu_seconds:.1f} s for the process tree "
          f"({summary.read / mem.cpu_seconds:,.0f} records per CPU-second); "
          f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"peer, per-record path, 1 core, no cache: {peer:,.0f} records/s")
    print(f"ratio batch / peer: {rate / peer:.1f}x")


if __name__ == "__main__":
    main()
