"""The store's customers after a first night are the engine's clusters of the same
file (``ecif match``: standardise, rules, model, clustering, no store): a check that
the batch's own machinery (plan, numbers, links, reads and writes) moves no record,
independent of the batch's code."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import Engine

from ecif.ingest import ingest_files
from matching.engine.config import load_engine_config
from matching.engine.workflow import match_files
from tests.store.helpers import batch, links

NIGHT = Path(__file__).parents[2] / "data" / "sample" / "nights" / "day_001.csv"


def _partition(member_of: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for key, group in member_of.items():
        groups.setdefault(group, set()).add(key)
    return {frozenset(g) for g in groups.values()}


def test_first_night_customers_are_the_engines_clusters(store: Engine,
                                                        sample_models: Path) -> None:
    ingest_files(store, [NIGHT], workers=1)
    batch(store, sample_models)
    stored = links(store)
    result = match_files([NIGHT], config=replace(load_engine_config(),
                                                 model_dir=sample_models))
    engine = dict(zip(result.records["unique_id"], result.records["cluster_id"], strict=True))
    assert set(stored) == set(engine) and len(stored) > 1000
    want = _partition(engine)
    assert sum(len(g) > 1 for g in want) > 100  # merges happened
    assert _partition(stored) == want
