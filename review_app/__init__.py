"""ECIF review web app and JSON API (Flask application factory).

The stewards' pages and the match-check API are later issues; today the app
serves a health check so that ``ecif serve`` and the production image run.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

__all__ = ["create_app"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides settings (tests pass a temporary database)."""
    app = Flask(__name__)
    app.config.from_mapping(JSON_AS_ASCII=False)
    if config:
        app.config.from_mapping(config)

    from review_app.health import bp as health_bp

    app.register_blueprint(health_bp)
    return app
