"""The engine's one dialect-specific seam: where tables live and how SQL runs.

Everything else in the engine is portable SQL plus Splink's database API, so
running on Spark means a second class with these five methods around
Splink's ``SparkAPI`` (the scale-out issue). DuckDB is the default.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa
from splink import DuckDBAPI
from splink.internals.splink_dataframe import SplinkDataFrame

__all__ = ["Backend", "DuckDBBackend"]

log = logging.getLogger(__name__)


class Backend(Protocol):
    @property
    def db_api(self) -> Any: ...  # a Splink database API (DuckDBAPI, SparkAPI)

    def load_csv(self, name: str, path: Path) -> None: ...
    def create_table(self, name: str, sql: str) -> None: ...
    def register(self, name: str) -> SplinkDataFrame: ...
    def fetch_arrow(self, sql: str) -> pa.Table: ...
    def count(self, name: str) -> int: ...


class DuckDBBackend:
    """DuckDB, in memory or in a file, with bounded threads and memory."""

    def __init__(self, path: str = ":memory:", threads: int | None = None,
                 memory_limit: str = "12GB", temp_directory: Path | None = None) -> None:
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": memory_limit,
            "preserve_insertion_order": False,
        }
        if threads:
            config["threads"] = threads
        if temp_directory is not None:
            config["temp_directory"] = str(temp_directory)
        self.con = duckdb.connect(path, config=config)
        self._db_api = DuckDBAPI(connection=self.con)
        self._registered: dict[str, SplinkDataFrame] = {}

    @property
    def db_api(self) -> DuckDBAPI:
        return self._db_api

    def load_csv(self, name: str, path: Path) -> None:
        """A standardised CSV as a table, every column text, empty cells NULL."""
        self.con.execute(
            f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_csv(?, header = true, "
            "all_varchar = true, quote = '\"', escape = '\"')",
            [str(path)],
        )

    def create_table(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")

    def register(self, name: str) -> SplinkDataFrame:
        if name not in self._registered:
            self._registered[name] = self.db_api.register(name)
        return self._registered[name]

    def fetch_arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def count(self, name: str) -> int:
        row = self.con.sql(f"SELECT count(*) FROM {name}").fetchall()[0]
        return int(row[0])
