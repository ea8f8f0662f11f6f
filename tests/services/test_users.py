"""Accounts through the users service, on SQLite and PostgreSQL: hashed passwords,
names unique, roles checked, disabled accounts and wrong passwords refused, a
reset changes the session stamp, every change audited."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from ecif.services.base import Actor, unit_of_work
from ecif.services.users import (
    authenticate,
    create_user,
    list_users,
    reset_password,
    session_stamp,
    set_active,
)
from matching.exceptions import BadInput, Conflict, Forbidden, NotFound
from matching.vocabulary import Role
from tests.store.helpers import query

ADMIN = Actor("admin1", Role.ADMIN)
STEWARD = Actor("steward1", Role.STEWARD)


def test_create_login_disable_reset(store: Engine) -> None:
    with unit_of_work(store) as conn:
        made = create_user(conn, "steward1", "steward", "s3cret-pass", actor=ADMIN)
    assert made.role == Role.STEWARD and made.active
    stored = query(store, "SELECT password_hash FROM app_user")["password_hash"].iloc[0]
    assert "s3cret-pass" not in stored and stored.startswith("scrypt:")
    with unit_of_work(store) as conn, pytest.raises(Conflict, match="exists"):
        create_user(conn, "steward1", "viewer", "another-pass", actor=ADMIN)
    with unit_of_work(store) as conn:
        assert authenticate(conn, "steward1", "wrong-pass") is None
        assert authenticate(conn, "nobody", "s3cret-pass") is None
    with unit_of_work(store) as conn:
        ok = authenticate(conn, "steward1", "s3cret-pass")
    assert ok is not None and ok.last_login_at is not None and ok.failed_logins == 0
    with unit_of_work(store) as conn:
        set_active(conn, "steward1", False, actor=ADMIN)
    with unit_of_work(store) as conn:
        assert authenticate(conn, "steward1", "s3cret-pass") is None  # disabled
        set_active(conn, "steward1", True, actor=ADMIN)
        reset = reset_password(conn, "steward1", "brand-new-pass", actor=ADMIN)
    assert session_stamp(reset) != session_stamp(ok)
    with unit_of_work(store) as conn:
        assert authenticate(conn, "steward1", "s3cret-pass") is None
        assert authenticate(conn, "steward1", "brand-new-pass") is not None
        assert [u.username for u in list_users(conn)] == ["steward1"]
    actions = query(store, "SELECT action FROM audit_log ORDER BY id")["action"].tolist()
    assert actions == ["user_created", "login_failed", "login_failed", "login",
                       "user_disabled", "login_failed", "user_enabled", "user_password_reset",
                       "login_failed", "login"]
    failed = query(store, "SELECT failed_logins FROM app_user")["failed_logins"].iloc[0]
    assert failed == 0  # a good login resets the count


def test_refusals(store: Engine) -> None:
    with unit_of_work(store) as conn, pytest.raises(BadInput, match="role"):
        create_user(conn, "x1", "superuser", "long-enough", actor=ADMIN)
    with unit_of_work(store) as conn, pytest.raises(BadInput, match="at least 8"):
        create_user(conn, "x1", "viewer", "short", actor=ADMIN)
    with unit_of_work(store) as conn, pytest.raises(BadInput, match="user name"):
        create_user(conn, "<b>x</b>", "viewer", "long-enough", actor=ADMIN)
    with unit_of_work(store) as conn, pytest.raises(Forbidden, match="create users"):
        create_user(conn, "x1", "viewer", "long-enough", actor=STEWARD)
    with unit_of_work(store) as conn, pytest.raises(NotFound):
        set_active(conn, "ghost", False, actor=ADMIN)
    with unit_of_work(store) as conn:
        create_user(conn, "admin1", "admin", "long-enough", actor=ADMIN)
    with unit_of_work(store) as conn, pytest.raises(Conflict, match="own account"):
        set_active(conn, "admin1", False, actor=ADMIN)
    with unit_of_work(store) as conn, pytest.raises(Forbidden):
        reset_password(conn, "admin1", "long-enough-2", actor=STEWARD)
    assert query(store, "SELECT count(*) AS n FROM app_user")["n"].iloc[0] == 1
