"""Benchmark: a whole night (ingest + batch) on a fresh store, against a bare
Splink dedupe of the same file in the same run.

    .venv/bin/python bench/night.py [--records 235000] [--seed 3] [--data DIR]
        [--databases sqlite] [--workers N]

The night: `ecif ingest` of one generated file into a fresh store, then
`ecif batch` (which trains both models, as a first night does, matches, merges,
writes golden records and review tasks). The peer: plain Splink as its
documentation sets it up on the raw columns (bench/engine.py's peer: load the
CSV into DuckDB, estimate u and m, predict, cluster at 0.9), with no
standardisation, rules, store or tasks. Both on the same file; the ratio is
night / peer. Accuracy of both against the file's truth (pairwise, persons and
organisations).

Target (issue 12): the whole night on a fresh 235k-record store <= 1.0 x the peer.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench._common import TreeMemory, machine  # noqa: E402
from bench.engine import _plain_splink  # noqa: E402
from ecif.batch import run_batch  # noqa: E402
from ecif.bulk import read_frame  # noqa: E402
from ecif.ingest import ingest_files  # noqa: E402
from matching.config import DEFAULT_CONFIG_DIR  # noqa: E402
from matching.engine.backend import DuckDBBackend  # noqa: E402
from matching.engine.config import load_engine_config  # noqa: E402
from matching.engine.evaluate import Metrics, evaluate_by_type  # noqa: E402
from matching.generator import generate  # noqa: E402
from models.db import init_db, make_engine  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _line(label: str, m: dict[str, Metrics]) -> str:
    return (f"{label:<30} persons P {m['P'].precision:.4f} R {m['P'].recall:.4f} | "
            f"organisations P {m['G'].precision:.4f} R {m['G'].recall:.4f}")


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _reset(url: str) -> None:
    if url.startswith("postgresql"):
        from sqlalchemy import text
        eng = make_engine(url)
        with eng.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        eng.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=235_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--data", type=Path, default=None, help="keep and reuse generated data here")
    ap.add_argument("--databases", default="sqlite")
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    logging.getLogger("splink").setLevel(logging.ERROR)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the start")
    work = Path(tempfile.mkdtemp(prefix="ecif-bench-night-"))
    try:
        data = args.data or work / "data"
        if not (data / "day_001.csv").exists():
            generate(data, records=args.records, seed=args.seed)
        night = data / "day_001.csv"
        truth_frame = pd.read_csv(data / "truth.csv", dtype=str, keep_default_na=False)
        truth = pd.Series(truth_frame["entity_id"].to_numpy(), index=truth_frame[
            "source_system"] + ":" + truth_frame["source_customer_id"])
        truth = truth[~truth.index.duplicated()]

        with TreeMemory() as mem:
            t0 = time.perf_counter()
            db = DuckDBBackend(temp_directory=work / "duck")
            c0 = _cpu()
            plain = _plain_splink(db, night)
            peer = time.perf_counter() - t0
            peer_cpu = _cpu() - c0
        raw = pd.read_csv(night, dtype=str, keep_default_na=False,
                          usecols=["source_system", "source_customer_id", "customer_type"])
        kinds = pd.Series(raw["customer_type"].str.upper().to_numpy(),
                          index=(raw["source_system"] + ":" + raw["source_customer_id"]))
        kinds = kinds[~kinds.index.duplicated()]
        print(f"peer: bare Splink dedupe of {night.name}: {peer:.1f}s ({peer_cpu:.1f} CPU-s), "
              f"peak {mem.peak_gib:.2f} GiB")
        print(_line("  peer accuracy", evaluate_by_type(
            plain, truth.reindex(plain.index), kinds.reindex(plain.index).fillna("P"))))

        for kind in args.databases.split(","):
            url = f"sqlite:///{work / 'night.db'}" if kind == "sqlite" else PG_URL
            _reset(url)
            engine = make_engine(url)
            init_db(engine)
            config = replace(load_engine_config(DEFAULT_CONFIG_DIR), model_dir=work / "models")
            with TreeMemory() as mem:
                t0, c0 = time.perf_counter(), _cpu()
                got = ingest_files(engine, [night], workers=args.workers)
                t1, c1 = time.perf_counter(), _cpu()
                run = run_batch(engine, config, config_dir=DEFAULT_CONFIG_DIR,
                                workers=args.workers)
                t2, c2 = time.perf_counter(), _cpu()
            stages = ", ".join(f"{k} {v:.1f}s" for k, v in run.timings.items())
            print(f"{kind}: night = ingest {t1 - t0:.1f}s ({got.read:,} rows, "
                  f"{got.read / (t1 - t0):,.0f} rows/s) + batch {t2 - t1:.1f}s ({stages}) = "
                  f"{t2 - t0:.1f}s; peak {mem.peak_gib:.2f} GiB")
            cpu_stages = ", ".join(f"{k} {run.counts.get(f'{k}.cpu_seconds', 0):.1f}s"
                                   for k in run.timings)
            print(f"  {kind} CPU (this process and its children; a database server's not "
                  f"counted): ingest {c1 - c0:.1f}s + batch {c2 - c1:.1f}s ({cpu_stages})")
            print(f"  {kind}: night / bare Splink = {(t2 - t0) / peer:.2f} (target <= 1.0); "
                  f"in CPU-s {(c2 - c0) / peer_cpu:.2f}")
            with engine.connect() as conn:
                links = read_frame(conn, "SELECT s.record_key, s.customer_type, l.customer_no "
                                         "FROM source_record s JOIN link l "
                                         "ON l.record_id = s.id")
            keys = pd.Index(links["record_key"])
            print(_line(f"  {kind} store accuracy", evaluate_by_type(
                pd.Series(links["customer_no"].to_numpy(), index=keys), truth.reindex(keys),
                pd.Series(links["customer_type"].to_numpy(), index=keys))))
            engine.dispose()
            _reset(url)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
