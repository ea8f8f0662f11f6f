"""Customers (客户视图), the search for a force-merge (人工强制归并), split (拆分),
rollback (回退) and the approvals of those changes (审核): views parse the form,
call one service of :mod:`ecif.services`, and redirect or render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ecif.services import approvals, customers, search
from ecif.services.base import unit_of_work
from ecif.services.customer_view import customer_view, task_events
from matching.exceptions import BadInput, Conflict, Forbidden, NotFound
from matching.vocabulary import RequestStatus, Role, StewardAction
from models.task import ChangeRequest
from review_app.auth import current_actor, roles_required, safe_next
from review_app.db import config_dir, get_engine, read_conn
from review_app.display import FIELD_NAMES
from review_app.queue import policy

__all__ = ["bp", "EVENT_TYPE_NAMES", "LINK_TYPE_NAMES"]

bp = Blueprint("customers", __name__)

WORKERS = (Role.STEWARD, Role.APPROVER, Role.ADMIN)
APPROVERS = (Role.APPROVER, Role.ADMIN)
EVENT_TYPE_NAMES = {"merge": "批处理自动归并", "split": "批处理拆分", "manual_merge": "人工归并",
                    "manual_split": "人工拆分", "rollback": "回退"}
LINK_TYPE_NAMES = {"new": "新建", "auto_rule": "强规则", "auto_model": "模型自动归并",
                   "manual": "人工"}
SEARCH_FIELD_NAMES = {"auto": "自动识别", "name": "名称/姓名", "id": "证件号码",
                      "mobile": "手机", "customer_no": "客户号"}
HISTORY_FIELDS = tuple(FIELD_NAMES)


@bp.app_context_processor
def _names() -> dict[str, Any]:
    return {"event_type_names": EVENT_TYPE_NAMES, "link_type_names": LINK_TYPE_NAMES,
            "field_names": FIELD_NAMES}


@bp.app_template_global("task_events")
def _task_events(task_id: int) -> list[dict[str, Any]]:
    """For the task page's partial: the events the task's decisions made."""
    return task_events(read_conn(), task_id)


def _back(default: str) -> str:
    return safe_next(request.form.get("next")) or default


def _act(default: str, do: Callable[[Any], tuple[str, str | None]]) -> ResponseReturnValue:
    """One change in one transaction; a refused one comes back with the reason.
    ``do`` returns the message and, optionally, where to go next."""
    target = default
    try:
        with unit_of_work(get_engine(), "a steward's change") as conn:
            message, goto = do(conn)
    except Conflict as exc:
        flash(f"操作冲突，未执行：{exc}", "error")
    except BadInput as exc:
        flash(f"输入有误，未执行：{exc}", "error")
    except NotFound as exc:
        flash(f"未找到：{exc}", "error")
    except Forbidden as exc:
        flash(f"无权操作：{exc}", "error")
    else:
        flash(message, "success")
        target = goto or default
    return redirect(target, 303)


def _submitted(done: approvals.Submitted, applied: str) -> str:
    if done.pending:
        return f"已提交申请 #{done.request_id}，等待审核员批准。"
    return applied


@bp.get("/customers/<customer_no>", endpoint="customer")
@login_required
def customer_page(customer_no: str) -> ResponseReturnValue:
    conn = read_conn()
    resolved = customers.lookup(conn, customer_no)
    live = resolved.customer.customer_no
    if live != customer_no:  # a tombstone: the surviving customer's page
        return redirect(url_for("customers.customer", customer_no=live, via=customer_no))
    view = customer_view(conn, live, pii=current_user.sees_pii)
    via = request.args.get("via")
    pol = policy()
    return render_template("customers/customer.html", view=view, c=view.customer, via=via,
                           history_fields=HISTORY_FIELDS,
                           split_needs_approval=pol.needs_approval(StewardAction.SPLIT),
                           rollback_needs_approval=pol.needs_approval(StewardAction.ROLLBACK))


@bp.get("/customers/search", endpoint="search")
@login_required
def search_page() -> ResponseReturnValue:
    q = (request.args.get("q") or "").strip()
    field_name = request.args.get("field") or "auto"
    ctype = request.args.get("customer_type") or None
    hits: list[search.Hit] = []
    error = None
    if q:
        try:
            hits = search.search_customers(read_conn(), q, field_name=field_name,
                                           customer_type=ctype)
        except BadInput as exc:
            error = str(exc)
    if not current_user.sees_pii:
        from ecif.services.masking import mask_id, mask_mobile

        for h in hits:
            h.id_number, h.mobile = mask_id(h.id_number), mask_mobile(h.mobile)
    return render_template("customers/search.html", q=q, field=field_name, ctype=ctype,
                           hits=hits, error=error, field_names=SEARCH_FIELD_NAMES,
                           needs_approval=policy().needs_approval(StewardAction.FORCE_MERGE))


@bp.post("/customers/merge", endpoint="force_merge")
@roles_required(*WORKERS)
def force_merge() -> ResponseReturnValue:
    chosen = [n for n in request.form.getlist("customers") if n]

    def do(conn: Any) -> tuple[str, str | None]:
        done = approvals.submit(conn, StewardAction.FORCE_MERGE, {"customers": chosen},
                                actor=current_actor(), policy=policy(),
                                config_dir=config_dir(), reason=request.form.get("reason"))
        if done.result is not None:
            return (f"已强制归并，客户号 {done.result.customer_no}。",
                    url_for("customers.customer", customer_no=done.result.customer_no))
        return _submitted(done, ""), url_for("customers.approvals")

    return _act(_back(url_for("customers.search")), do)


@bp.post("/customers/<customer_no>/split", endpoint="split")
@roles_required(*WORKERS)
def split(customer_no: str) -> ResponseReturnValue:
    records = [k for k in request.form.getlist("records") if k]

    def do(conn: Any) -> tuple[str, str | None]:
        done = approvals.submit(conn, StewardAction.SPLIT,
                                {"customer_no": customer_no, "records": records},
                                actor=current_actor(), policy=policy(),
                                config_dir=config_dir(), reason=request.form.get("reason"),
                                seen=request.form.get("seen") or None)
        new = done.result.new_customer_no if done.result else None
        return _submitted(done, f"已拆分，移出的记录成为新客户 {new}。"), None

    return _act(url_for("customers.customer", customer_no=customer_no), do)


@bp.post("/events/<int:event_id>/rollback", endpoint="rollback")
@roles_required(*WORKERS)
def rollback(event_id: int) -> ResponseReturnValue:
    def do(conn: Any) -> tuple[str, str | None]:
        done = approvals.submit(conn, StewardAction.ROLLBACK, {"event_id": event_id},
                                actor=current_actor(), policy=policy(),
                                config_dir=config_dir(), reason=request.form.get("reason"),
                                seen=request.form.get("seen") or None)
        return _submitted(done, f"已回退事件 #{event_id}。"), None

    return _act(_back(url_for("customers.approvals")), do)


@bp.get("/approvals", endpoint="approvals")
@login_required
def approvals_page() -> ResponseReturnValue:
    rows = read_conn().execute(
        ChangeRequest.__table__.select().where(
            ChangeRequest.status == RequestStatus.PENDING).order_by(ChangeRequest.id)).all()
    return render_template("customers/approvals.html", requests=rows)


def _result_page(result: Any) -> str:
    return url_for("customers.customer", customer_no=result.customer_no)


@bp.post("/requests/<int:request_id>/approve", endpoint="approve")
@roles_required(*APPROVERS)
def approve(request_id: int) -> ResponseReturnValue:
    def do(conn: Any) -> tuple[str, str | None]:
        result = approvals.approve(conn, request_id, actor=current_actor(),
                                   config_dir=config_dir(), note=request.form.get("note"))
        return (f"已批准申请 #{request_id}，变更已生效（客户号 {result.customer_no}）。",
                _result_page(result))

    return _act(_back(url_for("customers.approvals")), do)


@bp.post("/requests/<int:request_id>/reject", endpoint="reject")
@roles_required(*APPROVERS)
def reject(request_id: int) -> ResponseReturnValue:
    def do(conn: Any) -> tuple[str, str | None]:
        approvals.reject(conn, request_id, actor=current_actor(),
                         reason=request.form.get("reason") or "")
        return f"已驳回申请 #{request_id}，变更不会生效。", None

    return _act(_back(url_for("customers.approvals")), do)


@bp.post("/requests/<int:request_id>/withdraw", endpoint="withdraw")
@roles_required(*WORKERS)
def withdraw(request_id: int) -> ResponseReturnValue:
    def do(conn: Any) -> tuple[str, str | None]:
        approvals.withdraw(conn, request_id, actor=current_actor())
        return f"已撤回申请 #{request_id}。", None

    return _act(_back(url_for("customers.approvals")), do)
