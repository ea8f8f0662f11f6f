"""A store after the sample's first night and batch, for the API tests (one per
module and database: the batch is what takes time)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from ecif.ingest import ingest_files
from ecif.services.apikeys import create_key
from ecif.services.base import Actor, unit_of_work
from matching.config import DEFAULT_CONFIG_DIR
from models.db import init_db, make_engine
from tests.conftest import drop_pg_database, fresh_pg_database
from tests.store.helpers import batch

NIGHT = Path(__file__).parents[2] / "data" / "sample" / "nights" / "day_001.csv"
OPERATOR = Actor("test", system=True)


@dataclass
class ApiStore:
    engine: Engine
    app: Flask
    client: FlaskClient

    def key(self, scopes: tuple[str, ...] = ("match", "register", "read", "pii"),
            rate_limit: int | None = None) -> str:
        with unit_of_work(self.engine) as conn:
            return create_key(conn, f"k-{uuid.uuid4().hex[:8]}", scopes=scopes,
                              rate_limit=rate_limit, actor=OPERATOR).key

    def post(self, path: str, body: Any, key: str) -> Any:
        return self.client.post(path, json=body, headers={"X-API-Key": key})


def build_api_store(request: pytest.FixtureRequest, tmp_path: Path,
                    models: Path) -> Iterator[ApiStore]:
    pg_name = None
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_server")
        url, pg_name = fresh_pg_database(server)
    else:
        url = f"sqlite:///{tmp_path / 'api.db'}"
    engine = make_engine(url)
    init_db(engine)
    ingest_files(engine, [NIGHT], config_dir=DEFAULT_CONFIG_DIR, workers=1)
    batch(engine, models)
    from review_app import create_app

    app = create_app({"ECIF_DATABASE_URL": url, "TESTING": True,
                      "ECIF_CONFIG_DIR": str(DEFAULT_CONFIG_DIR)})
    yield ApiStore(engine, app, app.test_client())
    engine.dispose()
    app.extensions["ecif_engine"].dispose()
    if pg_name:
        drop_pg_database(request.getfixturevalue("pg_server"), pg_name)
