"""The schema: one migration head, migrations equal to the models, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

import models
from models.db import alembic_config, init_db, make_engine, schema_is_current


def test_one_migration_head() -> None:
    script = ScriptDirectory.from_config(alembic_config(make_engine("sqlite://")))
    assert len(script.get_heads()) == 1


def test_migrations_build_exactly_the_models(store: Engine) -> None:
    with store.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), models.Base.metadata)
    assert diff == []


def test_init_is_idempotent_and_reports_current(store: Engine) -> None:
    assert schema_is_current(store)
    before = set(inspect(store).get_table_names())
    init_db(store)
    assert set(inspect(store).get_table_names()) == before
    assert {"source_record", "customer", "link", "decision", "merge_event", "review_task",
            "batch_run", "exception_row", "app_user", "api_key", "audit_log"} <= before


def test_uninitialised_database_is_reported(store_url: str) -> None:
    engine = make_engine(store_url)
    assert not schema_is_current(engine)
    engine.dispose()
