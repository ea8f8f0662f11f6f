"""Learning from stewards' labels (matching/engine/labels.py): m from must-links
moves the way the labelled pairs point, too few labels change nothing, and a
cannot-link the model would auto-merge raises the auto-merge threshold."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from matching.engine.backend import DuckDBBackend
from matching.engine.config import EngineConfig, load_engine_config
from matching.engine.labels import MAX_AUTO_MERGE, MIN_MUST_LINKS, thresholds_from_labels
from matching.engine.model import TrainedModel
from matching.engine.run import Decisions
from matching.engine.workflow import (
    STD_TABLE,
    load_sources,
    match_files,
    train_files,
    train_table,
)
from tests.engine.test_run import SAMPLE

TRUTH = SAMPLE.with_name("truth.csv")


def _m(model: TrainedModel, comparison: str) -> list[float]:
    comp = next(c for c in model.splink["comparisons"]
                if c["output_column_name"] == comparison)
    return [lv.get("m_probability", -1.0) for lv in comp["comparison_levels"]
            if not lv.get("is_null_level")]


@pytest.fixture(scope="module")
def unlabelled(tmp_path_factory: pytest.TempPathFactory
               ) -> tuple[EngineConfig, dict[str, TrainedModel], pd.DataFrame]:
    config = replace(load_engine_config(), model_dir=tmp_path_factory.mktemp("models"))
    models = train_files([SAMPLE], config=config)
    pairs = match_files([SAMPLE], config=config).pairs.to_pandas()
    truth = pd.read_csv(TRUTH, dtype=str, keep_default_na=False)
    entity = dict(zip(truth["source_system"] + ":" + truth["source_customer_id"],
                      truth["entity_id"], strict=True))
    pairs["same"] = [entity[a] == entity[b] for a, b in zip(pairs["unique_id_l"],
                                                             pairs["unique_id_r"], strict=True)]
    return config, models, pairs


def _train(config: EngineConfig, ctype: str, labels: Decisions, tmp: Path) -> TrainedModel:
    """One type's model trained on the sample with ``labels``."""
    db = DuckDBBackend()
    load_sources(db, [SAMPLE], tmp)
    return train_table(db, STD_TABLE, config, (ctype,), save=False, labels=labels)[ctype]


def test_must_links_with_different_mobiles_raise_m_of_mobile_disagreement(
        unlabelled: tuple[EngineConfig, dict[str, TrainedModel], pd.DataFrame],
        tmp_path: Path) -> None:
    """Hand-made labels: true pairs whose mobiles differ. Splink counts them as
    matches, so m of the mobile's last level (neither exact nor one digit off)
    goes up against the same training without labels."""
    config, models, pairs = unlabelled
    other_mobile = pairs[pairs["same"] & pairs["gamma_mobile"].eq(0)
                         & pairs["customer_type"].eq("P")]
    assert len(other_mobile) >= MIN_MUST_LINKS
    must = tuple(zip(other_mobile["unique_id_l"], other_mobile["unique_id_r"], strict=True))
    learned = _train(config, "P", Decisions(must_link=must), tmp_path)
    before, after = _m(models["P"], "mobile"), _m(learned, "mobile")
    assert after[-1] > before[-1]  # disagreement: more likely among matches
    assert after[0] <= before[0]  # exact agreement: not more
    report = learned.plan["labels"]
    assert report["m_from_labels"] and report["must_links"] == len(must)
    shift = next(s for s in report["m_shifts"] if s["comparison"] == "mobile"
                 and s["m_after"] == pytest.approx(after[-1]))
    assert shift["weight_shift"] > 0
    assert learned.version != models["P"].version


def test_too_few_must_links_leave_m_alone_and_say_so(
        unlabelled: tuple[EngineConfig, dict[str, TrainedModel], pd.DataFrame],
        tmp_path: Path) -> None:
    config, models, pairs = unlabelled
    few = pairs[pairs["same"] & pairs["customer_type"].eq("G")].head(MIN_MUST_LINKS - 1)
    assert len(few) == MIN_MUST_LINKS - 1
    learned = _train(config, "G", Decisions(must_link=tuple(zip(
        few["unique_id_l"], few["unique_id_r"], strict=True))), tmp_path)
    report = learned.plan["labels"]
    assert not report["m_from_labels"] and report["must_links"] == MIN_MUST_LINKS - 1
    assert f"fewer than {MIN_MUST_LINKS}" in report["why"]
    for comp in models["G"].splink["comparisons"]:  # EM noise aside, the same m's
        name = comp["output_column_name"]
        assert _m(learned, name) == pytest.approx(_m(models["G"], name), abs=1e-5), name
    assert "auto_merge" not in learned.calibration


def _scored(rows: list[tuple[str, str, float]]) -> pa.Table:
    return pa.table({"unique_id_l": [r[0] for r in rows], "unique_id_r": [r[1] for r in rows],
                     "match_probability": [r[2] for r in rows]})


def test_a_cannot_link_above_auto_merge_raises_the_threshold_one_bit_above_it() -> None:
    scored = _scored([("A:1", "A:2", 0.9996), ("B:1", "B:2", 0.9990), ("C:1", "C:2", 0.3)])
    auto, counts = thresholds_from_labels(
        scored, cannot=[("A:1", "A:2"), ("B:1", "B:2")], must=[("C:1", "C:2")],
        auto_merge=0.999, suspect=0.9, guard=None)
    assert auto == pytest.approx(0.9998)  # odds doubled above the highest: 1 - 0.0004 / 2
    assert counts == {"cannot_would_merge": 2, "cannot_above_cap": 0, "must_below_suspect": 1}
    # pairs given the other way round are the same pairs
    auto2, _ = thresholds_from_labels(scored, cannot=[("A:1", "A:2")], must=[],
                                      auto_merge=0.999, suspect=0.9, guard=None)
    assert auto2 == pytest.approx(0.9998)


def test_the_threshold_never_passes_the_cap_and_below_auto_nothing_moves() -> None:
    scored = _scored([("A:1", "A:2", 0.9999999), ("B:1", "B:2", 0.99)])
    auto, counts = thresholds_from_labels(scored, cannot=[("A:1", "A:2")], must=[],
                                          auto_merge=0.999, suspect=0.9, guard=None)
    assert auto == MAX_AUTO_MERGE and counts["cannot_above_cap"] == 1
    auto, counts = thresholds_from_labels(scored, cannot=[("B:1", "B:2")], must=[],
                                          auto_merge=0.999, suspect=0.9, guard=None)
    assert auto == 0.999 and counts["cannot_would_merge"] == 0


def test_cannot_links_an_exclusive_attribute_keeps_apart_are_found() -> None:
    from matching.engine.labels import kept_apart

    db = DuckDBBackend()
    db.create_table("persons", "SELECT * FROM (VALUES ('A:1', '110101199003070011', 'M'), "
                    "('A:2', '110101199003070029', 'M'), ('A:3', NULL, 'F'), "
                    "('A:4', '110101199003070011', NULL)) t(unique_id, resident_id, gender)")
    pairs = [("A:1", "A:2"), ("A:1", "A:3"), ("A:1", "A:4"), ("A:3", "A:4")]
    # two valid IDs; a man and a woman; the same ID; nothing to tell them apart
    assert kept_apart(db, "persons", "P", pairs) == {("A:1", "A:2"), ("A:1", "A:3")}
