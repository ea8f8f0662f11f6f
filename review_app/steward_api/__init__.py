"""The stewards' JSON API (contract §5): ``/api/v1/steward/...``, the same
operations as the pages — task list, claim, decide, bulk; customer, search,
force-merge, split, rollback; approve and reject — for a logged-in user (the
session cookie, with the CSRF token in the ``X-CSRFToken`` header on every
change; ``GET /api/v1/steward/session`` gives it).

Errors are the contract's ``{"error", "message", "fields"}`` with 400, 401,
403, 404 and 409, mapped once in :mod:`review_app.errors`. A change that waits
for approval answers 202 with its ``request_id``; one applied at once, 200
with what it did.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ecif.services import approvals, customers, queue, search, tasks
from ecif.services.base import unit_of_work
from ecif.services.customer_view import customer_view
from ecif.services.masking import mask_fields, mask_id, mask_mobile
from matching.exceptions import BadInput, Forbidden
from matching.vocabulary import RequestStatus, Role, StewardAction
from models.task import ChangeRequest
from review_app.auth import current_actor
from review_app.db import config_dir, get_engine, read_conn
from review_app.errors import error_response
from review_app.queue import policy

__all__ = ["bp"]

bp = Blueprint("steward_api", __name__, url_prefix="/api/v1/steward")

WORKERS = (Role.STEWARD, Role.APPROVER, Role.ADMIN)
APPROVERS = (Role.APPROVER, Role.ADMIN)
ALL = (Role.VIEWER, *WORKERS)
_TASK_ACTIONS = ("merge", "not_duplicate", "unsure")

F = TypeVar("F", bound=Callable[..., Any])


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _ok(body: Any, status: int = 200) -> ResponseReturnValue:
    response = jsonify(_jsonable(body))
    response.status_code = status
    return response


def allowed(*roles: str) -> Callable[[F], F]:
    """Logged in (else 401) and holding one of ``roles`` (else 403), as JSON."""

    def wrap(view: F) -> F:
        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return error_response(401, "unauthorized", "log in first (POST /login)")
            if current_user.role not in roles:
                raise Forbidden(f"{current_user.username} ({current_user.role}) may not do "
                                "this; needs role " + " or ".join(roles))
            return view(*args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None:
        body = {}
        if request.get_data():
            raise BadInput("the body must be a JSON object", {"body": "not JSON"})
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object", {"body": "not an object"})
    return body


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BadInput(f"{name} must be text", {name: "not text"})
    return value


def _strings(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInput(f"{name} must be a list of strings", {name: "not a list of strings"})
    return value


def _submitted(done: approvals.Submitted) -> ResponseReturnValue:
    if done.pending:
        return _ok({"status": RequestStatus.PENDING, "action": done.action,
                    "request_id": done.request_id}, 202)
    assert done.result is not None
    return _ok({"status": "applied", "action": done.action, "request_id": None,
                "result": done.result.as_dict()})


def _submit(action: StewardAction, payload: dict[str, Any], body: dict[str, Any],
            task_id: int | None = None) -> ResponseReturnValue:
    with unit_of_work(get_engine(), "a steward's change") as conn:
        if task_id is not None:  # not on a task another person is working on
            tasks.refuse_held_by_other(conn, task_id, current_actor(), policy())
        done = approvals.submit(conn, action, payload, actor=current_actor(), policy=policy(),
                                config_dir=config_dir(), reason=_text(body, "reason"),
                                seen=_text(body, "seen"))
    return _submitted(done)


@bp.get("/session")
@allowed(*ALL)
def session_info() -> ResponseReturnValue:
    return _ok({"username": current_user.username, "role": current_user.role,
                "csrf_token": generate_csrf()})


@bp.get("/tasks")
@allowed(*ALL)
def task_list() -> ResponseReturnValue:
    args = request.args

    def number(name: str, default: int) -> int:
        raw = args.get(name, "")
        if raw and not raw.isdigit():
            raise BadInput(f"{name}: expected a whole number", {name: "not a number"})
        return int(raw) if raw else default

    try:
        min_score = float(args["min_score"]) if args.get("min_score") else None
    except ValueError:
        raise BadInput("min_score: expected a number", {"min_score": "not a number"}) from None
    f = queue.QueueFilter(task_type=args.get("task_type") or None,
                          customer_type=args.get("customer_type") or None,
                          claim=args.get("claim") or "all", min_score=min_score,
                          sort=args.get("sort") or "score", page=number("page", 1),
                          per_page=number("per_page", 50))
    page = queue.list_tasks(read_conn(), f, actor_name=current_user.username, policy=policy())
    rows = [{"task_id": r.id, "task_type": r.task_type, "customer_type": r.customer_type,
             "max_score": r.max_score, "size": r.size, "created_at": r.created_at,
             "claimed_by": r.claimed_by, "pending_request": r.pending_request}
            for r in page.rows]
    return _ok({"tasks": rows, "total": page.total, "page": f.page, "per_page": f.per_page})


@bp.get("/tasks/<int:task_id>")
@allowed(*ALL)
def task_get(task_id: int) -> ResponseReturnValue:
    view = queue.task_view(read_conn(), task_id, config_dir=config_dir(), policy=policy())
    records = view.records if current_user.sees_pii else [mask_fields(r) for r in view.records]
    t = view.task
    pending = view.pending
    return _ok({"task_id": t.id, "task_type": t.task_type, "status": t.status,
                "customer_type": t.customer_type, "max_score": t.max_score,
                "claimed_by": view.claimed_by, "fingerprint": view.fingerprint,
                "customers": view.customers, "records": records,
                "pending_request": pending.id if pending is not None else None})


@bp.post("/tasks/<int:task_id>/claim")
@allowed(*WORKERS)
def task_claim(task_id: int) -> ResponseReturnValue:
    with unit_of_work(get_engine(), "claiming a task") as conn:
        tasks.claim(conn, task_id, current_actor(), policy())
    return _ok({"task_id": task_id, "claimed_by": current_user.username})


@bp.post("/tasks/<int:task_id>/release")
@allowed(*WORKERS)
def task_release(task_id: int) -> ResponseReturnValue:
    with unit_of_work(get_engine(), "releasing a task") as conn:
        tasks.release(conn, task_id, current_actor())
    return _ok({"task_id": task_id, "claimed_by": None})


@bp.post("/tasks/<int:task_id>/decide")
@allowed(*WORKERS)
def task_decide(task_id: int) -> ResponseReturnValue:
    body = _body()
    action = body.get("action")
    if action not in _TASK_ACTIONS:
        raise BadInput(f"action {action!r}: expected one of {', '.join(_TASK_ACTIONS)}",
                       {"action": "unknown"})
    if action == "unsure":
        with unit_of_work(get_engine(), "a review decision") as conn:
            tasks.require_fresh(conn, task_id, _text(body, "seen"))
            tasks.refuse_held_by_other(conn, task_id, current_actor(), policy())
            tasks.mark_unsure(conn, task_id, current_actor(), _text(body, "comment") or "")
        return _ok({"status": "applied", "action": "unsure", "task_id": task_id})
    payload: dict[str, Any] = {"task_id": task_id}
    if action == StewardAction.MERGE:
        payload["records"] = _strings(body, "records")
    return _submit(StewardAction(action), payload, body, task_id=task_id)


@bp.post("/tasks/bulk")
@allowed(*WORKERS)
def task_bulk() -> ResponseReturnValue:
    body = _body()
    ids = body.get("task_ids")
    if not isinstance(ids, list) or not all(isinstance(t, int) and not isinstance(t, bool)
                                            for t in ids):
        raise BadInput("task_ids must be a list of whole numbers", {"task_ids": "not numbers"})
    with unit_of_work(get_engine(), "a bulk decision") as conn:
        outcome = approvals.submit_bulk(conn, str(body.get("action") or ""), ids,
                                        actor=current_actor(), policy=policy(),
                                        config_dir=config_dir(), reason=_text(body, "reason"))
    return _ok(outcome.as_dict())


@bp.get("/customers/<customer_no>")
@allowed(*ALL)
def customer_get(customer_no: str) -> ResponseReturnValue:
    view = customer_view(read_conn(), customer_no, pii=current_user.sees_pii)
    body = view.as_dict()
    body["merged_into"] = view.customer["customer_no"] if view.followed else None
    return _ok(body)


@bp.get("/search")
@allowed(*ALL)
def customer_search() -> ResponseReturnValue:
    args = request.args
    limit = args.get("limit", "50")
    if not limit.isdigit():
        raise BadInput("limit: expected a whole number", {"limit": "not a number"})
    hits = search.search_customers(read_conn(), args.get("q") or "",
                                   field_name=args.get("field") or "auto",
                                   customer_type=args.get("customer_type") or None,
                                   limit=int(limit))
    out = [h.as_dict() for h in hits]
    if not current_user.sees_pii:
        for h in out:
            h["id_number"], h["mobile"] = mask_id(h["id_number"]), mask_mobile(h["mobile"])
    return _ok({"customers": out})


@bp.post("/merge")
@allowed(*WORKERS)
def force_merge() -> ResponseReturnValue:
    body = _body()
    return _submit(StewardAction.FORCE_MERGE, {"customers": _strings(body, "customers")}, body)


@bp.post("/customers/<customer_no>/split")
@allowed(*WORKERS)
def split(customer_no: str) -> ResponseReturnValue:
    body = _body()
    return _submit(StewardAction.SPLIT,
                   {"customer_no": customer_no, "records": _strings(body, "records")}, body)


@bp.post("/events/<int:event_id>/rollback")
@allowed(*WORKERS)
def rollback(event_id: int) -> ResponseReturnValue:
    body = _body()
    customers.event_fingerprint(read_conn(), event_id)  # 404 for an unknown event
    return _submit(StewardAction.ROLLBACK, {"event_id": event_id}, body)


@bp.get("/requests")
@allowed(*ALL)
def request_list() -> ResponseReturnValue:
    rows = read_conn().execute(ChangeRequest.__table__.select().where(
        ChangeRequest.status == RequestStatus.PENDING).order_by(ChangeRequest.id)).all()
    return _ok({"requests": [
        {"request_id": r.id, "action": r.action, "payload": r.payload, "task_id": r.task_id,
         "reason": r.reason, "requested_by": r.requested_by, "requested_at": r.requested_at}
        for r in rows]})


@bp.post("/requests/<int:request_id>/approve")
@allowed(*APPROVERS)
def request_approve(request_id: int) -> ResponseReturnValue:
    body = _body()
    with unit_of_work(get_engine(), "an approval") as conn:
        result = approvals.approve(conn, request_id, actor=current_actor(),
                                   config_dir=config_dir(), note=_text(body, "note"))
    return _ok({"request_id": request_id, "status": RequestStatus.APPROVED,
                "result": result.as_dict()})


@bp.post("/requests/<int:request_id>/reject")
@allowed(*APPROVERS)
def request_reject(request_id: int) -> ResponseReturnValue:
    body = _body()
    with unit_of_work(get_engine(), "a rejection") as conn:
        approvals.reject(conn, request_id, actor=current_actor(),
                         reason=_text(body, "reason") or "")
    return _ok({"request_id": request_id, "status": RequestStatus.REJECTED})
