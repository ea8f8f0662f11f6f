"""Flask extensions shared by the blueprints, attached with ``init_app``.

``limiter``: Flask-Limiter, in memory (one process; a waitress server is one
process with threads). Blueprints declare their own limits (the login form per
client address, the API per key)."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

__all__ = ["limiter", "init_app"]

limiter = Limiter(key_func=get_remote_address, storage_uri="memory://",
                  headers_enabled=True, default_limits=[])


def init_app(app: Flask) -> None:
    limiter.init_app(app)
