"""Benchmark: standardisation throughput and peak memory on generated data.

    .venv/bin/python bench/standardise.py [--records 1000000] [--workers N]

Generates RECORDS source rows with the project's generator (seed 1), then runs
the batch path (``ecif standardise``'s code) over the file and reports
records/s and the peak resident memory of the whole process tree (parent +
workers, sampled every 100 ms). As the peer, in the same run, it times the
per-record path without any caching on one core over a slice of the same file,
and prints the speed ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import threading
import time
from pathlib import Path

import psutil
from matching.generator import generate

from matching.config import load_code_maps
from matching.pipeline import standardise_file
from matching.sources import read_source_chunks
from matching.standardise import record as record_module
from matching.standardise.record import standardise_record


class TreeMemory:
    """Samples the summed RSS of this process and its children."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.1)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _uncached_per_record(path: Path, rows: int) -> float:
    """Records/s of the per-record path on one core with every cache disabled."""
    codes = load_code_maps()
    frame = next(read_source_chunks(path, "utf-8", rows))
    fields = record_module._Fields(size=0)  # lru_cache(maxsize=0): no caching
    record_module.cached_fields.cache_clear()
    original = record_module.cached_fields
    record_module.cached_fields = lambda: fields  # type: ignore[assignment]
    try:
        cols = list(frame.columns)
        started = time.perf_counter()
        for raw in frame.itertuples(index=False):
            standardise_record(dict(zip(cols, raw, strict=True)), codes)
        return len(frame) / (time.perf_counter() - started)
    finally:
        record_module.cached_fields = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--peer-rows", type=int, default=50_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
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

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}")
    print(f"batch standardise: {summary.read:,} rows ({summary.admitted:,} admitted, "
          f"{summary.rejected:,} rejected) in {elapsed:.1f}s with {args.workers} workers")
    print(f"  throughput: {rate:,.0f} records/s   peak RSS (process tree): "
          f"{mem.peak / 2**30:.2f} GiB")
    print(f"peer, per-record path, 1 core, no cache: {peer:,.0f} records/s")
    print(f"ratio batch / peer: {rate / peer:.1f}x")


if __name__ == "__main__":
    main()
