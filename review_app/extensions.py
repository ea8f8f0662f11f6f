"""Flask extensions shared by the blueprints, attached with ``init_app``.

``limiter``: Flask-Limiter, in memory (one process; a waitress server is one
process with threads). Blueprints declare their own limits (the login form per
client address, the API per key).

``csrf``: Flask-WTF's CSRF protection on every unsafe request that may be
authenticated by the session cookie. A request that carries its own credential
in a header (``X-API-Key``, ``Authorization``) is exempt: a browser on
another site cannot add such a header without a CORS preflight, which this
app never grants, so such a request cannot be forged through a user's cookie.

``login_manager``: Flask-Login sessions (see :mod:`review_app.auth`).
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from review_app import ratelimit  # noqa: F401  (registers the lazymemory:// store)

__all__ = ["limiter", "csrf", "login_manager", "init_app"]

# in memory, without the per-increment timer thread of limits' own (review_app.ratelimit)
limiter = Limiter(key_func=get_remote_address, storage_uri="lazymemory://",
                  headers_enabled=True, default_limits=[])
csrf = CSRFProtect()
login_manager = LoginManager()

_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_app(app: Flask) -> None:
    limiter.init_app(app)
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked below, not per view
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the session
    csrf.init_app(app)
    login_manager.init_app(app)

    @app.before_request
    def _csrf() -> None:
        if request.method not in _UNSAFE or not app.config.get("WTF_CSRF_ENABLED", True):
            return
        if request.headers.get("X-API-Key") or request.headers.get("Authorization"):
            return
        if request.blueprint == "api":  # integrators' API: key only, never the cookie (401)
            return
        csrf.protect()
