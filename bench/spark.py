"""Benchmark: the match on Spark (local[N]) against DuckDB, same data, same run.

    .venv/bin/python bench/spark.py [--sizes 250000 1000000] [--master local[2]]
                                    [--seed 1] [--data-root DIR]

For each size: generate the records (or reuse DIR/<size>/day_001.csv), standardise
and load them into DuckDB, train both models once on DuckDB (not timed: the
nightly batch scores with stored models), then time the match (strong rules,
scoring, clustering, suspect tasks) on DuckDB and on Spark with the same model
files: wall time, CPU seconds and peak memory of the process tree (Spark's JVM is
a child process), the accuracy of both against the generator's truth, and
whether the two engines gave the same clusters and the same probabilities.
A size that fails on Spark is reported with its error, and the run goes on.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from _common import TreeMemory, machine

from matching.engine.backend import DuckDBBackend
from matching.engine.config import load_engine_config
from matching.engine.features import organisation_features_sql, person_features_sql
from matching.engine.model import (
    TrainedModel,
    load_model,
    model_path,
    save_model,
    train_model,
)
from matching.engine.run import MatchResult, run_matching
from matching.engine.spark import SparkBackend, SparkSettings
from matching.engine.workflow import STD_TABLE, evaluate_result, load_sources
from matching.generator import generate


def _models(db: DuckDBBackend, model_dir: Path) -> dict[str, TrainedModel]:
    """Both models: read from ``model_dir`` when an earlier run of this size
    saved them there, else trained on DuckDB and saved."""
    config = load_engine_config()
    models = {}
    for ctype, table, sql in (("P", "persons", person_features_sql),
                              ("G", "organisations", organisation_features_sql)):
        path = model_path(model_dir, ctype)
        if path.exists():
            models[ctype] = load_model(path)
            continue
        db.create_table(table, sql(STD_TABLE))
        models[ctype] = train_model(db, table, ctype, config.for_type(ctype),
                                    calibrate_on_pairs=False)
        save_model(models[ctype], path)
    return models


def _timed(label: str, run: object) -> tuple[MatchResult, float, TreeMemory]:
    t0 = time.perf_counter()
    with TreeMemory() as mem:
        result = run()  # type: ignore[operator]
    return result, time.perf_counter() - t0, mem


def _same(a: MatchResult, b: MatchResult) -> str:
    ra = a.records.set_index("unique_id")["cluster_id"]
    rb = b.records.set_index("unique_id")["cluster_id"].reindex(ra.index)
    pa_ = a.pairs.select(["unique_id_l", "unique_id_r", "match_probability"]).to_pandas()
    pb = b.pairs.select(["unique_id_l", "unique_id_r", "match_probability"]).to_pandas()
    joined = pa_.merge(pb, on=["unique_id_l", "unique_id_r"], how="outer")
    diff = (joined["match_probability_x"] - joined["match_probability_y"]).abs()
    return (f"same clusters: {bool((ra == rb).all())}; pairs {len(pa_):,} / {len(pb):,}, "
            f"max probability difference {diff.max():.2e}")


def prepare(db: DuckDBBackend, data: Path, size: int, seed: int, tmp: Path
            ) -> tuple[int, dict[str, TrainedModel]]:
    """Records of ``size`` in ``data`` (generated unless there), standardised into
    ``db``'s STD_TABLE, and both models: the number of records and the models.
    The standardised records and the models are kept next to the data, so that a
    run that broke (or one engine alone) does not standardise and train again."""
    if not (data / "day_001.csv").exists():
        t0 = time.perf_counter()
        generate(data, records=size, seed=seed)
        print(f"[{size:,}] generated in {time.perf_counter() - t0:.0f}s", flush=True)
    parquet = data / "std_records.parquet"
    t0 = time.perf_counter()
    if parquet.exists():
        db.con.execute(f"CREATE TABLE {STD_TABLE} AS SELECT * FROM read_parquet('{parquet}')")
        how = f"read from {parquet.name}"
    else:
        load_sources(db, [data / "day_001.csv"], tmp)
        db.con.execute(f"COPY {STD_TABLE} TO '{parquet}' (FORMAT parquet)")
        how = "standardised + loaded"
    n = db.count(STD_TABLE)
    print(f"[{size:,}] {how} {n:,} records in {time.perf_counter() - t0:.0f}s", flush=True)
    t0 = time.perf_counter()
    models = _models(db, data / "models")
    print(f"[{size:,}] models trained on DuckDB or read in {time.perf_counter() - t0:.0f}s "
          "(not compared)", flush=True)
    return n, models


def bench_size(size: int, root: Path, settings: SparkSettings, seed: int,
               engines: Sequence[str], duckdb_memory: str) -> None:
    data = root / str(size)
    config = load_engine_config()
    parquet = data / "std_records.parquet"
    with tempfile.TemporaryDirectory(prefix="ecif-bench-spark-") as tmp:
        db = DuckDBBackend(temp_directory=Path(tmp),
                           memory_limit=None if duckdb_memory == "auto" else duckdb_memory)
        n, models = prepare(db, data, size, seed, Path(tmp))
        truth = pd.read_csv(data / "truth.csv", dtype=str, keep_default_na=False)

        duck = None
        if "duckdb" in engines:
            try:
                duck, duck_s, duck_mem = _timed("duckdb", lambda: run_matching(
                    db, STD_TABLE, config, models))
            except Exception as exc:  # report where it breaks and go on
                print(f"[{size:,}] DuckDB FAILED: {type(exc).__name__}: {str(exc)[:400]}")
                traceback.print_exc(limit=3)
            else:
                d_eval = evaluate_result(duck, truth)
                limit = db.con.execute("SELECT current_setting('memory_limit')").fetchone()
                print(f"[{size:,}] DuckDB (memory_limit {duckdb_memory}: "
                      f"{limit[0] if limit else '?'}): {duck_s:.0f}s wall, "
                      f"{duck_mem.cpu_seconds:.0f} CPU s, peak {duck_mem.peak_gib:.2f} GiB; "
                      f"F1 persons {d_eval.auto['P'].f1:.4f} "
                      f"organisations {d_eval.auto['G'].f1:.4f}", flush=True)
        db.con.close()  # its memory is not counted in the Spark run
        if "spark" not in engines:
            return
        try:
            def on_spark() -> MatchResult:
                backend = SparkBackend.start(settings, n, n)
                try:
                    backend.load_parquet(STD_TABLE, parquet)
                    return run_matching(backend, STD_TABLE, config, models)
                finally:
                    backend.close()
                    backend.spark.stop()

            spark, spark_s, spark_mem = _timed("spark", on_spark)
        except Exception as exc:  # report where it breaks and go on
            print(f"[{size:,}] Spark FAILED: {type(exc).__name__}: {str(exc)[:400]}")
            traceback.print_exc(limit=3)
            return
        s_eval = evaluate_result(spark, truth)
        print(f"[{size:,}] Spark {settings.master}: {spark_s:.0f}s wall, "
              f"{spark_mem.cpu_seconds:.0f} CPU s, peak {spark_mem.peak_gib:.2f} GiB; "
              f"F1 persons {s_eval.auto['P'].f1:.4f} organisations {s_eval.auto['G'].f1:.4f}",
              flush=True)
        if duck is not None:
            print(f"[{size:,}] Spark / DuckDB: time {spark_s / duck_s:.2f}x, peak memory "
                  f"{spark_mem.peak_gib / max(duck_mem.peak_gib, 1e-9):.2f}x; per record: "
                  f"DuckDB {duck_s / n * 1e6:.0f} us, Spark {spark_s / n * 1e6:.0f} us; "
                  f"{_same(duck, spark)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="8g")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-root", type=Path, default=Path("data/out/bench-spark"))
    parser.add_argument("--engines", nargs="+", choices=("duckdb", "spark"),
                        default=["duckdb", "spark"])
    parser.add_argument("--max-result-size", default="4g",
                        help="spark.driver.maxResultSize: the scored pairs come back to the "
                             "driver; a full 5M match needs more than 4g (keep it below "
                             "--driver-memory)")
    parser.add_argument("--duckdb-memory", default="12GB",
                        help="DuckDB's memory_limit (it spills to disk past it); 'auto': "
                             "the engine's default, a share of the memory available")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("splink").setLevel(logging.ERROR)
    print(f"machine: {machine()}; Spark {args.master}, driver memory {args.driver_memory}, "
          f"maxResultSize {args.max_result_size}, lineage broken to Parquet", flush=True)
    settings = SparkSettings(master=args.master, driver_memory=args.driver_memory,
                             max_result_size=args.max_result_size)
    for size in args.sizes:
        bench_size(size, args.data_root, settings, args.seed, args.engines,
                   args.duckdb_memory)


if __name__ == "__main__":
    main()
