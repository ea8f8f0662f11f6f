"""Who acts, what a role may do, and the unit of work around a change."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from matching.exceptions import Busy, Forbidden
from matching.vocabulary import BATCH_ACTOR, Role
from models.lock import shared_write_lock, sqlite_writer_turn

__all__ = ["Actor", "unit_of_work", "require_role", "BATCH", "WRITERS", "APPROVERS"]

#: Roles that may work tasks and ask for changes.
WRITERS = (Role.STEWARD, Role.APPROVER, Role.ADMIN)
#: Roles that may approve or reject another person's change.
APPROVERS = (Role.APPROVER, Role.ADMIN)


@dataclass(frozen=True)
class Actor:
    """Who does something: a user (with a role), an API key, or the batch."""

    name: str
    role: str = Role.VIEWER
    system: bool = False  # the batch or an API integration, not a person

    def __str__(self) -> str:
        return self.name


BATCH = Actor(BATCH_ACTOR, Role.ADMIN, system=True)


def require_role(actor: Actor, roles: tuple[str, ...], doing: str) -> None:
    """Forbidden unless ``actor`` holds one of ``roles`` (the system may do anything)."""
    if not actor.system and actor.role not in roles:
        raise Forbidden(f"{actor.name} ({actor.role}) may not {doing}; needs role "
                        + " or ".join(str(r) for r in roles))


@contextmanager
def unit_of_work(engine: Engine, what: str = "a change", *,
                 locks: Sequence[int] = ()) -> Iterator[Connection]:
    """One transaction for one change, committed at the end (rolled back on error).

    Refused with :class:`~models.lock.JobBusy` (a :class:`~matching.exceptions.Busy`)
    while the nightly batch or an ingest runs. On SQLite the transaction takes the write
    lock at once (``BEGIN IMMEDIATE``), so that two writers wait for each other
    instead of failing half-way when both upgrade a read lock. ``locks``: PostgreSQL
    advisory lock keys the transaction takes first, with the job check, in one round
    trip (two changes of one thing serialise; SQLite's writers take turns anyway)."""
    with ExitStack() as stack:
        conn = stack.enter_context(engine.connect())
        try:
            if conn.dialect.name == "sqlite":
                stack.enter_context(sqlite_writer_turn(engine, what))
                shared = shared_write_lock(conn, what)
                if shared is not None:
                    stack.enter_context(shared)
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.begin()
                shared_write_lock(conn, what, locks)
        except OperationalError as exc:
            raise Busy(f"the store is busy ({str(exc.orig).splitlines()[0]}); try again") \
                from exc
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
