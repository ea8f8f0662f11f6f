"""On PostgreSQL each stage ANALYZEs the tables it (or the ingest before it) changed
enough for their statistics to be stale, not the whole database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecif.ingest import ingest_files
from tests.store.helpers import batch

NIGHT = Path(__file__).parents[2] / "data" / "sample" / "nights" / "day_001.csv"


def _reltuples(store: Engine) -> dict[str, float]:
    with store.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.relname, c.reltuples FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
            "AND c.relkind = 'r'").all()
    return {str(name): float(n) for name, n in rows}


def test_first_batch_analyzes_the_tables_it_filled(store: Engine, sample_models: Path) -> None:
    if store.dialect.name != "postgresql":
        pytest.skip("ANALYZE is PostgreSQL's")
    ingest_files(store, [NIGHT], workers=1)
    batch(store, sample_models)
    stats = _reltuples(store)
    # filled by the ingest and the stages: statistics at once (-1: never analyzed)
    for table in ("source_record", "link", "customer", "customer_history", "block_key",
                  "match_pair"):
        assert stats[table] > 50, table
    # untouched by a night: left alone
    for table in ("app_user", "api_key"):
        assert stats[table] == -1, table


def _visibility(store: Engine) -> dict[str, tuple[int, int]]:
    """Per table: (pages, pages the visibility map marks all-visible), as VACUUM (or
    ANALYZE, from the map as it stands) last recorded them in pg_class."""
    with store.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.relname, c.relpages, c.relallvisible FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
            "AND c.relkind = 'r'").all()
    return {str(name): (int(pages), int(visible)) for name, pages, visible in rows}


def test_a_finished_batch_leaves_its_tables_vacuumed(store: Engine,
                                                      sample_models: Path) -> None:
    """A first night updates every customer row once (dead versions) and fills tables
    nothing has vacuumed: the day's API reads should not pay for that. Autovacuum
    may be off (as on the CI machine): the batch vacuums itself."""
    if store.dialect.name != "postgresql":
        pytest.skip("VACUUM is PostgreSQL's")
    ingest_files(store, [NIGHT], workers=1)
    batch(store, sample_models)
    seen = _visibility(store)
    for table in ("source_record", "link", "customer", "customer_history", "block_key",
                  "review_task"):
        pages, visible = seen[table]
        assert pages > 0, table
        assert visible == pages, (table, seen[table])
