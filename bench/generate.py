"""Benchmark: the synthetic data generator's speed and peak memory.

    .venv/bin/python bench/generate.py [--records 1000000] [--seed 1] [--days 1]
                                       [--format csv|parquet] [--out DIR]

Runs ``matching.generator.generate`` once and prints wall seconds, records
per second and the peak resident memory of the process
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``). Without ``--out`` the files
go to a temporary directory that is removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

from matching.generator import generate


def _run(out: Path, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    summary = generate(out, records=args.records, seed=args.seed, days=args.days,
                       fmt=args.format)
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    size = sum(p.stat().st_size for p in summary.files)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")
    print(f"generated {sum(summary.records_per_day):,} records of {summary.entities:,} "
          f"customers ({summary.persons:,} persons, {summary.organisations:,} organisations) "
          f"in {len(summary.records_per_day)} day file(s), {args.format}, "
          f"{size / 2**20:.0f} MiB")
    print(f"wall: {wall:.1f} s   throughput: {sum(summary.records_per_day) / wall:,.0f} "
          f"records/s   peak RSS: {peak_kib / 2**10:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.out is not None:
        _run(args.out, args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        _run(Path(tmp), args)


if __name__ == "__main__":
    main()
