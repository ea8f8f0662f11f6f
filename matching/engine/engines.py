"""Which engine runs a match: DuckDB (the default, one machine) or Spark.

:func:`open_backend` gives the backend for a run and closes it afterwards;
everything past it (features, rules, Splink's scoring) is the same code on
both. The Spark engine is described by :class:`~matching.engine.spark.SparkSettings`
(``None`` means DuckDB); pyspark is imported only when it is asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matching.engine.backend import Backend, DuckDBBackend
from matching.exceptions import BadInput

if TYPE_CHECKING:
    from matching.engine.spark import SparkSettings

__all__ = ["ENGINES", "engine_settings", "open_backend"]

ENGINES = ("duckdb", "spark")


def engine_settings(engine: str, master: str | None = None,
                    **spark: Any) -> SparkSettings | None:
    """``None`` for DuckDB; the Spark settings for ``spark`` (``master`` default
    ``local[2]``). Raises :class:`BadInput` on another name."""
    name = (engine or "duckdb").strip().lower()
    if name not in ENGINES:
        raise BadInput(f"engine {engine!r}: expected one of {', '.join(ENGINES)}",
                       {"engine": "unknown engine"})
    if name == "duckdb":
        return None
    from matching.engine.spark import DEFAULT_MASTER, SparkSettings

    return SparkSettings(master=master or DEFAULT_MASTER, **spark)


@contextmanager
def open_backend(spark: SparkSettings | None, *, temp_directory: Path | None = None,
                 records: int = 0, focus_records: int = 0) -> Iterator[Backend]:
    """A backend for one run: DuckDB, or a Spark session sized for ``records``
    (``focus_records`` of them in scope)."""
    if spark is None:
        yield DuckDBBackend(temp_directory=temp_directory)
        return
    from matching.engine.spark import SparkBackend

    backend = SparkBackend.start(spark, records, focus_records)
    try:
        yield backend
    finally:
        backend.close()
