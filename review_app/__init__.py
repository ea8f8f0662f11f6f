"""ECIF review web app and JSON API (Flask application factory).

One blueprint per concern (``health``; ``auth``, ``queue`` and ``admin`` for the
stewards' pages; the integrators' API registers its own in :func:`create_app`). Views parse, call a
service of :mod:`ecif.services`, render; errors of :mod:`matching.exceptions`
map to status codes in one place (:mod:`review_app.errors`).
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from flask import Flask

from ecif.settings import load_settings

__all__ = ["create_app"]

#: A request body larger than this is refused with 413.
MAX_BODY_BYTES = 1 << 20


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides settings (tests pass a temporary database).

    Settings: ``ECIF_DATABASE_URL`` and ``ECIF_CONFIG_DIR`` (as the CLI),
    ``ECIF_SECRET_KEY`` (the session key; a random one per start when unset, so
    sessions end with the process), ``ECIF_COOKIE_SECURE=1`` behind TLS,
    ``ECIF_POOL_SIZE`` (store connections kept per process: ``ecif serve`` sets
    two per thread, as a registration holds its read and its write connection)."""
    app = Flask(__name__)
    settings = load_settings()
    app.config.from_mapping(
        ECIF_DATABASE_URL=settings.database_url,
        ECIF_CONFIG_DIR=str(settings.config_dir),
        SECRET_KEY=os.environ.get("ECIF_SECRET_KEY") or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("ECIF_COOKIE_SECURE") == "1",
    )
    if config:
        app.config.from_mapping(config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    from review_app import db, errors, extensions, security, sessions

    db.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    sessions.init_app(app)
    extensions.init_app(app)

    from review_app.health import bp as health_bp

    app.register_blueprint(health_bp)
    _register_pages(app)

    from review_app.api import bp as api_bp

    app.register_blueprint(api_bp)
    return app


def _register_pages(app: Flask) -> None:
    """The stewards' pages: login, queue and task page, administration."""
    from review_app import display
    from review_app.admin import bp as admin_bp
    from review_app.auth import bp as auth_bp
    from review_app.customers import bp as customers_bp
    from review_app.overview import bp as overview_bp
    from review_app.qa import bp as qa_bp
    from review_app.queue import bp as queue_bp
    from review_app.steward_api import bp as steward_api_bp

    for bp in (auth_bp, queue_bp, admin_bp, customers_bp, overview_bp, steward_api_bp, qa_bp):
        app.register_blueprint(bp)
    app.jinja_env.globals.update(
        role_names=display.ROLE_NAMES, task_type_names=display.TASK_TYPE_NAMES,
        customer_type_names=display.CUSTOMER_TYPE_NAMES, age_text=display.age_text,
        request_status_names=display.REQUEST_STATUS_NAMES,
        action_names=display.ACTION_NAMES)
