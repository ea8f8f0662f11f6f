"""Administration (管理): the accounts of the app. Admins only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ecif.services import users
from ecif.services.base import unit_of_work
from matching.exceptions import BadInput, Conflict, NotFound
from matching.vocabulary import Role
from review_app.auth import current_actor, roles_required
from review_app.db import get_engine, read_conn

__all__ = ["bp"]

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users", endpoint="users")
@roles_required(Role.ADMIN)
def users_page() -> ResponseReturnValue:
    return render_template("admin/users.html", users=users.list_users(read_conn()),
                           roles=[r.value for r in Role])


def _change(do: Any) -> ResponseReturnValue:
    try:
        with unit_of_work(get_engine(), "a user account") as conn:
            message = do(conn)
    except (BadInput, Conflict, NotFound) as exc:
        flash(f"未执行：{exc}", "error")
    else:
        flash(message, "success")
    return redirect(url_for("admin.users"), 303)


@bp.post("/users")
@roles_required(Role.ADMIN)
def create() -> ResponseReturnValue:
    form = request.form

    def do(conn: Any) -> str:
        made = users.create_user(conn, form.get("username", ""), form.get("role", ""),
                                 form.get("password", ""), actor=current_actor())
        return f"已创建用户 {made.username}。"
    return _change(do)


def _set_active(username: str, active: bool) -> ResponseReturnValue:
    def do(conn: Any) -> str:
        users.set_active(conn, username, active, actor=current_actor())
        return f"已{'启用' if active else '停用'}用户 {username}。"
    return _change(do)


@bp.post("/users/<username>/disable")
@roles_required(Role.ADMIN)
def disable(username: str) -> ResponseReturnValue:
    return _set_active(username, False)


@bp.post("/users/<username>/enable")
@roles_required(Role.ADMIN)
def enable(username: str) -> ResponseReturnValue:
    return _set_active(username, True)


@bp.post("/users/<username>/password")
@roles_required(Role.ADMIN)
def reset(username: str) -> ResponseReturnValue:
    def do(conn: Any) -> str:
        users.reset_password(conn, username, request.form.get("password", ""),
                             actor=current_actor())
        return f"已重置 {username} 的密码。"
    return _change(do)
