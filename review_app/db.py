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
    app.extensions[_KEY] = make_engine(app.config["ECIF_DATABASE_URL"])
    app.teardown_appcontext(_close)


def get_engine() -> Engine:
    engine: Engine = current_app.extensions[_KEY]
    return engine


def read_conn() -> Connection:
    """This request's connection for reads (one per request)."""
    if "ecif_conn" not in g:
        g.ecif_conn = get_engine().connect()
    conn: Connection = g.ecif_conn
    return conn


def config_dir() -> Path:
    return Path(current_app.config["ECIF_CONFIG_DIR"])


def _close(_exc: BaseException | None) -> None:
    conn = g.pop("ecif_conn", None)
    if conn is not None:
        conn.close()
