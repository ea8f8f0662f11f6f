"""The engine's one dialect-specific seam: where tables live and how SQL runs.

Everything else in the engine is portable SQL plus Splink's database API, so
running on Spark means a second class with these methods around
Splink's ``SparkAPI`` (the scale-out issue). DuckDB is the default.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa
from splink import DuckDBAPI
from splink.internals.splink_dataframe import SplinkDataFrame

__all__ = ["Backend", "DuckDBBackend", "default_memory_limit", "memory_mapped", "RESULT_BATCH_ROWS"]

log = logging.getLogger(__name__)

RESULT_BATCH_ROWS = 100_000  # rows of a result streamed at a time
#: DuckDB's share of the memory available when it starts: the rest of the match (the
#: records, the edges as arrays, clustering) stays in this process outside DuckDB's
#: limit, about 1 KB per record (docs/spark.md, "Memory of the DuckDB match")
MEMORY_SHARE = 0.5


def default_memory_limit(share: float = MEMORY_SHARE) -> str:
    """``share`` of the memory available now (Linux ``MemAvailable``; else of the
    physical memory), at least 1 GB, as DuckDB's ``memory_limit``: a fixed figure
    either starves a big machine or, on a small or busy one, lets DuckDB and the
    Python side together pass what is there (the OOM killer ended a 5M match)."""
    available = None
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if available is None:
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{max(1024, int(available * share / 2**20))}MB"


def memory_mapped(schema: pa.Schema, batches: Iterable[pa.RecordBatch],
                  directory: Path | str | None = None) -> pa.Table:
    """``batches`` as one Arrow table whose pages live in the kernel's page cache,
    not this process's heap: written batch by batch to an Arrow IPC file in
    ``directory`` (the system's temp dir if None) and read back memory-mapped. The
    file is unlinked at once; the mapping keeps it until the table is freed. How
    both engines hand a night's scored pairs (~6 GB at 5M records) to clustering."""
    fd, name = tempfile.mkstemp(prefix="ecif-pairs-", suffix=".arrow", dir=directory)
    os.close(fd)
    try:
        with pa.OSFile(name, "wb") as sink, pa.ipc.new_file(sink, schema) as out:
            for batch in batches:
                out.write_batch(batch)
        return pa.ipc.open_file(pa.memory_map(name)).read_all()
    finally:
        os.unlink(name)


class Backend(Protocol):
    @property
    def db_api(self) -> Any: ...  # a Splink database API (DuckDBAPI, SparkAPI)

    def load_csv(self, name: str, path: Path) -> None: ...
    def create_table(self, name: str, sql: str) -> None: ...
    def register(self, name: str) -> SplinkDataFrame: ...
    def fetch_arrow(self, sql: str) -> pa.Table: ...
    def fetch_result(self, frame: SplinkDataFrame) -> pa.Table: ...
    def count(self, name: str) -> int: ...


class DuckDBBackend:
    """DuckDB, in memory or in a file, with bounded threads and memory
    (``memory_limit``: by default :func:`default_memory_limit`; past it DuckDB
    spills to ``temp_directory``)."""

    def __init__(self, path: str = ":memory:", threads: int | None = None,
                 memory_limit: str | None = None, temp_directory: Path | None = None) -> None:
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": memory_limit or default_memory_limit(),
            "preserve_insertion_order": False,
        }
        if threads:
            config["threads"] = threads
        if temp_directory is not None:
            config["temp_directory"] = str(temp_directory)
        self.con = duckdb.connect(path, config=config)
        self._temp_directory = temp_directory
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

    def fetch_result(self, frame: SplinkDataFrame) -> pa.Table:
        """The whole of a Splink result (the scored pairs), then dropped from DuckDB
        (a table Splink made).

        Streamed batch by batch into an Arrow IPC file in the temporary directory
        and read back memory-mapped: the table is the same as ``as_pyarrow_table``
        gives, but its pages belong to the kernel's page cache, which can drop and
        reread them, instead of this process's heap (at 5M records the scored pairs
        with all their columns are ~6 GB). The file is unlinked at once; the mapping
        keeps it until the table is freed."""
        reader = self.con.sql(f"SELECT * FROM {frame.physical_name}").to_arrow_reader(
            RESULT_BATCH_ROWS)
        table = memory_mapped(reader.schema, reader, self._temp_directory)
        if frame.created_by_splink:  # never a caller's own table
            frame.drop_table_from_database_and_remove_from_cache()
        return table

    def count(self, name: str) -> int:
        row = self.con.sql(f"SELECT count(*) FROM {name}").fetchall()[0]
        return int(row[0])
