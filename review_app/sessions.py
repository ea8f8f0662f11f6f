"""The session cookie, not opened for the integrators' API.

A call under ``/api/v1/`` (the stewards' ``/api/v1/steward/...`` aside)
authenticates by its ``X-API-Key`` alone, never by the cookie
(:mod:`review_app.api`), so it gets Flask's null session: no cookie read,
verified or written (opening and saving a session cost about 0.1 ms a call).
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

__all__ = ["init_app", "PageSessionInterface"]

_API = "/api/v1/"
_STEWARD_API = "/api/v1/steward"


class PageSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        path = request.path
        if path.startswith(_API) and not path.startswith(_STEWARD_API):
            return None  # Flask's null session: reads empty, refuses writes, never saved
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    app.session_interface = PageSessionInterface()
