"""Benchmark: `ecif ingest` on generated data, against peers in the same run.

    .venv/bin/python bench/ingest.py [--records 1040000] [--databases sqlite,postgresql]
        [--data DIR] [--workers N] [--previous REF] [--no-peers]
    .venv/bin/python bench/ingest.py --scale 1000000,2000000,5000000,10000000 \\
        --databases postgresql [--data DIR]

1. Two nights of generated records (as bench/store.py: night 1 about 96 % of
   RECORDS, night 2 new records and newer versions of earlier ones), or the
   ones in ``--data DIR``.
2. Per database, on a fresh store: ingest night 1 (the initial load), then
   night 2 (a night of updates against it): seconds, rows/s, peak memory of the
   process tree (the PostgreSQL server is not in it), CPU seconds.
3. Peers in the same run, on night 1: `ecif standardise` of the same file (no
   store: what ingest cannot beat), and the ingest of the code at ``--previous``
   (default 6b2bfd8, the store before issue 12) on a store of its own, run from
   a temporary git worktree with this venv.
4. ``--scale N1,N2,...``: an initial load of one generated file of each size on a
   fresh store (PostgreSQL for the 10M question), with time and peak memory.

Targets (issue 12): initial load of 1M >= 50,000 rows/s on SQLite and on
PostgreSQL; a night of updates against 1M >= 30,000 rows/s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import TreeMemory, machine  # noqa: E402
from ecif.ingest import ingest_files  # noqa: E402
from matching.generator import generate  # noqa: E402
from matching.generator.params import load_params  # noqa: E402
from matching.pipeline import standardise_file  # noqa: E402
from models.db import init_db, make_engine  # noqa: E402

#: The server; each store is a database of its own on it, made and dropped here
#: (never the shared ``test`` database other sessions' tests run in).
PG_SERVER = os.environ.get("ECIF_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REPO = Path(__file__).resolve().parents[1]
_PREVIOUS_DRIVER = """
import sys, time
from pathlib import Path
from models.db import init_db, make_engine
from ecif.ingest import ingest_files
engine = make_engine(sys.argv[1])
init_db(engine)
t0 = time.perf_counter()
s = ingest_files(engine, [Path(p) for p in sys.argv[2:]])
print(s.read, round(time.perf_counter() - t0, 2))
engine.dispose()
"""


def _admin(sql: str) -> None:
    from sqlalchemy import create_engine, text
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(sql))
    admin.dispose()


def _reset(url: str) -> None:
    """An empty database at ``url`` (PostgreSQL: dropped and made again)."""
    if url.startswith("postgresql"):
        name = url.rsplit("/", 1)[1]
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{name}"')


def _drop(url: str) -> None:
    if url.startswith("postgresql"):
        _admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def _init(url: str) -> None:
    """The schema, then the engine closed: `ecif init` is a process of its own, and an
    open connection would keep an SQLite initial load in WAL mode (ecif.upsert)."""
    engine = make_engine(url)
    init_db(engine)
    engine.dispose()


def _url(db: str, work: Path, name: str) -> str:
    if db == "sqlite":
        for old in work.glob(f"{name}.db*"):
            old.unlink()
        return f"sqlite:///{work / name}.db"
    return PG_SERVER.rsplit("/", 1)[0] + f"/ecif_bench_ingest_{name}_{os.getpid()}"


def _store_gib(url: str) -> float:
    """The store's size on disk (PostgreSQL: the database's, tables and indexes)."""
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, text
        admin = create_engine(PG_SERVER)
        with admin.connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(:name)"),
                                {"name": url.rsplit("/", 1)[1]}).scalar_one()
        admin.dispose()
        return int(size) / 2**30
    path = Path(url.removeprefix("sqlite:///"))
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**30


def _rows(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 24), b"")) - 1


def _ingest(url: str, files: list[Path], workers: int | None) -> tuple[float, int, TreeMemory]:
    engine = make_engine(url)
    with TreeMemory() as mem:
        t0 = time.perf_counter()
        got = ingest_files(engine, files, workers=workers)
        seconds = time.perf_counter() - t0
    engine.dispose()
    return seconds, got.read, mem


def _line(label: str, seconds: float, rows: int, mem: TreeMemory | None = None) -> str:
    extra = (f", peak {mem.peak_gib:.2f} GiB, {mem.cpu_seconds:.0f} CPU-s"
             if mem is not None else "")
    return f"{label:<44} {rows:>9,} rows {seconds:7.1f} s {rows / seconds:>9,.0f} rows/s{extra}"


def _previous(ref: str, url: str, files: list[Path], work: Path) -> tuple[float, int] | None:
    """Ingest ``files`` with the code at ``ref`` (a temporary git worktree)."""
    tree = work / f"previous-{ref}"
    made = subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree),
                           ref], capture_output=True, text=True)
    if made.returncode != 0:
        print(f"peer: previous code {ref}: cannot check out ({made.stderr.strip()})")
        return None
    try:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        done = subprocess.run([sys.executable, "-c", _PREVIOUS_DRIVER, url,
                               *map(str, files)], cwd=tree, env=env, capture_output=True,
                              text=True)
        if done.returncode != 0:
            print(f"peer: previous code {ref} failed: {done.stderr.strip()[-300:]}")
            return None
        rows, seconds = done.stdout.split()[-2:]
        return float(seconds), int(rows)
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                       capture_output=True)


def _nights(args: argparse.Namespace, work: Path) -> list[Path]:
    data = args.data or work / "data"
    if not (data / "day_002.csv").exists():
        params = replace(load_params(), initial_load_share=0.9615, update_rate=0.01)
        t0 = time.perf_counter()
        generate(data, records=args.records, seed=args.seed, days=2, params=params)
        print(f"generated {args.records:,} records over 2 nights in "
              f"{time.perf_counter() - t0:.0f}s")
    return [data / "day_001.csv", data / "day_002.csv"]


def _scale(args: argparse.Namespace, work: Path) -> None:
    for n in [int(x) for x in args.scale.split(",")]:
        data = (args.data or work) / f"scale_{n}"
        if not (data / "day_001.csv").exists():
            t0 = time.perf_counter()
            generate(data, records=n, seed=args.seed)
            print(f"generated {n:,} records in {time.perf_counter() - t0:.0f}s")
        for db in args.databases.split(","):
            url = _url(db, work, f"scale{n}")
            _reset(url)
            _init(url)
            seconds, rows, mem = _ingest(url, [data / "day_001.csv"], args.workers)
            print(_line(f"{db} initial load of {n:,}", seconds, rows, mem)
                  + f", store {_store_gib(url):.1f} GiB", flush=True)
            _drop(url)
        if args.data is None:
            shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_040_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--databases", default="sqlite,postgresql")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--data", type=Path, default=None, help="keep and reuse generated data here")
    ap.add_argument("--previous", default="6b2bfd8",
                    help="git ref of the previous ingest (the peer); '' for none")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--scale", default=None, help="initial loads of these sizes only")
    args = ap.parse_args()
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the start")
    work = Path(tempfile.mkdtemp(prefix="ecif-bench-ingest-"))
    try:
        if args.scale:
            _scale(args, work)
            return
        nights = _nights(args, work)
        sizes = [_rows(n) for n in nights]
        print(f"night 1: {sizes[0]:,} rows; night 2: {sizes[1]:,} rows")
        peer: float | None = None
        if not args.no_peers:
            with TreeMemory() as mem:
                t0 = time.perf_counter()
                got = standardise_file(nights[0], work / "std.csv", work / "std.rejects.csv",
                                       workers=args.workers)
                peer = time.perf_counter() - t0
            print(_line("peer: ecif standardise night 1 (no store)", peer, got.read, mem))
        for db in args.databases.split(","):
            url = _url(db, work, "bench")
            _reset(url)
            _init(url)
            first, rows, mem = _ingest(url, nights[:1], args.workers)
            print(_line(f"{db}: ingest night 1 (initial load)", first, rows, mem), flush=True)
            second, rows2, mem2 = _ingest(url, nights[1:], args.workers)
            print(_line(f"{db}: ingest night 2 (updates against it)", second, rows2, mem2),
                  flush=True)
            if peer:
                print(f"  {db}: initial load / standardise alone = {first / peer:.2f}")
            _drop(url)
            if not args.no_peers and args.previous:
                url = _url(db, work, "previous")
                _reset(url)
                got_prev = _previous(args.previous, url, nights[:1], work)
                if got_prev is not None:
                    seconds, prev_rows = got_prev
                    print(_line(f"peer: {db}: ingest night 1, code {args.previous}", seconds,
                                prev_rows))
                    print(f"  {db}: previous / now = {seconds / first:.2f}")
                _drop(url)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
