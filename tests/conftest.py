"""Shared fixtures: the real code maps from config/."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from matching.config import CodeMaps, load_code_maps


@pytest.fixture(scope="session")
def codes() -> CodeMaps:
    return load_code_maps()


# --- the store: real SQLite and real PostgreSQL --------------------------------------


PG_SERVER = os.environ.get("ECIF_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    """None when the PostgreSQL test server answers, else why not."""
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_SERVER, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    why = _pg_available()
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs PostgreSQL at {PG_SERVER}: {why}")
        pytest.skip(f"PostgreSQL at {PG_SERVER} not reachable ({why}); "
                    "SQLite variants still run")
    return PG_SERVER


def fresh_pg_database(server: str) -> tuple[str, str]:
    """Create an empty database on the test server; return (url, name)."""
    from sqlalchemy import create_engine, text

    name = f"ecif_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}", name


def drop_pg_database(server: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind (schema not yet created)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ecif.db'}"
        return
    server = request.getfixturevalue("pg_server")
    url, name = fresh_pg_database(server)
    try:
        yield url
    finally:
        drop_pg_database(server, name)


@pytest.fixture
def store(store_url: str) -> Iterator[object]:
    """An initialised store engine."""
    from models.db import init_db, make_engine

    engine = make_engine(store_url)
    init_db(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sample_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both models trained once on the sample, for tests that run batches."""
    from dataclasses import replace

    from matching.engine.config import load_engine_config
    from matching.engine.workflow import train_files

    model_dir = tmp_path_factory.mktemp("models")
    config = replace(load_engine_config(), model_dir=model_dir)
    train_files([Path(__file__).parents[1] / "data" / "sample" / "day_001.csv"], config=config)
    return model_dir
