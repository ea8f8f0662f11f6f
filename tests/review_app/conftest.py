"""A demo-like store for the page tests: the sample's first night through a batch
(its open review tasks), the demo accounts; built once per session on SQLite
and on PostgreSQL. Helpers log in through the real form (with its CSRF token)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ecif.ingest import ingest_files
from ecif.services.base import Actor, unit_of_work
from ecif.services.users import create_user
from matching.vocabulary import Role
from tests.conftest import drop_pg_database, fresh_pg_database
from tests.store.helpers import batch

SAMPLE = Path(__file__).parents[2] / "data" / "sample" / "nights" / "day_001.csv"
USERS = {"steward1": Role.STEWARD, "steward2": Role.STEWARD, "approver1": Role.APPROVER,
         "viewer1": Role.VIEWER, "admin1": Role.ADMIN}


def build_demo_store(url: str, models: Path) -> None:
    from models.db import init_db, make_engine

    engine = make_engine(url)
    try:
        init_db(engine)
        ingest_files(engine, [SAMPLE], workers=1)
        batch(engine, models)
        with unit_of_work(engine) as conn:
            for name, role in USERS.items():
                create_user(conn, name, role, f"demo-{name}",
                            actor=Actor("test", Role.ADMIN, system=True))
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def demo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
             sample_models: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'ecif.db'}"
        build_demo_store(url, sample_models)
        yield url
        return
    server = request.getfixturevalue("pg_server")
    url, name = fresh_pg_database(server)
    try:
        build_demo_store(url, sample_models)
        yield url
    finally:
        drop_pg_database(server, name)


def app_on(url: str) -> Iterator[Flask]:
    """A test app on the store at ``url`` (login limits reset), its engine disposed after."""
    from review_app import create_app
    from review_app.db import get_engine
    from review_app.extensions import limiter

    app = create_app({"ECIF_DATABASE_URL": url, "TESTING": True})
    limiter.reset()
    yield app
    with app.app_context():
        get_engine().dispose()


@pytest.fixture
def app(demo_url: str) -> Iterator[Flask]:
    yield from app_on(demo_url)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "page without a CSRF token"
    return found.group(1)


def login(client: FlaskClient, name: str, password: str | None = None) -> Any:
    token = csrf_of(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": name, "csrf_token": token,
                                       "password": password or f"demo-{name}"})


def logged_in(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, name).status_code == 302
    return client


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None,
         page: str = "/tasks") -> Any:
    """POST with the CSRF token of ``page`` (as a browser would)."""
    token = csrf_of(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})})


def store_query(app: Flask, sql: str, params: dict[str, Any] | None = None) -> Any:
    from ecif.bulk import read_frame
    from review_app.db import get_engine

    with app.app_context(), get_engine().connect() as conn:
        return read_frame(conn, sql, params)
