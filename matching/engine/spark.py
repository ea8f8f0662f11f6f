"""The engine on Apache Spark, through Splink's own ``SparkAPI``.

The second implementation of :class:`matching.engine.backend.Backend`: tables
are Spark temporary views, SQL runs through ``spark.sql``, and Splink's
``SparkAPI`` does candidate generation and scoring. The engine's SQL is
written in DuckDB's flavour (the default engine); it is carried to Spark SQL
by sqlglot (``CAST(... AS VARCHAR)`` becomes ``STRING`` and so on) and the
model's settings by :mod:`matching.engine.portable`.

pyspark is an optional extra (``pip install 'ecif[spark]'``) and needs a Java
runtime (17 or later for pyspark 4): :func:`check_java` says which to install
when none is found. ``local[N]`` runs on this machine; a cluster URL
(``yarn``, ``k8s://...``, ``spark://...``) runs on a cluster (docs/spark.md).
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlglot
from splink.internals.splink_dataframe import SplinkDataFrame

from matching.engine.backend import RESULT_BATCH_ROWS, memory_mapped
from matching.exceptions import ConfigError

__all__ = ["SparkBackend", "SparkSettings", "check_java", "check_pyspark", "spark_session",
           "partition_plan", "to_spark_sql", "register_similarity_functions", "DEFAULT_MASTER"]

log = logging.getLogger(__name__)

DEFAULT_MASTER = "local[2]"
_INSTALL_JAVA = ("install a Java runtime, 17 or later (Debian/Ubuntu: apt-get install "
                 "openjdk-17-jre-headless), or set JAVA_HOME to one")


def check_pyspark() -> None:
    """Raise :class:`ConfigError` naming the extra to install when pyspark is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise ConfigError("the Spark engine needs pyspark: pip install 'ecif[spark]'") from exc


def check_java(env: dict[str, str] | None = None) -> str:
    """The ``java`` Spark will start (``$JAVA_HOME/bin/java``, else ``java`` on
    PATH); :class:`ConfigError` saying what to install when there is none."""
    env = dict(os.environ) if env is None else env
    home = env.get("JAVA_HOME")
    if home:
        java = Path(home) / "bin" / "java"
        if java.is_file() and os.access(java, os.X_OK):
            return str(java)
        raise ConfigError(f"JAVA_HOME={home} holds no bin/java; the Spark engine needs "
                          f"Java: {_INSTALL_JAVA}")
    found = shutil.which("java", path=env.get("PATH", ""))
    if found is None:
        raise ConfigError(f"no java on PATH; the Spark engine needs Java: {_INSTALL_JAVA}")
    return found


@dataclass(frozen=True)
class SparkSettings:
    """What an operator sets for a Spark run (docs/spark.md)."""

    master: str = DEFAULT_MASTER
    shuffle_partitions: int | None = None  # None: partition_plan() decides
    driver_memory: str = "4g"
    max_result_size: str = "4g"  # scored pairs come back to the driver for clustering
    checkpoint_dir: str | None = None  # Splink's lineage breaks (Parquet); a temp dir if None
    #: how Splink breaks lineage between steps: "parquet" (to checkpoint_dir: a cluster,
    #: a large night) or "persist" (executor memory: a small night, the tests)
    break_lineage: str = "parquet"
    #: where the batch hands the store's records to Spark (Parquet): a directory the
    #: executors read (a shared mount on a cluster); the batch's temp dir if None
    staging_dir: str | None = None
    extra_conf: tuple[tuple[str, str], ...] = ()


