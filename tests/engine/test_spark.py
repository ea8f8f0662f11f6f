"""The match on Spark gives what it gives on DuckDB: the sample's two nights
through the store (customer numbers, links, tasks, change feed, scored pairs),
and every candidate pair's probability with a model trained on either engine.

One SparkSession for the module (local[2], two shuffle partitions, lineage
kept in memory). Without pyspark or Java these tests skip, except under
CI=true, where they must run (`make test` installs the ``spark`` extra)."""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ecif.batch import run_batch
from ecif.exports import export_changes, export_links, export_tasks
from ecif.ingest import ingest_files
from matching.config import DEFAULT_CONFIG_DIR
from matching.engine.backend import DuckDBBackend
from matching.engine.config import load_engine_config
from matching.engine.features import organisation_features_sql, person_features_sql
from matching.engine.model import (
    load_model,
    model_path,
    predict_pairs,
    save_model,
    train_model,
)
from matching.engine.workflow import STD_TABLE, load_sources
from models.db import init_db, make_engine
from tests.store.helpers import use_models

SAMPLE = Path(__file__).parents[2] / "data" / "sample"
NIGHTS = sorted((SAMPLE / "nights").glob("day_*.csv"))
FEATURES = {"P": ("persons", person_features_sql), "G": ("organisations",
                                                         organisation_features_sql)}


def _spark_or_skip() -> None:
    why = None
    try:
        import pyspark  # noqa: F401
    except ImportError:
        why = "pyspark is not installed (pip install 'ecif[spark]')"
    if why is None and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        why = "no Java runtime"
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the Spark tests: {why}")
        pytest.skip(why)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    _spark_or_skip()
    from matching.engine.spark import SparkSettings, spark_session

    settings = SparkSettings(master="local[2]", shuffle_partitions=2, break_lineage="persist")
    session = spark_session(settings, app_name="ecif-tests")
    yield replace(settings)
    session.stop()


def _two_nights(tmp_path: Path, models: Path, spark: Any) -> dict[str, Any]:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    init_db(engine)
    use_models(engine, models)
    config = replace(load_engine_config(), model_dir=models)
    started = datetime(2000, 1, 1)
    for night in NIGHTS:
        ingest_files(engine, [night], workers=1)
        run_batch(engine, config, config_dir=DEFAULT_CONFIG_DIR, workers=1, spark=spark)
    out: dict[str, Any] = {}
    for name, export in (("links", export_links), ("tasks", export_tasks)):
        export(engine, tmp_path / f"{name}.csv")
        out[name] = (tmp_path / f"{name}.csv").read_text(encoding="utf-8")
    export_changes(engine, tmp_path / "changes.csv", started)
    with open(tmp_path / "changes.csv", encoding="utf-8") as fh:
        # the change feed without its times (the two stores ran at different instants)
        out["changes"] = [{k: v for k, v in row.items() if k != "changed_at"}
                          for row in csv.DictReader(fh)]
    out["pairs"] = pd.read_sql(
        "SELECT run_id, left_key, right_key, customer_type, match_probability, decision, rule "
        "FROM match_pair ORDER BY run_id, left_key, right_key, rule", engine)
    # the real-time API's index, built from the same night on either engine
    out["block_keys"] = pd.read_sql("SELECT s.record_key, b.* FROM block_key b JOIN "
                                    "source_record s ON s.id = b.record_id", engine)
    out["term_frequency"] = pd.read_sql("SELECT * FROM term_frequency", engine)
    engine.dispose()
    return out


def test_sample_two_nights_same_on_spark_as_on_duckdb(spark: Any, sample_models: Path,
                                                      tmp_path: Path) -> None:
    for name in ("duckdb", "spark"):
        (tmp_path / name).mkdir()
    duck = _two_nights(tmp_path / "duckdb", sample_models, None)
    on_spark = _two_nights(tmp_path / "spark", sample_models, spark)
    assert duck["links"].count("\n") > 1000  # every sample record, linked
    assert on_spark["links"] == duck["links"]  # the same customer numbers, link types
    assert on_spark["tasks"] == duck["tasks"]
    assert duck["changes"], "the sample's second night merges customers"
    assert on_spark["changes"] == duck["changes"]
    a, b = duck["pairs"], on_spark["pairs"]
    assert len(a) > 100
    pd.testing.assert_frame_equal(a.drop(columns="match_probability"),
                                  b.drop(columns="match_probability"))
    diff = (a["match_probability"].fillna(-1) - b["match_probability"].fillna(-1)).abs()
    assert diff.max() <= 1e-6
    for name in ("block_keys", "term_frequency"):
        x, y = duck[name], on_spark[name]
        assert len(x) > 100
        cols = list(x.columns)
        pd.testing.assert_frame_equal(x.sort_values(cols).reset_index(drop=True),
                                      y.sort_values(cols).reset_index(drop=True))


