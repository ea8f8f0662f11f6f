"""A whole matching run on the checked-in sample: tiers, constraints, decisions, tasks."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from ecif.settings import REPO_ROOT
from matching.engine.backend import DuckDBBackend
from matching.engine.config import EngineConfig, load_engine_config
from matching.engine.model import TrainedModel, load_model, model_path
from matching.engine.run import Decisions, MatchResult, run_matching
from matching.engine.workflow import (
    STD_TABLE,
    evaluate_result,
    load_sources,
    match_files,
    read_decisions,
    train_files,
)
from matching.exceptions import ConfigError, InputFileError

SAMPLE = REPO_ROOT / "data" / "sample" / "day_001.csv"
TRUTH = REPO_ROOT / "data" / "sample" / "truth.csv"
NIGHTS = REPO_ROOT / "data" / "sample" / "nights"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> EngineConfig:
    cfg = replace(load_engine_config(), model_dir=tmp_path_factory.mktemp("models"))
    train_files([SAMPLE], config=cfg)
    return cfg


@pytest.fixture(scope="module")
def models(config: EngineConfig) -> dict[str, TrainedModel]:
    return {c: load_model(model_path(config.model_dir, c)) for c in ("P", "G")}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> DuckDBBackend:
    db = DuckDBBackend(threads=2)
    load_sources(db, [SAMPLE], tmp_path_factory.mktemp("std"), workers=1)
    return db


@pytest.fixture(scope="module")
def result(loaded: DuckDBBackend, config: EngineConfig,
           models: dict[str, TrainedModel]) -> MatchResult:
    return run_matching(loaded, STD_TABLE, config, models)


def test_models_are_versioned_and_reproducible(config: EngineConfig,
                                               models: dict[str, TrainedModel],
                                               tmp_path: Path) -> None:
    assert models["P"].version.startswith("person-")
    assert models["G"].version.startswith("organisation-")
    again = train_files([SAMPLE], config=replace(config, model_dir=tmp_path))
    assert again["P"].version == models["P"].version  # seeded: same data, same model
    assert again["G"].version == models["G"].version


def test_every_record_in_exactly_one_cluster(result: MatchResult) -> None:
    rec = result.records
    admitted = pd.read_csv(SAMPLE, dtype=str).shape[0] - 3  # the sample has 3 nameless rows
    assert rec["unique_id"].is_unique
    assert len(rec) == admitted
    assert rec["cluster_id"].isin(rec["unique_id"]).all()  # a cluster is named by a member


def test_no_cluster_breaks_a_hard_cannot_link(result: MatchResult, loaded: DuckDBBackend
                                              ) -> None:
    ids = loaded.fetch_arrow(
        f"SELECT source_system || ':' || source_customer_id AS unique_id, "
        f"CASE WHEN id_type = 'RESIDENT_ID' THEN id_number END AS rid, org_code "
        f"FROM {STD_TABLE}").to_pandas()
    branch = loaded.fetch_arrow("SELECT unique_id, branch_state AS branch FROM "
                                "organisations").to_pandas()
    rec = result.records.merge(ids, on="unique_id").merge(branch, on="unique_id", how="left")
    per_cluster = rec.groupby("cluster_id").agg(
        types=("customer_type", "nunique"), rids=("rid", "nunique"),
        codes=("org_code", "nunique"))
    assert (per_cluster["types"] == 1).all()   # a person and an organisation never merge
    assert (per_cluster["rids"] <= 1).all()    # two valid resident IDs never merge
    assert (per_cluster["codes"] <= 1).all()
    orgs = rec[rec["customer_type"] == "G"]
    # a branch never with its head office or another branch (unknown states aside)
    assert (orgs.groupby("cluster_id")["branch"].nunique() <= 1).all()


def test_link_types_and_rules_explain_every_merge(result: MatchResult) -> None:
    rec = result.records
    sizes = rec.groupby("cluster_id")["unique_id"].transform("size")
    assert (rec.loc[sizes == 1, "link_type"] == "new").all()
    merged = rec[sizes > 1]
    assert set(merged["link_type"]) <= {"auto_rule", "auto_model"}
    model_rules = merged.loc[merged["link_type"] == "auto_model", "rule"]
    assert model_rules.str.startswith("model:person-").any()
    assert set(result.rule_pairs["rule"]) <= {
        "same_resident_id_and_name", "same_resident_id_and_pinyin_and_birth_date",
        "same_org_code_and_branch"}
    mw = [c for c in result.pairs.column_names if c.startswith("mw_")]
    assert {"mw_name", "mw_id", "mw_birth_date"} <= set(mw)  # the waterfall is kept


def test_accuracy_on_the_sample(result: MatchResult) -> None:
    report = evaluate_result(result, pd.read_csv(TRUTH, dtype=str, keep_default_na=False))
    assert report.auto["all"].precision == 1.0
    assert report.auto["P"].recall >= 0.95
    assert report.reviewed["all"].recall >= 0.98
    assert report.share_in_tasks <= 0.08


def _merged_pair(result: MatchResult) -> tuple[str, str]:
    rec = result.records
    sizes = rec.groupby("cluster_id")["unique_id"].transform("size")
    cluster = rec[(sizes == 2) & (rec["link_type"] == "auto_model")].iloc[0]["cluster_id"]
    a, b = rec.loc[rec["cluster_id"] == cluster, "unique_id"].tolist()
    return a, b


def test_steward_cannot_link_splits_what_the_machine_merged(
        loaded: DuckDBBackend, config: EngineConfig, models: dict[str, TrainedModel],
        result: MatchResult) -> None:
    a, b = _merged_pair(result)
    again = run_matching(loaded, STD_TABLE, config, models, Decisions(cannot_link=((a, b),)))
    clusters = again.records.set_index("unique_id")["cluster_id"]
    assert clusters[a] != clusters[b]


def test_steward_must_link_joins_what_the_machine_kept_apart(
        loaded: DuckDBBackend, config: EngineConfig, models: dict[str, TrainedModel],
        result: MatchResult) -> None:
    rec = result.records
    singles = rec[rec.groupby("cluster_id")["unique_id"].transform("size") == 1]
    persons = singles[singles["customer_type"] == "P"]["unique_id"].tolist()
    a, b = persons[0], persons[-1]
    again = run_matching(loaded, STD_TABLE, config, models, Decisions(must_link=((a, b),)))
    row = again.records.set_index("unique_id").loc[[a, b]]
    assert row["cluster_id"].nunique() == 1
    assert set(row["link_type"]) == {"manual"}


def test_tasks_group_customers_not_pairs(result: MatchResult) -> None:
    tasks = result.tasks
    assert len(tasks) > 0
    per_task = tasks.groupby("task_id")["cluster_id"].nunique()
    assert (per_task >= 2).all()          # a task asks whether customers are one
    assert tasks["unique_id"].is_unique   # a record is in at most one open task
    assert set(tasks["task_type"]) <= {"person_suspect", "org_suspect_group"}


def test_newest_version_of_a_record_wins(tmp_path: Path) -> None:
    db = DuckDBBackend(threads=1)
    files = [NIGHTS / "day_001.csv", NIGHTS / "day_002.csv"]
    load_sources(db, files, tmp_path, workers=1)
    day2 = pd.read_csv(files[1], dtype=str, keep_default_na=False)
    updated = day2[day2["source_customer_id"].isin(
        pd.read_csv(files[0], dtype=str)["source_customer_id"])].iloc[0]
    row = db.fetch_arrow(
        f"SELECT mobile, updated_at, count(*) OVER () AS n FROM {STD_TABLE} "
        f"WHERE source_customer_id = '{updated['source_customer_id']}'").to_pandas()
    assert len(row) == 1
    assert row["updated_at"][0].startswith(updated["updated_at"][:19])


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    cfg = replace(load_engine_config(), model_dir=tmp_path)
    with pytest.raises(ConfigError, match="ecif train"):
        match_files([SAMPLE], config=cfg)


def test_read_decisions(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("source_system_l,source_customer_id_l,source_system_r,source_customer_id_r,"
                    "judgement\nCORE,C1,UW,U1,must_link\nCORE,C1,TELE,T1,cannot_link\n",
                    encoding="utf-8")
    d = read_decisions(path)
    assert d.must_link == (("CORE:C1", "UW:U1"),)
    assert d.cannot_link == (("CORE:C1", "TELE:T1"),)
    path.write_text("source_system_l,source_customer_id_l,source_system_r,source_customer_id_r,"
                    "judgement\nCORE,C1,UW,U1,maybe\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="'maybe' on row 2"):
        read_decisions(path)
