"""Engines, sessions and schema management for the two supported databases:
embedded SQLite (the default) and PostgreSQL (``postgresql+psycopg://``)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from matching.exceptions import ECIFError

__all__ = ["make_engine", "init_db", "SQLITE_BUSY_MS", "alembic_config", "schema_is_current",
           "session_factory", "require_current_schema", "StoreError"]

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


class StoreError(ECIFError):
    """The database is missing, out of date or busy."""


_SQLITE_MMAP = 16 << 30
SQLITE_BUSY_MS = 30_000  # how long a statement waits for another connection's lock


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    # reads map the file instead of copying each page through a read() call (the
    # match-check's candidate query reads pages all over a large store); SQLite caps
    # the map at its build's limit (2 GiB in Python's), the rest is read as before
    cur.execute(f"PRAGMA mmap_size={_SQLITE_MMAP}")
    cur.close()


def _ping_when_idle(engine: Engine, seconds: float) -> None:
    """Check a pooled connection before use only when it has been idle ``seconds``
    (SQLAlchemy's pessimistic disconnect handling, without a round trip per request
    while the server is busy): a dead one is replaced, not handed out."""
    from sqlalchemy import exc

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get("ecif_used", 0.0)
        now = time.monotonic()
        record.info["ecif_used"] = now
        if now - last < seconds:
            return
        try:
            cur = dbapi_conn.cursor()
            cur.execute("SELECT 1")
            cur.close()
            dbapi_conn.rollback()  # leave it idle, as the pool hands connections out
        except Exception as err:  # noqa: BLE001  (any failure: a dead connection)
            raise exc.DisconnectionError() from err


def make_engine(url: str, *, ping_idle_seconds: float | None = None,
                pool_size: int | None = None) -> Engine:
    """An engine for ``url``; an SQLite file's folder is created. PostgreSQL: each
    connection is checked before use (``pool_pre_ping``), or with
    ``ping_idle_seconds`` only one idle that long (the web app: one round trip less
    per request). ``pool_size``: connections the pool keeps (SQLAlchemy's default,
    5, otherwise): a server with more threads than that opened and closed a
    connection (a new PostgreSQL backend, an empty SQLite page cache, statements
    prepared again) for most requests beyond it."""
    parsed = make_url(url)
    sized: dict[str, Any] = {"pool_size": pool_size} if pool_size else {}
    if parsed.get_backend_name() == "sqlite":
        uri = str(parsed.query.get("uri", "")).lower() == "true"
        file = bool(parsed.database) and parsed.database != ":memory:" and not uri
        if file and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **(sized if file else {}))
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if ping_idle_seconds is None:
            return create_engine(url, pool_pre_ping=True, **sized)
        engine = create_engine(url, **sized)
        _ping_when_idle(engine, ping_idle_seconds)
        return engine
    raise StoreError(f"database URL {parsed.render_as_string()!r}: expected sqlite:/// or "
                     "postgresql+psycopg://")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def init_db(engine: Engine) -> str:
    """Create or upgrade the schema to the newest migration; return its revision."""
    command.upgrade(alembic_config(engine), "head")
    return _current(engine) or ""


def _current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    return _current(engine) == head


def require_current_schema(engine: Engine) -> None:
    if not schema_is_current(engine):
        raise StoreError(f"database {engine.url.render_as_string()} is not initialised or is "
                         "out of date; run `ecif init`")
