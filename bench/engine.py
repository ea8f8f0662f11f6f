"""Benchmark: the matching engine on generated data, against two peers in the same run.

    .venv/bin/python bench/engine.py [--records 1000000] [--seed 1] [--data DIR] [--no-peers]

1. Generates RECORDS source rows (or reuses ``--data DIR`` holding day_001.csv
   and truth.csv) and standardises them into DuckDB (timed on its own).
2. ECIF: trains both models, then strong rules + scoring + constrained
   clustering + suspect tasks; wall time and peak memory of the process tree
   for training + matching; accuracy with ``ecif eval``'s metrics.
3. Peers on the same data, same run:
   - the legacy rule: same resident ID widened to 18 digits (valid), or same
     organisation code;
   - plain Splink as its documentation sets it up, on the raw columns
     (exact/fuzzy name, ID, birth date, mobile, address; EM; cluster at 0.9).
   Prints each peer's figures and the ratios.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import pandas as pd
import splink.comparison_library as cl
from _common import TreeMemory, machine
from splink import Linker, SettingsCreator, block_on

from matching.engine.backend import DuckDBBackend
from matching.engine.config import load_engine_config
from matching.engine.evaluate import Metrics, evaluate_by_type
from matching.engine.features import organisation_features_sql, person_features_sql
from matching.engine.model import train_model
from matching.engine.run import run_matching
from matching.engine.workflow import STD_TABLE, evaluate_result, load_sources
from matching.generator import generate


def _line(name: str, m: dict[str, Metrics]) -> str:
    p, g = m["P"], m["G"]
    return (f"{name:<34} persons P {p.precision:.4f} R {p.recall:.4f} F1 {p.f1:.4f} | "
            f"organisations P {g.precision:.4f} R {g.recall:.4f} F1 {g.f1:.4f}")


def _score(labels: pd.Series, truth: pd.Series, ctype: pd.Series) -> dict[str, Metrics]:
    return evaluate_by_type(labels, truth.reindex(labels.index), ctype.reindex(labels.index))


def _legacy(db: DuckDBBackend) -> pd.Series:
    frame = db.fetch_arrow(
        f"SELECT source_system || ':' || source_customer_id AS unique_id, "
        f"CASE WHEN customer_type = 'P' AND id_type = 'RESIDENT_ID' THEN 'P' || id_number "
        f"WHEN customer_type = 'G' AND org_code IS NOT NULL THEN 'G' || org_code END AS k "
        f"FROM {STD_TABLE}").to_pandas()
    key = frame["k"].fillna(frame["unique_id"])
    first = frame.groupby(key)["unique_id"].transform("min")
    return pd.Series(first.to_numpy(), index=frame["unique_id"])


def _plain_splink(db: DuckDBBackend, raw_csv: Path) -> pd.Series:
    db.con.execute(
        "CREATE OR REPLACE TABLE raw AS SELECT source_system || ':' || source_customer_id "
        "AS unique_id, * FROM read_csv(?, all_varchar = true, header = true)", [str(raw_csv)])
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("name").configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("id_number", [1, 2]),
            cl.ExactMatch("birth_date"),
            cl.LevenshteinAtThresholds("mobile", [1, 2]),
            cl.ExactMatch("gender"),
            cl.JaroWinklerAtThresholds("address", [0.95, 0.88]),
            cl.ExactMatch("phone"),
            cl.ExactMatch("email"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("id_number"), block_on("mobile"), block_on("name", "birth_date"),
            block_on("name", "address"), block_on("phone"),
        ],
    )
    linker = Linker(db.db_api.register("raw"), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id_number")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("id_number"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("name", "birth_date"))
    pred = linker.inference.predict(threshold_match_probability=0.9, warning_mode="never")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.9)
    frame = clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]]
    return pd.Series(frame["cluster_id"].astype(str).to_numpy(), index=frame["unique_id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=None,
                        help="a directory with day_001.csv and truth.csv (skips generating)")
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args()
    logging.getLogger("splink").setLevel(logging.ERROR)
    config = load_engine_config()

    with tempfile.TemporaryDirectory(prefix="ecif-bench-") as tmp:
        tmpdir = Path(tmp)
        data = args.data
        if data is None:
            data = tmpdir / "gen"
            t0 = time.perf_counter()
            generate(data, records=args.records, seed=args.seed)
            print(f"generated {args.records:,} records in {time.perf_counter() - t0:.1f}s")
        raw = data / "day_001.csv"
        truth_frame = pd.read_csv(data / "truth.csv", dtype=str, keep_default_na=False)

        db = DuckDBBackend(temp_directory=tmpdir / "duck")
        t0 = time.perf_counter()
        load_sources(db, [raw], tmpdir)
        standardise_s = time.perf_counter() - t0

        with TreeMemory() as mem:
            t0 = time.perf_counter()
            models = {}
            for ctype, table, sql in (("P", "persons", person_features_sql),
                                      ("G", "organisations", organisation_features_sql)):
                db.create_table(table, sql(STD_TABLE))
                models[ctype] = train_model(db, table, ctype, config.for_type(ctype))
            train_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            result = run_matching(db, STD_TABLE, config, models)
            match_s = time.perf_counter() - t0
        report = evaluate_result(result, truth_frame)
        records = result.records
        truth = truth_frame.assign(
            unique_id=truth_frame["source_system"] + ":" + truth_frame["source_customer_id"]
        ).set_index("unique_id")["entity_id"]
        ctype = pd.Series(records["customer_type"].to_numpy(), index=records["unique_id"])

        print(f"machine: {machine()}")
        print(f"records: {len(records):,} admitted of {len(truth_frame):,}; standardise + load "
              f"{standardise_s:.1f}s")
        ecif_s = train_s + match_s
        print(f"ECIF train {train_s:.1f}s + match {match_s:.1f}s = {ecif_s:.1f}s; "
              f"peak RSS (process tree) {mem.peak_gib:.2f} GiB")
        print("  " + ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items()))
        print(report.format())
        print(_line("ECIF auto-merges", report.auto))
        print(_line("ECIF after perfect review", report.reviewed))
        if args.no_peers:
            return
        legacy = _score(_legacy(db), truth, ctype)
        print(_line("peer: legacy exact-ID rule", legacy))
        with TreeMemory() as peer_mem:
            t0 = time.perf_counter()
            plain = _plain_splink(db, raw)
            plain_s = time.perf_counter() - t0
        plain = plain.reindex(records["unique_id"]).fillna(
            pd.Series(records["unique_id"].to_numpy(), index=records["unique_id"]))
        plain_m = _score(plain, truth, ctype)
        print(_line("peer: plain Splink (docs setup)", plain_m))
        print(f"plain Splink train + predict + cluster {plain_s:.1f}s, peak "
              f"{peer_mem.peak_gib:.2f} GiB; time ratio ECIF / plain Splink "
              f"{ecif_s / plain_s:.2f}")
        for kind, label in (("P", "persons"), ("G", "organisations")):
            ours, old, splink = report.auto[kind], legacy[kind], plain_m[kind]
            print(f"{label}: recall ECIF/legacy {ours.recall / old.recall:.2f}, "
                  f"precision ECIF/plain {ours.precision / splink.precision:.3f}, "
                  f"recall ECIF/plain {ours.recall / splink.recall:.2f}")


if __name__ == "__main__":
    main()