def _all_pairs(backend: Any, ctype: str, model: Any) -> pd.DataFrame:
    table, _ = FEATURES[ctype]
    scored = predict_pairs(backend, table, model, 0.0)
    frame = scored.as_pandas_dataframe()[["unique_id_l", "unique_id_r", "match_probability",
                                          "match_weight"]]
    return frame.sort_values(["unique_id_l", "unique_id_r"]).reset_index(drop=True)


def _backends(spark: Any, tmp_path: Path) -> tuple[DuckDBBackend, Any]:
    from matching.engine.spark import SparkBackend

    duck = DuckDBBackend()
    on_spark = SparkBackend.start(spark)
    for db in (duck, on_spark):
        load_sources(db, [SAMPLE / "day_001.csv"], tmp_path, workers=1)
        for table, sql in FEATURES.values():
            db.create_table(table, sql(STD_TABLE))
    return duck, on_spark


def test_one_model_file_scores_alike_on_both_engines(spark: Any, sample_models: Path,
                                                      tmp_path: Path) -> None:
    """The organisation model file trained on DuckDB scores every candidate pair of
    the sample (no threshold) with the same probability and weight on Spark (the
    persons' kept pairs are compared in the test above; all of theirs take minutes
    on a loaded 2-core machine)."""
    duck, on_spark = _backends(spark, tmp_path)
    try:
        for ctype in ("G",):
            model = load_model(model_path(sample_models, ctype))
            a, b = _all_pairs(duck, ctype, model), _all_pairs(on_spark, ctype, model)
            assert len(a) > 150
            pd.testing.assert_frame_equal(a[["unique_id_l", "unique_id_r"]],
                                          b[["unique_id_l", "unique_id_r"]])
            assert (a["match_probability"] - b["match_probability"]).abs().max() <= 1e-6
            assert (a["match_weight"] - b["match_weight"]).abs().max() <= 1e-6
    finally:
        on_spark.close()


def test_model_trained_on_spark_scores_alike_on_duckdb(spark: Any, tmp_path: Path) -> None:
    """The reverse: the organisation model trained on Spark, written to one file and
    read back, scores every candidate pair of the sample with the same probability
    and weight on DuckDB as on Spark."""
    duck, on_spark = _backends(spark, tmp_path)
    try:
        table, _ = FEATURES["G"]
        trained = train_model(on_spark, table, "G", load_engine_config().for_type("G"),
                              calibrate_on_pairs=False)
        save_model(trained, tmp_path / "G.json")
        model = load_model(tmp_path / "G.json")
        a, b = _all_pairs(duck, "G", model), _all_pairs(on_spark, "G", model)
        assert len(a) > 150
        pd.testing.assert_frame_equal(a[["unique_id_l", "unique_id_r"]],
                                      b[["unique_id_l", "unique_id_r"]])
        assert (a["match_probability"] - b["match_probability"]).abs().max() <= 1e-6
        assert (a["match_weight"] - b["match_weight"]).abs().max() <= 1e-6
        # the model learnt something: the pairs' probabilities are not all alike
        assert a["match_probability"].nunique() > 5
    finally:
        on_spark.close()


def test_scored_pairs_reach_the_driver_as_parquet_not_through_collect(
        spark: Any, sample_models: Path, tmp_path: Path) -> None:
    """``SparkBackend.fetch_result`` (written by the executors as Parquet, read
    memory-mapped) gives the table Spark's own collect (``toArrow``) gives: the
    same columns and types, the same rows; and leaves no Parquet behind."""
    from matching.engine.spark import SparkBackend

    on_spark = SparkBackend.start(spark)
    try:
        load_sources(on_spark, [SAMPLE / "day_001.csv"], tmp_path, workers=1)
        table, sql = FEATURES["G"]
        on_spark.create_table(table, sql(STD_TABLE))
        scored = predict_pairs(on_spark, table, load_model(model_path(sample_models, "G")),
                               0.0)
        collected = scored.as_pyarrow_table()
        fetched = on_spark.fetch_result(scored)
        assert collected.num_rows > 150
        assert fetched.schema == collected.schema
        keys = [("unique_id_l", "ascending"), ("unique_id_r", "ascending")]
        assert fetched.sort_by(keys).equals(collected.sort_by(keys))
        assert not list(Path(on_spark._checkpoint_dir).glob("ecif-result-*"))
    finally:
        on_spark.close()
