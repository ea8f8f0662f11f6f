"""One batch (or ingest) at a time per database.

SQLite: an exclusive ``flock`` on ``<database>.lock``; PostgreSQL: a session
advisory lock on a connection held for the job. The operating system or the
server releases either when the process dies, kill -9 included, so a crashed
run never blocks the re-run that finishes it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

from models.db import StoreError

__all__ = ["job_lock", "JobBusy"]

_PG_LOCK_ID = 0x45434946  # "ECIF"


class JobBusy(StoreError):
    """Another batch or ingest holds the database."""


@contextmanager
def job_lock(engine: Engine, job: str) -> Iterator[None]:
    if engine.dialect.name == "sqlite":
        yield from _sqlite_lock(engine, job)
    else:
        yield from _pg_lock(engine, job)


def _busy(job: str, holder: str) -> JobBusy:
    return JobBusy(f"cannot start {job}: {holder.strip() or 'another job'} is running on this "
                   "database; wait for it to finish (a crashed run frees the lock itself)")


def _sqlite_lock(engine: Engine, job: str) -> Iterator[None]:
    database = engine.url.database or ":memory:"
    if database == ":memory:":
        yield
        return
    path = Path(database).with_suffix(Path(database).suffix + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(job, os.pread(fd, 200, 0).decode("utf-8", "replace")) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{job} (pid {os.getpid()})".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _pg_lock(engine: Engine, job: str) -> Iterator[None]:
    with engine.connect() as conn:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _PG_LOCK_ID}).scalar()
        conn.commit()
        if not got:
            raise _busy(job, "another batch or ingest")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_ID})
            conn.commit()
