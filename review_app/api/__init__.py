"""The integrators' JSON API (CONTRACT.md §4): match-check, register, read a
customer, update a source record, the OpenAPI document.

Every call carries ``X-API-Key``; a key's scopes say which calls it may make
(``match``, ``register``, ``read``; ``pii`` to see IDs and mobiles
unmasked). Each key has its own rate limit (429 with ``Retry-After``):
``limits``' fixed window in memory, as Flask-Limiter kept it, checked here
directly (Flask-Limiter resolved a blueprint's dynamic limit at a cost of
about 0.2 ms a call); bodies over :data:`MAX_API_BODY` get 413. Every call is
logged with the key id, the status, the latency and the decision, never a
field of the record.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.strategies import FixedWindowRateLimiter

from ecif.services.apikeys import KeyInfo, authenticate, key_rate_limit
from review_app.db import get_engine, read_conn
from review_app.errors import error_response
from review_app.extensions import limiter
from review_app.ratelimit import LazyMemoryStorage

__all__ = ["bp", "MAX_API_BODY", "DEFAULT_RATE_LIMIT"]

log = logging.getLogger("ecif.api")

bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: A body larger than this is refused with 413 (a record is well under 4 KiB).
MAX_API_BODY = 64 * 1024
#: Requests per key, unless the key says otherwise (``ecif apikey create --rate-limit``).
DEFAULT_RATE_LIMIT = 60_000
_PUBLIC = {"api.openapi"}
_limits: dict[str, int] = {}  # presented key's digest -> its per-minute limit
_items: dict[int, RateLimitItem] = {}
#: this process's counters, one per presented key over all the API's routes
_window = FixedWindowRateLimiter(LazyMemoryStorage("lazymemory://"))
_SCOPE = "api"


def _presented() -> str:
    key = request.headers.get("X-API-Key", "")
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:24]


def _limit(digest: str) -> RateLimitItem:
    """The calling key's per-minute limit (looked up once per key and process)."""
    if digest not in _limits:
        if len(_limits) > 10_000:  # made-up keys must not grow it without end
            _limits.clear()
        _limits[digest] = key_rate_limit(read_conn(), request.headers.get("X-API-Key")) or 0
    per_minute = int(_limits[digest] or current_app.config.get("ECIF_API_RATE_LIMIT",
                                                               DEFAULT_RATE_LIMIT))
    item = _items.get(per_minute)
    if item is None:
        item = _items[per_minute] = RateLimitItemPerMinute(per_minute)
    return item


limiter.exempt(bp)  # limited below, per key


@limiter.request_filter
def _api_call() -> bool:
    """Flask-Limiter skips the API's calls at its first check (its exemption of the
    blueprint is found only after resolving every limit, ~0.1 ms a call)."""
    return request.blueprint == bp.name


@bp.before_request
def _authenticate() -> ResponseReturnValue | None:
    g.api_started = time.perf_counter()
    digest = _presented()
    item = _limit(digest)
    allowed = _window.hit(item, _SCOPE, digest)
    stats = _window.get_window_stats(item, _SCOPE, digest)
    g.api_limit = (item, stats)
    if not allowed:
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        return error_response(429, "too_many_requests", f"rate limit exceeded: {item}",
                              headers={"Retry-After": str(retry)})
    if request.endpoint in _PUBLIC:
        return None
    if (request.content_length or 0) > MAX_API_BODY:
        return error_response(413, "request_entity_too_large",
                              f"the body is larger than {MAX_API_BODY} bytes")
    key = authenticate(read_conn(), request.headers.get("X-API-Key"))
    if key is None:
        return error_response(401, "unauthorized", "missing or wrong X-API-Key")
    g.api_key = key
    return None


@bp.after_request
def _log_call(response: Response) -> Response:
    key: KeyInfo | None = g.get("api_key")
    started = g.get("api_started")
    ms = (time.perf_counter() - started) * 1000 if started else -1.0
    limit = g.get("api_limit")
    if limit is not None:  # the headers Flask-Limiter sent (headers_enabled)
        item, stats = limit
        response.headers["X-RateLimit-Limit"] = str(item.amount)
        response.headers["X-RateLimit-Remaining"] = str(stats.remaining)
        response.headers["X-RateLimit-Reset"] = str(int(stats.reset_time))
        if "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(int(stats.reset_time - time.time()))
    log.info("api key=%s %s %s status=%s ms=%.1f decision=%s",
             key.id if key else "-", request.method, request.url_rule or request.path,
             response.status_code, ms, g.get("api_decision", "-"))
    return response


def require_scope(scope: str) -> KeyInfo:
    """The calling key, if it holds ``scope`` (else Forbidden, 403)."""
    from matching.exceptions import Forbidden

    key: KeyInfo = g.api_key
    if not key.has(scope):
        raise Forbidden(f"this API key lacks the {scope!r} scope")
    return key


def json_body() -> Any:
    return request.get_json(silent=True, force=True) if request.data else None


def engine() -> Any:
    return get_engine()


def answer(body: dict[str, Any], status: int = 200) -> ResponseReturnValue:
    return jsonify(body), status


from review_app.api import views  # noqa: E402,F401  (registers the routes)
