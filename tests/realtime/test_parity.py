"""The native scorer against the batch (the judge): on the sample, every pair
Splink scores in the engine gets the same probability (to 1e-6) and the same
tier from :class:`matching.realtime.scorer.NativeModel`; the Python match
columns equal the SQL ones; jellyfish's string similarities equal DuckDB's."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import jellyfish
import numpy as np
import pyarrow as pa
import pytest

from matching.engine.backend import DuckDBBackend
from matching.engine.config import load_engine_config
from matching.engine.features import organisation_features_sql, person_features_sql
from matching.engine.guard import guard_holds
from matching.engine.model import load_model, model_path, predict_pairs
from matching.engine.run import branch_gate
from matching.engine.workflow import load_sources
from matching.realtime.features import record_features
from matching.realtime.scorer import NativeModel

SAMPLE = Path(__file__).parents[2] / "data" / "sample" / "day_001.csv"
_TYPES = (("P", "persons", person_features_sql), ("G", "organisations",
                                                   organisation_features_sql))


@pytest.fixture(scope="module")
def batch(sample_models: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The engine's scoring of every candidate pair of the sample (threshold 0),
    both types in one backend, as the batch runs them."""
    db = DuckDBBackend()
    load_sources(db, [SAMPLE], tmp_path_factory.mktemp("std"))
    out: dict[str, Any] = {}
    for ctype, table, features_sql in _TYPES:
        db.create_table(table, features_sql("std_records"))
        model = load_model(model_path(sample_models, ctype))
        pairs = predict_pairs(db, table, model, 0.0).as_pyarrow_table()
        std = db.fetch_arrow(f"SELECT * FROM std_records WHERE customer_type = '{ctype}'")
        sql = db.fetch_arrow(f"SELECT * FROM {table}").to_pylist()
        out[ctype] = (model, pairs, std.to_pylist(), {r["unique_id"]: r for r in sql})
    return out


def _branches(std: list[dict[str, Any]]) -> dict[str, tuple[str | None, str | None]]:
    by_code: dict[str, list[str]] = {}
    for r in std:
        if r.get("org_code") is not None:
            by_code.setdefault(r["org_code"], [])
            if r.get("org_branch") is not None:
                by_code[r["org_code"]].append(r["org_branch"])
    return {c: ((min(v), max(v)) if v else (None, None)) for c, v in by_code.items()}


def _native_features(std: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    branches = _branches(std)
    feats = [record_features(r, branches.get(r.get("org_code") or "", (None, None)))
             for r in std]
    return {f["unique_id"]: f for f in feats}


@pytest.mark.parametrize("ctype", ["P", "G"])
def test_python_features_equal_sql(batch: dict[str, Any], ctype: str) -> None:
    _, _, std, sql = batch[ctype]
    native = _native_features(std)
    assert native.keys() == sql.keys()
    diffs = [(k, c, v, sql[k].get(c)) for k, f in native.items() for c, v in f.items()
             if sql[k].get(c) != v]
    assert diffs == []


@pytest.mark.parametrize("ctype", ["P", "G"])
def test_native_scores_equal_batch(batch: dict[str, Any], ctype: str) -> None:
    model, pairs, std, _ = batch[ctype]
    feats = _native_features(std)
    native = NativeModel(model.splink)
    freq: dict[str, dict[str, float]] = {}
    for col in native.tf_columns:
        values = [f[col] for f in feats.values() if f.get(col) is not None]
        freq[col] = {v: n / len(values) for v, n in Counter(values).items()}

    def tf(col: str, value: str | None) -> float | None:
        return None if value is None else freq[col].get(value)

    rows = pairs.select(["unique_id_l", "unique_id_r", "match_probability"]).to_pylist()
    assert len(rows) > (1000 if ctype == "P" else 100)
    scores = [native.score(feats[r["unique_id_l"]], feats[r["unique_id_r"]], tf) for r in rows]
    # score_many (the API's path: each comparison worked out once per distinct value
    # tuple) gives every pair the same Score to the bit, one left record at a time
    by_left: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_left.setdefault(r["unique_id_l"], []).append(i)
    assert max(len(v) for v in by_left.values()) > 2
    for left, idx in by_left.items():
        many = native.score_many(feats[left], [feats[rows[i]["unique_id_r"]] for i in idx], tf)
        assert many == [scores[i] for i in idx]
    got = np.array([s.match_probability for s in scores])
    want = np.array([r["match_probability"] for r in rows])
    assert np.abs(got - want).max() < 1e-6
    # the same tier: auto-merge (threshold, guard, branch gate), suspect, below
    cfg = load_engine_config().for_type(ctype)
    weights = {f"mw_{name}": pa.array([s.weights()[name] for s in scores])
               for name in scores[0].weights()}
    native_pairs = pa.table({**weights, **{c: pairs.column(c) for c in pairs.column_names
                                          if c.startswith(("branch_state_", "org_code_any_"))}})
    tier_batch = np.where((want >= cfg.auto_merge) & guard_holds(pairs, cfg.guard)
                          & branch_gate(pairs), 2, np.where(want >= model.suspect(cfg.suspect),
                                                             1, 0))
    tier_native = np.where((got >= cfg.auto_merge) & guard_holds(native_pairs, cfg.guard)
                           & branch_gate(native_pairs),
                           2, np.where(got >= model.suspect(cfg.suspect), 1, 0))
    assert (tier_batch == tier_native).all()
    assert (tier_batch == 2).sum() > (10 if ctype == "P" else -1)


class _Reading(dict[str, Any]):
    """Features that note every column read."""

    def __init__(self, values: dict[str, Any], seen: set[str]) -> None:
        super().__init__(values)
        self.seen = seen

    def get(self, key: str, default: Any = None) -> Any:
        self.seen.add(key)
        return super().get(key, default)


@pytest.mark.parametrize("ctype", ["P", "G"])
def test_each_comparison_reads_only_its_columns(batch: dict[str, Any], ctype: str) -> None:
    """score_many reuses a comparison's outcome for candidates equal on its ``columns``
    (Splink's list of what its levels' SQL reads): every level's Python condition must
    read no other column, or two candidates could share an outcome they should not."""
    model, pairs, std, _ = batch[ctype]
    feats = _native_features(std)
    native = NativeModel(model.splink)
    rows = pairs.select(["unique_id_l", "unique_id_r"]).to_pylist()[:3000]
    checked = 0
    for comp in native.comparisons:
        assert comp.columns, comp.name
        for level in comp.levels:
            if level.test is None:
                continue
            seen: set[str] = set()
            for r in rows:
                level.test(_Reading(feats[r["unique_id_l"]], seen),
                           _Reading(feats[r["unique_id_r"]], seen))
            assert seen <= set(comp.columns), (comp.name, level.label, seen)
            checked += 1
    assert checked > (20 if ctype == "P" else 8)


def test_jellyfish_equals_duckdb_on_hanzi_and_latin() -> None:
    con = duckdb.connect()
    rng = random.Random(7)
    alphabet = "张伟玮李明王芳於于abcdehnorsty -'1é"
    pairs = [("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9))),
              "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9))))
             for _ in range(2000)]
    con.execute("CREATE TABLE p (a VARCHAR, b VARCHAR)")
    con.executemany("INSERT INTO p VALUES (?, ?)", pairs)
    rows = con.execute("SELECT a, b, jaro_winkler_similarity(a, b), "
                       "damerau_levenshtein(a, b) FROM p").fetchall()
    assert all(jw == jellyfish.jaro_winkler_similarity(a, b)
               and dl == jellyfish.damerau_levenshtein_distance(a, b)
               for a, b, jw, dl in rows)