def partition_plan(records: int, focus_records: int, cores: int) -> dict[str, int]:
    """Shuffle partitions for one night: sized by the work (the records in scope
    generate the pairs; the base is read once for candidates and term
    frequencies), at least two per core, about 100,000 records each.

    The night stays incremental on Spark as on DuckDB: every blocking rule is
    limited to pairs with a record in scope (``model.focused``), so the pairs,
    the scores and the shuffles grow with the night, not with the base."""
    work = max(records // 10, focus_records)  # base read in partitions of ~1M records
    parts = max(2 * max(cores, 1), math.ceil(work / 100_000))
    return {"shuffle_partitions": parts,
            "repartition_after_blocking": max(cores, math.ceil(parts / 2))}


def _cores(master: str) -> int:
    if master.startswith("local["):
        inner = master[6:-1].split(",")[0]
        return os.cpu_count() or 1 if inner == "*" else int(inner)
    return 0  # a cluster: Spark's own default parallelism


def spark_session(settings: SparkSettings, app_name: str = "ecif-match") -> Any:
    """A SparkSession with Splink's similarity jar registered."""
    check_pyspark()
    check_java()
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    builder = (SparkSession.builder.master(settings.master).appName(app_name)
               .config("spark.jars", similarity_jar_location())
               .config("spark.driver.memory", settings.driver_memory)
               .config("spark.driver.maxResultSize", settings.max_result_size)
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.ansi.enabled", "false"))
    if settings.master.startswith("local") and not os.environ.get("PYSPARK_PYTHON"):
        # the Python workers (the similarity UDFs) run this interpreter, with jellyfish
        os.environ["PYSPARK_PYTHON"] = sys.executable
    if settings.shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions",
                                 str(settings.shuffle_partitions))
    for key, value in settings.extra_conf:
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def to_spark_sql(sql: str) -> str:
    """The engine's SQL (DuckDB flavour) as Spark SQL."""
    return ";\n".join(sqlglot.transpile(sql, read="duckdb", write="spark"))


class SparkBackend:
    """Spark temporary views; Splink's ``SparkAPI`` with lineage broken to Parquet
    under ``checkpoint_dir``."""

    def __init__(self, spark: Any, checkpoint_dir: str | None = None,
                 num_partitions_on_repartition: int | None = None,
                 break_lineage: str = "parquet") -> None:
        from splink.backends.spark import SparkAPI

        self.spark = spark
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if checkpoint_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ecif-spark-")
            checkpoint_dir = self._tmp.name
        spark.sparkContext.setCheckpointDir(checkpoint_dir)
        self._checkpoint_dir = checkpoint_dir
        self._db_api = SparkAPI(spark_session=spark, break_lineage_method=break_lineage,
                                num_partitions_on_repartition=num_partitions_on_repartition)
        register_similarity_functions(spark)
        self._registered: dict[str, SplinkDataFrame] = {}
        self._cached: dict[str, Any] = {}

    @classmethod
    def start(cls, settings: SparkSettings, records: int = 0,
              focus_records: int = 0) -> SparkBackend:
        """A session for ``settings`` with partitions planned for the night's size."""
        plan = partition_plan(records, focus_records, _cores(settings.master) or 2)
        if settings.shuffle_partitions is None:
            from dataclasses import replace
            settings = replace(settings, shuffle_partitions=plan["shuffle_partitions"])
        spark = spark_session(settings)
        spark.conf.set("spark.sql.shuffle.partitions", str(settings.shuffle_partitions))
        return cls(spark, settings.checkpoint_dir, plan["repartition_after_blocking"],
                   settings.break_lineage)

    @property
    def db_api(self) -> Any:
        return self._db_api

    def _view(self, name: str, frame: Any) -> None:
        old = self._cached.pop(name, None)
        frame = frame.persist()
        frame.createOrReplaceTempView(name)
        self._cached[name] = frame
        if old is not None:
            old.unpersist()
        self._registered.pop(name, None)

    def load_csv(self, name: str, path: Path) -> None:
        frame = self.spark.read.csv(str(path), header=True, quote='"', escape='"',
                                    multiLine=True, encoding="UTF-8")
        self._view(name, frame)

    def load_parquet(self, name: str, path: Path | str) -> None:
        self._view(name, self.spark.read.parquet(str(path)))

    def create_table(self, name: str, sql: str) -> None:
        self._view(name, self.spark.sql(to_spark_sql(sql)))

    def register(self, name: str) -> SplinkDataFrame:
        if name not in self._registered:
            self._registered[name] = self.db_api.register(name)
        return self._registered[name]

    def fetch_arrow(self, sql: str) -> pa.Table:
        frame = self.spark.sql(to_spark_sql(sql))
        return _to_arrow(frame)

    def fetch_result(self, frame: SplinkDataFrame) -> pa.Table:
        """The whole of a Splink result (the scored pairs), never collected through
        the driver's JVM: the executors write it as Parquet under the checkpoint
        directory, and this process reads the files batch by batch into a
        memory-mapped Arrow table (:func:`~matching.engine.backend.memory_mapped`),
        as the DuckDB backend does. A full 5M night's pairs are more than 4 GiB
        serialised: collected (``toArrow``) they hit ``spark.driver.maxResultSize``
        and double in the driver's heap. On a cluster the checkpoint directory must
        be readable from the driver (HDFS, S3, a shared mount: any filesystem
        ``pyarrow.fs`` knows)."""
        import pyarrow.dataset as pads
        import pyarrow.fs as pafs

        target = f"{self._checkpoint_dir.rstrip('/')}/ecif-result-{uuid.uuid4().hex}"
        frame.to_parquet(target, overwrite=True)
        filesystem, path = pafs.FileSystem.from_uri(
            target if "://" in target else os.path.abspath(target))
        try:
            # Spark's _SUCCESS and .crc files: skipped by the default ignore_prefixes
            dataset = pads.dataset(path, filesystem=filesystem, format="parquet")
            table = memory_mapped(dataset.schema,
                                  dataset.to_batches(batch_size=RESULT_BATCH_ROWS))
        finally:
            filesystem.delete_dir(path)
        if frame.created_by_splink:  # never a caller's own table
            frame.drop_table_from_database_and_remove_from_cache()
        return table

    def count(self, name: str) -> int:
        return int(self.spark.table(name).count())

    def close(self) -> None:
        for frame in self._cached.values():
            frame.unpersist()
        self._cached.clear()
        self._registered.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _similarity(func: Any) -> Any:
    def run(left: pd.Series, right: pd.Series) -> pd.Series:
        values = [None if a is None or b is None else float(func(a, b))
                  for a, b in zip(left, right, strict=True)]
        return pd.Series(pd.array(values, dtype="Float64"))  # None stays NULL, never NaN
    return run


def register_similarity_functions(spark: Any) -> None:
    """``jaro_winkler`` and ``damerau_levenshtein`` as jellyfish, replacing the
    jar's: the jar's Jaro-Winkler differs from DuckDB's (``wanglanli`` /
    ``wangbanli``: 0.9181 against 0.9306, across the 0.92 level of the name),
    DuckDB's and jellyfish's agree. Vectorised (Arrow) Python UDFs."""
    import jellyfish
    from pyspark.sql.functions import pandas_udf

    for name, func in (("jaro_winkler", jellyfish.jaro_winkler_similarity),
                       ("damerau_levenshtein", jellyfish.damerau_levenshtein_distance)):
        spark.udf.register(name, pandas_udf(_similarity(func), "double"))  # type: ignore[call-overload,unused-ignore]


def _to_arrow(frame: Any) -> pa.Table:
    """A Spark DataFrame's rows as Arrow (Spark 4's ``toArrow``; pandas on Spark 3)."""
    if hasattr(frame, "toArrow"):
        table: pa.Table = frame.toArrow()
        return table
    return pa.Table.from_pandas(frame.toPandas(), preserve_index=False)
