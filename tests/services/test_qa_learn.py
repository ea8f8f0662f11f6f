"""QA sampling and learning from stewards on a store (SQLite and PostgreSQL).

The sample (2,000 records with a truth file) is ingested and batched once per
database. The QA sample is stratified (counts per stratum), its tasks survive
a batch, answers filled from the truth file give a report whose interval
holds each stratum's true precision (over the whole stratum, from the truth
file); and a steward's cannot-link still holds after `ecif train
--learn-from-decisions` and the next batch.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from ecif.ingest import ingest_files
from ecif.services import qa
from ecif.services.base import BATCH, unit_of_work
from ecif.training import train_store
from matching.engine.config import load_engine_config
from matching.exceptions import BadInput, NotFound
from matching.vocabulary import Judgement, TaskStatus, TaskType
from tests.services.conftest import STEWARD
from tests.store.helpers import batch, decide, links, query

SAMPLE = Path(__file__).parents[2] / "data" / "sample" / "day_001.csv"
TRUTH = SAMPLE.with_name("truth.csv")


def _entity() -> dict[str, str]:
    truth = pd.read_csv(TRUTH, dtype=str, keep_default_na=False)
    return dict(zip(truth["source_system"] + ":" + truth["source_customer_id"],
                    truth["entity_id"], strict=True))


@pytest.fixture
def sample_store(store: Engine, sample_models: Path, tmp_path: Path) -> Engine:
    """The sample's first 1,200 rows, batched."""
    rows = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(1200)
    part = tmp_path / "sample.csv"
    rows.to_csv(part, index=False)
    ingest_files(store, [part], workers=1)
    batch(store, sample_models)
    return store


@pytest.fixture
def small_store(store: Engine, sample_models: Path, tmp_path: Path) -> Engine:
    """The sample's first 800 rows: enough to train on, quicker to train."""
    rows = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(800)
    part = tmp_path / "part.csv"
    rows.to_csv(part, index=False)
    ingest_files(store, [part], workers=1)
    batch(store, sample_models)
    return store


