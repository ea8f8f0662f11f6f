"""Benchmark: the store and the nightly batch on generated data.

Night 1 is the initial load (ingest + batch of about 1M records); night 2 an
increment of about 50k (new records and resends with newer updated_at)
against it. Run on SQLite and on PostgreSQL, and, as the peer, the engine
matching both nights' records at once (what `ecif eval` measures): the
accuracy of the store after two nights should equal it.

    python bench/store.py [--records 1040000] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import TreeMemory, machine  # noqa: E402
from ecif.batch import run_batch  # noqa: E402
from ecif.bulk import read_frame  # noqa: E402
from ecif.ingest import ingest_files  # noqa: E402
from ecif.services.model_registry import active_models  # noqa: E402
from matching.config import DEFAULT_CONFIG_DIR  # noqa: E402
from matching.engine.config import load_engine_config  # noqa: E402
from matching.engine.evaluate import Metrics, evaluate_by_type  # noqa: E402
from matching.engine.model import model_path, save_model  # noqa: E402
from matching.engine.workflow import evaluate_result, match_files  # noqa: E402
from matching.generator import generate  # noqa: E402
from matching.generator.params import load_params  # noqa: E402
from models.db import init_db, make_engine  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _line(label: str, m: dict[str, Metrics]) -> str:
    return (f"{label:<34} persons P {m['P'].precision:.4f} R {m['P'].recall:.4f} | "
            f"organisations P {m['G'].precision:.4f} R {m['G'].recall:.4f}")


def _store_metrics(engine, truth: pd.Series) -> dict[str, Metrics]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        links = read_frame(conn, "SELECT s.record_key, s.customer_type, l.customer_no "
                                 "FROM source_record s JOIN link l ON l.record_id = s.id")
    keys = pd.Index(links["record_key"])
    return evaluate_by_type(pd.Series(links["customer_no"].to_numpy(), index=keys),
                            truth.reindex(keys),
                            pd.Series(links["customer_type"].to_numpy(), index=keys))


def _reset(url: str) -> None:
    if url.startswith("postgresql"):
        from sqlalchemy import text
        eng = make_engine(url)
        with eng.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        eng.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_040_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--databases", default="sqlite,postgresql")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--data", type=Path, default=None, help="reuse generated nights here")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="ecif-bench-store-"))
    data = args.data or work / "data"
    if not (data / "day_002.csv").exists():
        params = replace(load_params(), initial_load_share=0.9615, update_rate=0.01)
        t0 = time.perf_counter()
        generate(data, records=args.records, seed=args.seed, days=2, params=params)
        print(f"generated {args.records} records over 2 nights in {time.perf_counter()-t0:.0f}s")
    nights = [data / "day_001.csv", data / "day_002.csv"]
    sizes = [sum(1 for _ in n.open(encoding="utf-8")) - 1 for n in nights]
    print(f"night 1: {sizes[0]} rows; night 2: {sizes[1]} rows")
    truth_frame = pd.read_csv(data / "truth.csv", dtype=str, keep_default_na=False)
    truth = pd.Series(truth_frame["entity_id"].to_numpy(),
                      index=truth_frame["source_system"] + ":" + truth_frame["source_customer_id"])
    truth = truth[~truth.index.duplicated()]
    config = replace(load_engine_config(DEFAULT_CONFIG_DIR), model_dir=work / "models")

    for db in args.databases.split(","):
        url = f"sqlite:///{work / 'bench.db'}" if db == "sqlite" else PG_URL
        _reset(url)
        shutil.rmtree(work / "models", ignore_errors=True)
        engine = make_engine(url)
        init_db(engine)
        for i, night in enumerate(nights, 1):
            with TreeMemory() as mem:
                t0 = time.perf_counter()
                got = ingest_files(engine, [night], workers=args.workers)
                t1 = time.perf_counter()
                run = run_batch(engine, config, config_dir=DEFAULT_CONFIG_DIR,
                                workers=args.workers)
                t2 = time.perf_counter()
            stages = ", ".join(f"{k} {v:.0f}s" for k, v in run.timings.items())
            print(f"{db} night {i}: ingest {got.read} rows {t1-t0:.0f}s "
                  f"({got.read/(t1-t0):,.0f}/s), batch {t2-t1:.0f}s ({stages}); "
                  f"total {t2-t0:.0f}s; peak {mem.peak_gib:.1f} GiB")
        print(_line(f"{db} store after 2 nights", _store_metrics(engine, truth)))
        if not (work / "peer-models").exists():  # the store keeps its models: the peer's
            with engine.connect() as conn:
                for ctype, model in active_models(conn).items():
                    save_model(model, model_path(work / "peer-models", ctype))
        engine.dispose()
        _reset(url)

    with TreeMemory() as mem:
        t0 = time.perf_counter()
        # the same models as the stores' first night trained (the batch keeps them in the
        # store, not in a model directory)
        result = match_files(nights, config=replace(config, model_dir=work / "peer-models"),
                             config_dir=DEFAULT_CONFIG_DIR)
        report = evaluate_result(result, truth_frame)
    print(_line("peer: engine, both nights at once", report.auto)
          + f"  ({time.perf_counter()-t0:.0f}s, peak {mem.peak_gib:.1f} GiB)")
    shutil.rmtree(work, ignore_errors=True) if args.data is None else None


if __name__ == "__main__":
    main()
