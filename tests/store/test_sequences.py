"""Randomised: sequences of nights (new records, updates, resends), steward
decisions made and withdrawn, and batches. After every batch the store's
invariants hold: every record linked to exactly one active customer, no empty
customer, every live steward decision obeyed."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from ecif.ingest import ingest_files
from ecif.invariants import check_invariants
from ecif.services.base import Actor
from ecif.services.decisions import withdraw_decision
from matching.generator import generate
from tests.store.helpers import batch, decide, links, query


def _decisions_hold(store: Engine) -> None:
    live = query(store, "SELECT judgement, left_key, right_key FROM decision "
                        "WHERE deleted_at IS NULL")
    linked = links(store)
    for judgement, left, right in live.itertuples(index=False, name=None):
        together = linked[left] == linked[right]
        assert together == (judgement == "must_link"), (judgement, left, right)


@pytest.mark.parametrize("seed", [11, 12])
def test_invariants_hold_over_random_sequences(store: Engine, tmp_path: Path,
                                               sample_models: Path, seed: int) -> None:
    rng = random.Random(seed)
    data = tmp_path / "gen"
    generate(data, records=400, seed=seed, days=3)
    truth = pd.read_csv(data / "truth.csv", dtype=str, keep_default_na=False)
    entity = dict(zip(truth["source_system"] + ":" + truth["source_customer_id"],
                      truth["entity_id"], strict=True))
    for day in sorted(data.glob("day_*.csv")):
        rows = pd.read_csv(day, dtype=str, keep_default_na=False)
        # nights arrive in pieces, some rows twice
        cut = rng.randrange(1, len(rows))
        for i, part in enumerate((rows.iloc[:cut], rows.iloc[cut // 2:])):
            part.to_csv(tmp_path / f"{day.stem}_{i}.csv", index=False)
            ingest_files(store, [tmp_path / f"{day.stem}_{i}.csv"], workers=1)
        batch(store, sample_models)
        with store.connect() as conn:
            assert check_invariants(conn) == []
        _decisions_hold(store)

        # stewards judge a few pairs, consistently with the truth, and withdraw one
        keys = sorted(links(store))
        with store.begin() as conn:
            made = []
            for _ in range(4):
                a, b = rng.sample(keys, 2)
                same = entity[a] == entity[b]
                if not same and rng.random() < 0.5:  # look for a true pair instead
                    mates = [k for k in keys if entity[k] == entity[a] and k != a]
                    if mates:
                        b, same = rng.choice(mates), True
                made.append(decide(conn, "must_link" if same else "cannot_link",
                                   a, b, "steward"))
            if rng.random() < 0.5:
                withdraw_decision(conn, made[0], actor=Actor("steward"))
        batch(store, sample_models)
        with store.connect() as conn:
            assert check_invariants(conn) == []
        _decisions_hold(store)
