"""One batch (or ingest) at a time per database, and no steward or API write
while one runs.

The batch and ingest hold the job lock *exclusively* for their whole run. A
steward's merge or an API registration takes it *shared*, for one
transaction: many of those run side by side, but never inside a batch, whose
plan (read at the start of its match stage) a change made meanwhile would
contradict.

SQLite: ``flock`` on ``<database>.lock``; PostgreSQL: an advisory lock (a
session lock on a connection held for the job; a transaction-scoped shared
lock for a write). The operating system or the server releases either when
the process dies, kill -9 included, so a crashed run never blocks the re-run
that finishes it.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from matching.exceptions import Busy
from models.db import StoreError

__all__ = ["job_lock", "shared_write_lock", "JobBusy", "LOCK_WAIT_ENV"]

_PG_LOCK_ID = 0x45434946  # "ECIF"
#: Seconds an exclusive job waits for writes in flight (shared holders) to finish.
LOCK_WAIT_ENV = "ECIF_LOCK_WAIT"


class JobBusy(StoreError, Busy):
    """Another batch or ingest holds the database."""


def _wait_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get(LOCK_WAIT_ENV, "5")))
    except ValueError:
        return 5.0


@contextmanager
def job_lock(engine: Engine, job: str) -> Iterator[None]:
    """Hold the database exclusively for ``job`` (a batch or an ingest)."""
    if engine.dialect.name == "sqlite":
        yield from _sqlite_lock(engine, job)
    else:
        yield from _pg_lock(engine, job)


def shared_write_lock(conn: Connection, what: str, keys: Sequence[int] = ()
                      ) -> AbstractContextManager[None] | None:
    """Inside ``conn``'s transaction: refuse (JobBusy) while a batch or an ingest runs.
    PostgreSQL: a transaction-scoped shared advisory lock, released at commit or
    rollback; then (same statement, one round trip) a transaction advisory lock on
    each of ``keys``, in key order (two callers never deadlock), waiting for them.
    SQLite: returns a context manager holding a shared ``flock`` (the caller keeps
    it open for the transaction); ``keys`` need no lock there, writers take turns."""
    if conn.dialect.name == "postgresql":
        if keys:
            got = conn.exec_driver_sql(_SHARED_AND_KEYS, {"job": _PG_LOCK_ID,
                                                          "keys": sorted(set(keys))}).scalar()
        else:
            got = conn.execute(text("SELECT pg_try_advisory_xact_lock_shared(:k)"),
                               {"k": _PG_LOCK_ID}).scalar()
        if not got:
            raise _busy(what, "the nightly batch or an ingest")
        return None
    return _sqlite_shared(conn.engine, what)


#: the keys' locks only once the job's shared lock is held (CASE evaluates its branch
#: only when taken); the sorted subquery takes them in key order
_SHARED_AND_KEYS = (
    "SELECT CASE WHEN pg_try_advisory_xact_lock_shared(%(job)s) THEN "
    "(SELECT count(pg_advisory_xact_lock(k)) >= 0 FROM "
    "(SELECT unnest(%(keys)s::bigint[]) AS k ORDER BY 1) q) ELSE false END")


def _busy(job: str, holder: str) -> JobBusy:
    return JobBusy(f"cannot start {job}: {holder.strip() or 'another job'} is running on this "
                   "database; wait for it to finish (a crashed run frees the lock itself)")


def _lock_path(engine: Engine) -> Path | None:
    database = engine.url.database or ":memory:"
    if database.startswith("file:"):  # a URI filename (sqlite:///file:/x.db?mode=ro&uri=true)
        database = database[len("file:"):].split("?", 1)[0]
    if database in (":memory:", ""):
        return None
    path = Path(database).with_suffix(Path(database).suffix + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _alive(holder: str) -> bool:
    """Whether the job named in the lock file ("batch (pid 123)") still runs."""
    try:
        pid = int(holder.rsplit("pid", 1)[1].strip(" )"))
    except (IndexError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sqlite_lock(engine: Engine, job: str) -> Iterator[None]:
    path = _lock_path(engine)
    if path is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + _wait_seconds()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace")
                if _alive(holder) or time.monotonic() >= deadline:
                    # a live named holder is another job; else writes in flight, soon done
                    raise _busy(job, holder if _alive(holder) else "") from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{job} (pid {os.getpid()})".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing releases the flock


@contextmanager
def _sqlite_shared(engine: Engine, what: str) -> Iterator[None]:
    path = _lock_path(engine)
    if path is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace")
            raise _busy(what, holder or "the nightly batch or an ingest") from None
        yield
    finally:
        os.close(fd)


@contextmanager
def sqlite_writer_turn(engine: Engine, what: str, wait: float = 30.0) -> Iterator[None]:
    """SQLite: the store's writers take turns on an exclusive ``flock`` of
    ``<db>.writer`` before ``BEGIN IMMEDIATE``, polled every millisecond.
    Left to SQLite, a writer that finds the store locked sleeps in its busy handler
    in steps of up to 100 ms, whatever the other writer's transaction takes: under
    several worker processes that, not the work, made the slowest registrations.
    Within one process the writers first queue on a lock of the process (a waiting
    thread sleeps until its turn), so at most one thread per process polls the
    ``flock``: a worker's other threads (match-checks) do not share the
    interpreter with several pollers waking every millisecond."""
    path = _lock_path(engine)
    if path is None:
        yield
        return
    deadline = time.monotonic() + wait
    turn = _process_turn(path)
    if not turn.acquire(timeout=wait):
        raise _busy(what, "another writer")
    try:
        fd = os.open(path.with_suffix(".writer"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise _busy(what, "another writer") from None
                    time.sleep(0.001)
            yield
        finally:
            os.close(fd)
    finally:
        turn.release()


_TURNS: dict[str, threading.Lock] = {}
_TURNS_GUARD = threading.Lock()


def _process_turn(path: Path) -> threading.Lock:
    """This process's writers' lock for the store at ``path``."""
    with _TURNS_GUARD:
        return _TURNS.setdefault(str(path), threading.Lock())


def _pg_lock(engine: Engine, job: str) -> Iterator[None]:
    with engine.connect() as conn:
        deadline = time.monotonic() + _wait_seconds()
        while True:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _PG_LOCK_ID}).scalar()
            conn.commit()
            if got:
                break
            exclusive = conn.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :k "
                "AND mode = 'ExclusiveLock' AND granted"), {"k": _PG_LOCK_ID}).scalar()
            conn.commit()
            if exclusive or time.monotonic() >= deadline:
                raise _busy(job, "another batch or ingest")
            time.sleep(0.05)
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_ID})
            conn.commit()
