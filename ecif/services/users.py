"""Accounts of the stewards' app (``app_user``): create, disable, enable, reset a
password, list; check a login. Passwords are stored as werkzeug scrypt hashes,
never in clear; every change writes an audit row.

A user's *session stamp* (:func:`session_stamp`) changes with the password
hash, so a password reset ends the sessions opened with the old password.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ecif.bulk import table_of
from ecif.services.audit import audit
from ecif.services.base import Actor, require_role
from matching.exceptions import BadInput, Conflict, NotFound
from matching.vocabulary import Role
from models.auth import User
from models.base import utcnow

__all__ = ["UserInfo", "create_user", "set_active", "reset_password", "list_users",
           "get_user", "authenticate", "session_stamp", "MIN_PASSWORD", "ADMINS"]

#: Shortest password accepted.
MIN_PASSWORD = 8
_MAX_PASSWORD = 256
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,79}$")
#: Roles that manage accounts.
ADMINS = (Role.ADMIN,)
#: A hash compared when the user is unknown, so that a wrong name takes as long as a
#: wrong password (no user enumeration by timing).
_DUMMY_HASH = generate_password_hash("not-a-password", method="scrypt")


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    role: str
    active: bool
    created_at: datetime | None
    last_login_at: datetime | None
    failed_logins: int
    password_hash: str

    @classmethod
    def of(cls, row: Any) -> UserInfo:
        return cls(int(row.id), row.username, row.role, bool(row.active), row.created_at,
                   row.last_login_at, int(row.failed_logins or 0), row.password_hash)


def session_stamp(user: UserInfo) -> str:
    """Changes whenever the password does (ends older sessions)."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:12]


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise BadInput(f"role {role!r}: expected one of " + ", ".join(r.value for r in Role),
                       {"role": "unknown"}) from None


def _password(password: str | None) -> str:
    if password is None or len(password) < MIN_PASSWORD:
        raise BadInput(f"a password needs at least {MIN_PASSWORD} characters",
                       {"password": "too short"})
    if len(password) > _MAX_PASSWORD:
        raise BadInput(f"a password holds at most {_MAX_PASSWORD} characters",
                       {"password": "too long"})
    return generate_password_hash(password, method="scrypt")


def _find(conn: Connection, username: str, *, lock: bool = False) -> Any:
    query = select(User).where(User.username == username)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"user {username!r}: no such user")
    return row


def create_user(conn: Connection, username: str, role: str, password: str, *,
                actor: Actor) -> UserInfo:
    """A new active account; Conflict when the name is taken."""
    require_role(actor, ADMINS, "create users")
    username = (username or "").strip()
    if not _NAME.match(username):
        raise BadInput(f"user name {username!r}: 1-80 letters, digits, '_', '.', '@' or '-'",
                       {"username": "invalid"})
    kind = _role(role)
    hashed = _password(password)
    taken = conn.execute(select(func.count()).select_from(User)
                         .where(User.username == username)).scalar_one()
    if taken:
        raise Conflict(f"user {username!r} exists already")
    now = utcnow()
    conn.execute(table_of(User).insert().values(
        username=username, password_hash=hashed, role=kind, active=True, created_at=now,
        failed_logins=0, password_changed_at=now))
    audit(conn, actor, "user_created", "app_user", username,
          after={"username": username, "role": kind, "active": True})
    return UserInfo.of(_find(conn, username))


def set_active(conn: Connection, username: str, active: bool, *, actor: Actor) -> UserInfo:
    """Disable (the user can no longer log in, open sessions end) or enable."""
    require_role(actor, ADMINS, "disable or enable users")
    row = _find(conn, username, lock=True)
    if not active and row.username == actor.name:
        raise Conflict("you cannot disable your own account")
    if bool(row.active) != active:
        conn.execute(update(User).where(User.id == row.id).values(
            active=active, failed_logins=0))
        audit(conn, actor, "user_enabled" if active else "user_disabled", "app_user",
              username, before={"active": bool(row.active)}, after={"active": active})
    return UserInfo.of(_find(conn, username))


def reset_password(conn: Connection, username: str, password: str, *,
                   actor: Actor) -> UserInfo:
    """A new password (an admin, or the user for their own account)."""
    if actor.name != username:
        require_role(actor, ADMINS, "reset other users' passwords")
    row = _find(conn, username, lock=True)
    conn.execute(update(User).where(User.id == row.id).values(
        password_hash=_password(password), password_changed_at=utcnow(), failed_logins=0))
    audit(conn, actor, "user_password_reset", "app_user", username)
    return UserInfo.of(_find(conn, username))


def list_users(conn: Connection) -> list[UserInfo]:
    return [UserInfo.of(r) for r in conn.execute(select(User).order_by(User.username))]


def get_user(conn: Connection, user_id: int) -> UserInfo | None:
    row = conn.execute(select(User).where(User.id == user_id)).first()
    return UserInfo.of(row) if row is not None else None


def authenticate(conn: Connection, username: str, password: str) -> UserInfo | None:
    """The user when the name and password are right and the account is active; else
    None (the failure is counted and audited, without saying which part was wrong)."""
    row = conn.execute(select(User).where(User.username == (username or "").strip())).first()
    if row is None:
        check_password_hash(_DUMMY_HASH, password or "")
        audit(conn, Actor(username[:80] or "?"), "login_failed", "app_user", username[:200],
              why="unknown user")
        return None
    if not check_password_hash(row.password_hash, password or "") or not row.active:
        conn.execute(update(User).where(User.id == row.id).values(
            failed_logins=User.failed_logins + 1))
        audit(conn, Actor(row.username, row.role), "login_failed", "app_user", row.username,
              why="wrong password" if row.active else "account disabled")
        return None
    conn.execute(update(User).where(User.id == row.id).values(
        last_login_at=utcnow(), failed_logins=0))
    audit(conn, Actor(row.username, row.role), "login", "app_user", row.username)
    return UserInfo.of(_find(conn, row.username))
