"""On PostgreSQL each stage ANALYZEs the tables it (or the ingest before it) changed
enough for their statistics to be stale, not the whole database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecif.ingest import ingest_files
from tests.store.helpers import batch

NIGHT = Path(__file__).parents[2] / "data" / "sample" / "nights" / "day_001.csv"


def _first_night(store: Engine, sample_models: Path, why: str
                 ) -> dict[str, tuple[float, int, int]]:
    """Ingest and batch the sample's first night on PostgreSQL; then per table of the
    store, pg_class's (reltuples, relpages, relallvisible): what the last ANALYZE or
    VACUUM recorded (reltuples -1: never analyzed; relallvisible: pages the
    visibility map marked all-visible)."""
    if store.dialect.name != "postgresql":
        pytest.skip(why)
    ingest_files(store, [NIGHT], workers=1)
    batch(store, sample_models)
    with store.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.relname, c.reltuples, c.relpages, c.relallvisible FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r'").all()
    return {str(name): (float(n), int(pages), int(visible)) for name, n, pages, visible in rows}


def test_first_batch_analyzes_the_tables_it_filled(store: Engine, sample_models: Path) -> None:
    stats = {t: n for t, (n, _, _) in
             _first_night(store, sample_models, "ANALYZE is PostgreSQL's").items()}
    # filled by the ingest and the stages: statistics at once (-1: never analyzed)
    for table in ("source_record", "link", "customer", "customer_history", "block_key",
                  "match_pair"):
        assert stats[table] > 50, table
    # untouched by a night: left alone
    for table in ("app_user", "api_key"):
        assert stats[table] == -1, table


def test_a_finished_batch_leaves_its_tables_vacuumed(store: Engine,
                                                      sample_models: Path) -> None:
    """A first night updates every customer row once (dead versions) and fills tables
    nothing has vacuumed: the day's API reads should not pay for that. Autovacuum
    may be off (as on the CI machine): the batch vacuums itself."""
    seen = _first_night(store, sample_models, "VACUUM is PostgreSQL's")
    for table in ("source_record", "link", "customer", "customer_history", "block_key",
                  "review_task"):
        _, pages, visible = seen[table]
        assert pages > 0, table
        assert visible == pages, (table, seen[table])