def test_wilson_interval_against_a_hand_worked_value() -> None:
    # 8 of 10, z = 1.959964: centre (0.8 + z^2/20) / (1 + z^2/10) = 0.716738,
    # half-width z * sqrt(0.8 * 0.2 / 10 + z^2/400) / (1 + z^2/10) = 0.226578
    low, high = qa.wilson(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    z = 1.959963985
    centre = (0.8 + z * z / 20) / (1 + z * z / 10)
    half = z * math.sqrt(0.016 + z * z / 400) / (1 + z * z / 10)
    assert low == pytest.approx(centre - half) and high == pytest.approx(centre + half)
    assert qa.wilson(0, 0) == (0.0, 1.0)
    assert qa.wilson(5, 5)[1] == pytest.approx(1.0)


def test_qa_sample_is_stratified_survives_a_batch_and_the_report_holds_the_truth(
        sample_store: Engine, sample_models: Path) -> None:
    config = replace(load_engine_config(), model_dir=sample_models)
    population = qa.scored_population(sample_store, config)
    got = qa.open_sample(sample_store, config, per_band=12, actor=BATCH, seed=7)
    sizes = population.groupby("stratum").size()
    assert {s["stratum"]: (s["population"], s["sampled"]) for s in got.strata} == {
        s: (int(n), min(int(n), 12)) for s, n in sizes.items()}
    assert len(sizes) >= 4 and (sizes > 12).any()  # merged and apart bands, some cut
    sampled = query(sample_store, "SELECT stratum, count(*) AS n FROM qa_pair GROUP BY stratum")
    assert dict(zip(sampled["stratum"], sampled["n"], strict=True)) == {
        s: min(int(n), 12) for s, n in sizes.items()}
    tasks = query(sample_store, "SELECT t.id, t.status, count(m.record_id) AS members "
                                "FROM review_task t JOIN task_member m ON m.task_id = t.id "
                                "WHERE t.task_type = :k GROUP BY t.id, t.status",
                  {"k": TaskType.QA_SAMPLE})
    assert len(tasks) == got.tasks == sum(min(int(n), 12) for n in sizes)
    assert set(tasks["members"]) == {2}
    batch(sample_store, sample_models)  # a batch neither closes nor grows QA tasks
    after = query(sample_store, "SELECT status, count(*) AS n FROM review_task "
                                "WHERE task_type = :k GROUP BY status", {"k": TaskType.QA_SAMPLE})
    assert after.values.tolist() == [[TaskStatus.OPEN, got.tasks]]

    with sample_store.connect() as conn:
        unanswered = qa.qa_report(conn)
    assert all(s["answered"] == 0 for s in unanswered.strata)

    entity = _entity()
    pairs = query(sample_store, "SELECT task_id, left_key, right_key FROM qa_pair")
    with unit_of_work(sample_store) as conn:
        for task_id, left, right in pairs.itertuples(index=False):
            qa.answer(conn, int(task_id), entity[left] == entity[right], actor=STEWARD)
        with pytest.raises((BadInput, NotFound)):  # not a QA task
            qa.answer(conn, _other_task(sample_store), True, actor=STEWARD)
    with sample_store.connect() as conn:
        report = qa.qa_report(conn)
    population["true"] = [entity[a] == entity[b] for a, b in zip(
        population["left_key"], population["right_key"], strict=True)]
    truth_share = population.groupby("stratum")["true"].mean()
    for s in report.strata:
        assert s["answered"] == s["sampled"]
        assert s["low"] - 1e-12 <= truth_share[s["stratum"]] <= s["high"] + 1e-12, s
        if s["sampled"] == s["population"]:  # the whole stratum: the exact share
            assert s["rate"] == pytest.approx(truth_share[s["stratum"]])
    overall = report.overall["P"]
    assert overall["precision"] is not None and overall["recall"] is not None
    assert overall["precision_low"] <= overall["precision"] <= overall["precision_high"]
    text = report.format()
    assert "P/merged/0.9999-1" in text and "Wilson" in text
    runner = CliRunner()
    from ecif.cli import main

    res = runner.invoke(main, ["qa", "report", "--format", "csv"],
                        env={"ECIF_DATABASE_URL": sample_store.url.render_as_string(False)})
    assert res.exit_code == 0, res.output
    csv_rows = [line for line in res.output.splitlines() if line]
    assert csv_rows[0].startswith("stratum,") and len(csv_rows) == len(report.strata) + 1


def _other_task(store: Engine) -> int:
    """A task that is not a QA task (a batch's suspect task), or an unknown id."""
    rows = query(store, "SELECT id FROM review_task WHERE task_type <> :k ORDER BY id",
                 {"k": TaskType.QA_SAMPLE})
    return int(rows["id"].iloc[0]) if len(rows) else -1


def test_a_cannot_link_still_holds_after_learning_from_decisions(
        small_store: Engine, sample_models: Path) -> None:
    sample_store = small_store
    config = replace(load_engine_config(), model_dir=sample_models)
    keys = links(sample_store)
    frame = pd.Series(keys).rename_axis("key").reset_index(name="no")
    big = frame.groupby("no")["key"].agg(sorted)
    big = big[big.map(len) >= 2]
    a, b = big.iloc[0][:2]  # two records the machine put together
    entity = _entity()
    truth_pairs = [(x, y) for group in big.iloc[1:40]
                   for x, y in zip(group, group[1:], strict=False) if entity[x] == entity[y]]
    with unit_of_work(sample_store) as conn:
        decide(conn, Judgement.CANNOT_LINK, a, b)
        for x, y in truth_pairs:  # must-links: enough to learn m from
            decide(conn, Judgement.MUST_LINK, x, y)
    batch(sample_store, sample_models)
    assert links(sample_store)[a] != links(sample_store)[b]
    lines = list(train_store(sample_store, config, learn=True))
    assert any("labels from steward decisions" in line for line in lines)
    assert any("m estimated from the" in line for line in lines), lines
    versions = query(sample_store, "SELECT counts FROM trained_model WHERE active = :t "
                                   "AND customer_type = 'P'", {"t": True})
    assert '"must_links"' in versions["counts"].iloc[0]
    batch(sample_store, sample_models)
    now = links(sample_store)
    assert now[a] != now[b]
    assert all(now[x] == now[y] for x, y in truth_pairs)


def test_only_cannot_links_that_undid_a_merge_count_as_over_merges(people: Engine) -> None:
    """A split's cannot-links may move the auto-merge threshold when learning; a
    not-duplicate-like decision on records the machine left apart may not."""
    from ecif.services import customers
    from ecif.training import over_merged
    from tests.services.conftest import CONFIG, customer_of

    zhang = customer_of(people)("CORE:C1")
    with unit_of_work(people) as conn:
        customers.split(conn, zhang, ["CLAIM:K1"], actor=STEWARD, config_dir=CONFIG)
        decide(conn, Judgement.CANNOT_LINK, "UW:U1", "WEB:W1")
    with people.connect() as conn:
        assert over_merged(conn) == [("CLAIM:K1", "CORE:C1")]
