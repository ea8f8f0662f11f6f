"""One model file for both engines: the SQL of a saved model re-quoted and its
similarity functions renamed per dialect, nothing else changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matching.engine.model import model_path
from matching.engine.portable import for_dialect, translate_sql
from matching.engine.settings import person_settings


def test_identifiers_requoted_and_functions_renamed() -> None:
    sql = 'jaro_winkler_similarity("name_pinyin_l", "name_pinyin_r") >= 0.92'
    assert translate_sql(sql, "duckdb", "spark") == \
        "jaro_winkler(`name_pinyin_l`, `name_pinyin_r`) >= 0.92"
    assert translate_sql('l."mobile" = r."mobile"', "duckdb", "spark") == "l.`mobile` = r.`mobile`"


def test_string_literals_and_other_functions_untouched() -> None:
    sql = "\"a_l\" = 'say \"hi\"' AND substr(b_l, 1, 4) = 'jaro_winkler_similarity(x)'"
    out = translate_sql(sql, "duckdb", "spark")
    assert out == "`a_l` = 'say \"hi\"' AND substr(b_l, 1, 4) = 'jaro_winkler_similarity(x)'"
    assert translate_sql(out, "spark", "duckdb") == sql


def test_unknown_dialect_is_refused() -> None:
    with pytest.raises(ValueError, match="postgres"):
        translate_sql("a = b", "duckdb", "postgres")


def test_settings_as_splink_writes_them_for_each_engine() -> None:
    """Independent oracle: Splink's own settings for Spark are what the DuckDB ones become."""
    creator = person_settings()
    duck = {**creator.create_settings_dict("duckdb"), "sql_dialect": "duckdb"}
    spark = {**creator.create_settings_dict("spark"), "sql_dialect": "spark"}
    assert for_dialect(duck, "spark") == spark
    assert for_dialect(spark, "duckdb") == duck


def test_saved_model_round_trip(sample_models: Path) -> None:
    for ctype in ("P", "G"):
        raw = json.loads(model_path(sample_models, ctype).read_text(encoding="utf-8"))["splink"]
        assert raw["sql_dialect"] == "duckdb"
        spark = for_dialect(raw, "spark")
        assert spark["sql_dialect"] == "spark"
        text = json.dumps(spark)
        assert '\\"' not in text  # no double-quoted identifier left for Spark to misread
        assert "jaro_winkler_similarity" not in text
        assert for_dialect(spark, "duckdb") == raw
