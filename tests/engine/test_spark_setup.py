"""Choosing the engine, and what an operator is told when Spark cannot start
(no Java, no pyspark): no JVM is started here."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ecif.cli import main
from ecif.settings import load_settings
from matching.engine.engines import engine_settings
from matching.engine.spark import check_java, partition_plan
from matching.exceptions import BadInput, ConfigError


def test_no_java_on_path_names_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="openjdk-17-jre-headless"):
        check_java({"PATH": str(tmp_path)})


def test_java_home_without_java(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"JAVA_HOME={tmp_path} holds no bin/java"):
        check_java({"JAVA_HOME": str(tmp_path), "PATH": ""})


def test_java_found_in_java_home(tmp_path: Path) -> None:
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text("#!/bin/sh\n")
    java.chmod(0o755)
    assert check_java({"JAVA_HOME": str(tmp_path), "PATH": ""}) == str(java)


def test_batch_on_spark_without_java_fails_in_one_line(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    env = {"PATH": str(tmp_path), "JAVA_HOME": "",
           "ECIF_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = CliRunner().invoke(main, ["batch", "--engine", "spark"], env=env)
    assert result.exit_code == 1
    assert "Java" in result.output and "openjdk-17-jre-headless" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.db").exists()  # refused before touching the store


def test_engine_from_settings() -> None:
    s = load_settings({"ECIF_ENGINE": "Spark", "ECIF_SPARK_MASTER": "yarn"})
    assert (s.engine, s.spark_master) == ("spark", "yarn")
    assert load_settings({}).engine == "duckdb"
    assert engine_settings("duckdb") is None
    chosen = engine_settings(s.engine, s.spark_master)
    assert chosen is not None and chosen.master == "yarn"
    s = load_settings({"ECIF_SPARK_STAGING": "/mnt/shared/ecif",
                       "ECIF_SPARK_CHECKPOINT_DIR": "hdfs:///tmp/ecif"})
    assert (s.spark_staging, s.spark_checkpoint_dir) == ("/mnt/shared/ecif", "hdfs:///tmp/ecif")
    assert load_settings({}).spark_staging is None
    with pytest.raises(BadInput, match="flink"):
        engine_settings("flink")


def test_partition_plan_grows_with_the_night_not_the_base() -> None:
    small = partition_plan(1_000_000, 10_000, 2)
    same_base_bigger_night = partition_plan(1_000_000, 2_000_000, 2)
    bigger_base = partition_plan(10_000_000, 10_000, 2)
    assert small["shuffle_partitions"] == 4  # two per core at least
    assert same_base_bigger_night["shuffle_partitions"] == 20
    assert bigger_base["shuffle_partitions"] == 10  # the base is read, not paired
