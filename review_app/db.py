"""The store for the app: one engine per app, one read connection per request
(closed on teardown); writes go through :func:`ecif.services.base.unit_of_work`."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine

from models.db import make_engine

__all__ = ["init_app", "get_engine", "read_conn", "config_dir"]

_KEY = "ecif_engine"


def init_app(app: Flask) -> None:
    app.extensions[_KEY] = make_engine(app.config["ECIF_DATABASE_URL"], ping_idle_seconds=10,
                                       pool_size=app.config.get("ECIF_POOL_SIZE"))
    app.teardown_appcontext(_close)


def get_engine() -> Engine:
    engine: Engine = current_app.extensions[_KEY]
    return engine


def read_conn() -> Connection:
    """This request's connection for reads (one per request)."""
    if "ecif_conn" not in g:
        fresh = get_engine().connect()
        if fresh.dialect.name == "postgresql":
            # reads only: each statement sees the newest commits, as under READ COMMITTED,
            # without the BEGIN and the ROLLBACK at the end of each request
            fresh = fresh.execution_options(isolation_level="AUTOCOMMIT")
        g.ecif_conn = fresh
    conn: Connection = g.ecif_conn
    return conn


def config_dir() -> Path:
    return Path(current_app.config["ECIF_CONFIG_DIR"])


def _close(_exc: BaseException | None) -> None:
    conn = g.pop("ecif_conn", None)
    if conn is not None:
        conn.close()
