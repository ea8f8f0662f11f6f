"""Logging in and out (Flask-Login), the signed-in user, and :func:`roles_required`.

A session names the user by ``<id>:<stamp>``; the stamp changes with the
password hash, and a disabled account loads as nobody, so a password reset
or a disabling ends the user's open sessions. Logging in clears the session
first (no session fixation); ``next`` is followed only to a path on this site
(no open redirect); failed logins are rate-limited per client address.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ecif.services.base import Actor, unit_of_work
from ecif.services.users import UserInfo, authenticate, get_user, session_stamp
from matching.vocabulary import Role
from review_app.db import get_engine, read_conn
from review_app.extensions import limiter, login_manager

__all__ = ["bp", "AppUser", "roles_required", "current_actor", "safe_next", "LOGIN_LIMIT"]

bp = Blueprint("auth", __name__)

#: Login attempts per client address.
LOGIN_LIMIT = "10 per minute"

F = TypeVar("F", bound=Callable[..., Any])


class AppUser(UserMixin):
    """The signed-in user of one request."""

    def __init__(self, info: UserInfo) -> None:
        self.info = info
        self.username = info.username
        self.role = info.role

    def get_id(self) -> str:
        return f"{self.info.id}:{session_stamp(self.info)}"

    @property
    def is_active(self) -> bool:
        return self.info.active

    @property
    def actor(self) -> Actor:
        return Actor(self.username, self.role)

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    @property
    def sees_pii(self) -> bool:
        return self.role != Role.VIEWER

    @property
    def can_work(self) -> bool:
        return self.role in (Role.STEWARD, Role.APPROVER, Role.ADMIN)

    @property
    def can_approve(self) -> bool:
        return self.role in (Role.APPROVER, Role.ADMIN)


@login_manager.user_loader
def _load_user(session_id: str) -> AppUser | None:
    user_id, _, stamp = session_id.partition(":")
    if not user_id.isdigit():
        return None
    info = get_user(read_conn(), int(user_id))
    if info is None or not info.active or session_stamp(info) != stamp:
        return None
    return AppUser(info)


login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


def current_actor() -> Actor:
    user: AppUser = current_user
    return user.actor


def roles_required(*roles: str) -> Callable[[F], F]:
    """Logged in and holding one of ``roles`` (else the login page, or 403)."""

    def wrap(view: F) -> F:
        @wraps(view)
        @login_required
        def inner(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403, description=f"此操作需要以下角色之一：{'、'.join(roles)}")
            return view(*args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("密码", validators=[DataRequired(), Length(max=256)])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(url_for("queue.tasks"))
    form = LoginForm()
    status, failed = 200, False
    if form.validate_on_submit():
        with unit_of_work(get_engine(), "a login") as conn:
            info = authenticate(conn, form.username.data or "", form.password.data or "")
        if info is not None:
            session.clear()  # a fresh session: nothing carried over from before login
            login_user(AppUser(info))
            return redirect(safe_next(request.args.get("next")) or url_for("queue.tasks"))
        status, failed = 401, True  # said on the page: no flash, nothing put in the session
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, failed=failed), status


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    logout_user()
    session.clear()
    flash("已退出登录。", "info")
    return redirect(url_for("auth.login"))


@bp.get("/")
def index() -> ResponseReturnValue:
    return redirect(url_for("queue.tasks"))
