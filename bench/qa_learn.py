"""Learning from stewards and QA sampling: what they are worth, measured.

For each data set (generated Chinese data, the latin-noid profile):

1. train without labels and match (model A);
2. a perfect steward answers ``--labels`` of the pairs the machine asked
   about or left apart above the suspect threshold (the review band), from
   the truth file: must-links and cannot-links;
3. train again with those labels (``ecif train --learn-from-decisions``:
   model B) and match; the peer is model A in the same run, both obeying the
   same decisions; also model A with only B's auto-merge threshold (what the
   threshold calibration alone does);
4. F1 ratios B / A, auto-merges and after a perfect review of the open tasks.

QA sampling: the pairs model A scores at or above ``FLOOR``, split into the
strata of ``ecif qa sample`` (type, merged or apart, band); ``--reps`` times
a sample of ``--per-band`` pairs a stratum is drawn and answered from the
truth file; the coverage is the share of (sample, stratum) intervals that
hold the stratum's true share of matches (Wilson 95 %: expect about 0.95
or more).
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from _common import machine

from ecif.services.qa import FLOOR, band_of, draw, stratum_of, wilson
from matching.engine.backend import DuckDBBackend
from matching.engine.config import load_engine_config
from matching.engine.features import organisation_features_sql, person_features_sql
from matching.engine.labels import LabelReport
from matching.engine.model import TrainedModel, predict_pairs
from matching.engine.run import Decisions, MatchResult, run_matching
from matching.engine.workflow import STD_TABLE, evaluate_result, load_sources, train_table
from matching.generator import generate
from matching.generator.latin import generate_latin

_FEATURES = {"P": ("persons", person_features_sql), "G": ("organisations",
                                                          organisation_features_sql)}


def _entity(truth: pd.DataFrame) -> pd.Series:
    s = pd.Series(truth["entity_id"].astype(str).to_numpy(),
                  index=truth["source_system"] + ":" + truth["source_customer_id"])
    return s[~s.index.duplicated()]


def _labels(result: MatchResult, entity: pd.Series, n: int, seed: int) -> Decisions:
    """A perfect steward's answers on ``n`` pairs of the review band: scored pairs
    that ended in two customers (what tasks ask about)."""
    pairs = result.pairs.select(["unique_id_l", "unique_id_r", "match_probability"]).to_pandas()
    cluster = result.records.set_index("unique_id")["cluster_id"]
    apart = (cluster.reindex(pairs["unique_id_l"]).to_numpy()
             != cluster.reindex(pairs["unique_id_r"]).to_numpy())
    band = pairs[apart]
    if len(band) > n:
        band = band.sample(n, random_state=seed)
    same = (entity.reindex(band["unique_id_l"]).to_numpy()
            == entity.reindex(band["unique_id_r"]).to_numpy())
    pairs_ = list(zip(band["unique_id_l"], band["unique_id_r"], strict=True))
    return Decisions(must_link=tuple(p for p, s in zip(pairs_, same, strict=True) if s),
                     cannot_link=tuple(p for p, s in zip(pairs_, same, strict=True) if not s))


def _f1_lines(label: str, a: object, b: object) -> None:
    for kind, name in (("P", "persons"), ("G", "organisations")):
        ma, mb = a.auto[kind], b.auto[kind]  # type: ignore[attr-defined]
        if ma.records == 0:
            continue
        ra, rb = a.reviewed[kind], b.reviewed[kind]  # type: ignore[attr-defined]
        print(f"  {name:<14} {label:<34} auto P {mb.precision:.4f} R {mb.recall:.4f} "
              f"F1 {mb.f1:.4f} (A {ma.f1:.4f}, ratio {mb.f1 / ma.f1:.4f}); reviewed F1 "
              f"{rb.f1:.4f} (A {ra.f1:.4f}, ratio {rb.f1 / ra.f1:.4f})")


def _coverage(db: DuckDBBackend, models: dict[str, TrainedModel], result: MatchResult,
              entity: pd.Series, per_band: int, reps: int) -> None:
    frames = []
    for ctype, model in models.items():
        table, sql = _FEATURES[ctype]
        db.create_table(table, sql(STD_TABLE))
        scored = predict_pairs(db, table, model, FLOOR)
        got = db.fetch_arrow(f"SELECT unique_id_l, unique_id_r, match_probability FROM "
                             f"{scored.physical_name}").to_pandas()
        got["customer_type"] = ctype
        frames.append(got)
    pop = pd.concat(frames, ignore_index=True)
    cluster = result.records.set_index("unique_id")["cluster_id"]
    pop["merged"] = (cluster.reindex(pop["unique_id_l"]).to_numpy()
                     == cluster.reindex(pop["unique_id_r"]).to_numpy())
    pop["true"] = (entity.reindex(pop["unique_id_l"]).to_numpy()
                   == entity.reindex(pop["unique_id_r"]).to_numpy())
    pop["band"] = band_of(pop["match_probability"].to_numpy(float))
    pop["stratum"] = [stratum_of(t, bool(m), b) for t, m, b in zip(
        pop["customer_type"], pop["merged"], pop["band"], strict=True)]
    share = pop.groupby("stratum")["true"].agg(["mean", "size"])
    hits = {s: 0 for s in share.index}
    widths = {s: 0.0 for s in share.index}
    for rep in range(reps):
        sample = draw(pop, per_band, seed=rep)
        for s, group in sample.groupby("stratum"):
            lo, hi = wilson(int(group["true"].sum()), len(group))
            hits[s] += int(lo - 1e-12 <= share.at[s, "mean"] <= hi + 1e-12)
            widths[s] += hi - lo
    print(f"  QA coverage: {reps} samples of {per_band} pairs a stratum "
          f"({len(pop):,} scored pairs at or above {FLOOR})")
    inner = []
    for s in share.index:
        cov = hits[s] / reps
        degenerate = share.at[s, "mean"] in (0.0, 1.0)
        if not degenerate and share.at[s, "size"] > per_band:
            inner.append(cov)
        print(f"    {s:<26} {int(share.at[s, 'size']):>9,} pairs, true share of matches "
              f"{share.at[s, 'mean']:.4f}; interval holds it in {cov:.3f} of samples, mean "
              f"width {widths[s] / reps:.3f}" + (" (all or none match: trivially held)"
                                                 if degenerate else ""))
    total = sum(hits.values()) / (reps * len(hits))
    print(f"  coverage over all strata {total:.3f}; over the strata with a true share "
          f"strictly between 0 and 1 and more pairs than sampled "
          f"{np.mean(inner) if inner else float('nan'):.3f} ({len(inner)} strata)")


def run_one(name: str, raw: Path, truth: pd.DataFrame, work: Path, args: argparse.Namespace
            ) -> None:
    config = load_engine_config()
    db = DuckDBBackend(temp_directory=work / f"duck-{name}")
    load_sources(db, [raw], work)
    entity = _entity(truth)
    t0 = time.perf_counter()
    models_a = train_table(db, STD_TABLE, config, save=False)
    res_a = run_matching(db, STD_TABLE, config, models_a)
    labels = _labels(res_a, entity, args.labels, args.seed)
    t_a = time.perf_counter() - t0
    t0 = time.perf_counter()
    # the review band's cannot-links are not-duplicate answers: pairs the machine had
    # left apart, which on a store (ecif train) do not move the threshold
    models_b = train_table(db, STD_TABLE, config, save=False, labels=labels,
                           over_merged=[] if args.store_rule else None)
    t_b = time.perf_counter() - t0
    print(f"\n== {name}: {len(res_a.records):,} records; labels from a perfect steward on "
          f"{len(labels.must_link) + len(labels.cannot_link)} review-band pairs: "
          f"{len(labels.must_link)} must-links, {len(labels.cannot_link)} cannot-links; "
          f"train + match A {t_a:.0f}s, train B {t_b:.0f}s")
    for model in models_b.values():
        print(f"  {model.version}:")
        for line in LabelReport(**model.plan["labels"]).lines(model.customer_type):
            print("  " + line)
    peer = evaluate_result(run_matching(db, STD_TABLE, config, models_a, labels), truth)
    learned = evaluate_result(run_matching(db, STD_TABLE, config, models_b, labels), truth)
    threshold_only = {c: replace(m, calibration={**m.calibration, **(
        {"auto_merge": models_b[c].calibration["auto_merge"]}
        if "auto_merge" in models_b[c].calibration else {})}) for c, m in models_a.items()}
    thr = evaluate_result(run_matching(db, STD_TABLE, config, threshold_only, labels), truth)
    print("  peer: model A (no labels) with the same decisions, same run")
    _f1_lines("B: m + threshold from labels", peer, learned)
    _f1_lines("A + B's threshold only", peer, thr)
    if args.reps:
        _coverage(db, models_a, res_a, entity, args.per_band, args.reps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--latin-records", type=int, default=30_000)
    parser.add_argument("--labels", type=int, default=500,
                        help="Review-band pairs a perfect steward answers.")
    parser.add_argument("--per-band", type=int, default=30)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default="chinese,latin")
    parser.add_argument("--any-cannot-link", dest="store_rule", action="store_false",
                        help="Let every labelled cannot-link move the threshold (files' "
                        "rule), not only those that undid a merge (the store's rule).")
    args = parser.parse_args()
    logging.getLogger("splink").setLevel(logging.ERROR)
    logging.getLogger("matching").setLevel(logging.ERROR)
    only = set(args.only.split(","))
    print(f"machine: {machine()}; load average before {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="ecif-qa-learn-") as tmp:
        work = Path(tmp)
        if "chinese" in only:
            out = work / "chinese"
            generate(out, records=args.records, seed=args.seed)
            run_one(f"chinese {args.records:,}", out / "day_001.csv",
                    pd.read_csv(out / "truth.csv", dtype=str, keep_default_na=False), work,
                    args)
        if "latin" in only:
            out = work / "latin"
            generate_latin(out, records=args.latin_records, seed=args.seed)
            run_one(f"latin-noid {args.latin_records:,}", out / "day_001.csv",
                    pd.read_csv(out / "truth.csv", dtype=str, keep_default_na=False), work,
                    args)
    print(f"\nload average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
