"""The work queue (任务池) and the task page (疑似客户复核): views parse the form,
call one service of :mod:`ecif.services`, and redirect or render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ecif.services import approvals, queue, tasks
from ecif.services.base import unit_of_work
from ecif.services.masking import mask_fields
from ecif.services.policy import ReviewPolicy, load_policy
from matching.exceptions import BadInput, Conflict, NotFound
from matching.vocabulary import Role, StewardAction
from review_app.auth import current_actor, roles_required
from review_app.db import config_dir, get_engine, read_conn
from review_app.display import field_rows, waterfall_bars

__all__ = ["bp", "policy"]

bp = Blueprint("queue", __name__)

WORKERS = (Role.STEWARD, Role.APPROVER, Role.ADMIN)
APPROVERS = (Role.APPROVER, Role.ADMIN)


def policy() -> ReviewPolicy:
    """config/review.yaml, read once per app (``ECIF_REVIEW_POLICY`` overrides it)."""
    got = current_app.config.get("ECIF_REVIEW_POLICY")
    if isinstance(got, ReviewPolicy):
        return got
    cached = current_app.extensions.get("ecif_policy")
    if cached is None:
        cached = current_app.extensions["ecif_policy"] = load_policy(config_dir())
    return cached


def _int(name: str, default: int) -> int:
    raw = request.args.get(name, "")
    try:
        return int(raw) if raw else default
    except ValueError:
        raise BadInput(f"{name}: expected a whole number", {name: "not a number"}) from None


def _score(raw: str | None) -> float | None:
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise BadInput("min_score: expected a number", {"min_score": "not a number"}) from None


@bp.get("/tasks", endpoint="tasks")
@login_required
def tasks_page() -> ResponseReturnValue:
    args = request.args
    f = queue.QueueFilter(task_type=args.get("task_type") or None,
                          customer_type=args.get("customer_type") or None,
                          claim=args.get("claim") or "all",
                          min_score=_score(args.get("min_score")),
                          sort=args.get("sort") or "score", page=_int("page", 1),
                          per_page=_int("per_page", 50))
    conn = read_conn()
    page = queue.list_tasks(conn, f, actor_name=current_user.username, policy=policy())
    return render_template("queue/tasks.html", page=page, counts=queue.queue_counts(conn),
                           args=args, query=args.to_dict())


@bp.post("/tasks/next")
@roles_required(*WORKERS)
def next_task() -> ResponseReturnValue:
    with unit_of_work(get_engine(), "claiming a task") as conn:
        task_id = tasks.next_task(conn, current_actor(), policy(),
                                  task_type=request.form.get("task_type") or None,
                                  customer_type=request.form.get("customer_type") or None)
    if task_id is None:
        flash("任务池已空：没有可认领的任务。", "info")
        return redirect(url_for("queue.tasks"), 303)
    return redirect(url_for("queue.task", task_id=task_id), 303)


@bp.get("/tasks/<int:task_id>")
@login_required
def task(task_id: int) -> ResponseReturnValue:
    pol = policy()
    view = queue.task_view(read_conn(), task_id, config_dir=config_dir(), policy=pol)
    records = view.records
    if not current_user.sees_pii:
        records = [mask_fields(r) for r in records]
    rows = field_rows(records, queue.RECORD_FIELDS)
    source_names = field_rows(records, ("source_name",))[0]
    whys = [(p, *waterfall_bars(p.steps)) for p in view.pairs]
    return render_template("queue/task.html", view=view, records=records, rows=rows,
                           source_names=source_names, whys=whys, held=view.claimed_by,
                           needs_approval=pol.needs_approval(StewardAction.MERGE),
                           claim_minutes=pol.claim_minutes)


def _act(task_id: int, do: Callable[[Any], str | None]) -> ResponseReturnValue:
    """Run one change in one transaction; a refused change (stale page, closed task,
    bad input) comes back to the task page with the reason."""
    try:
        with unit_of_work(get_engine(), "a review decision") as conn:
            message = do(conn)
    except Conflict as exc:
        flash(f"操作冲突，未执行：{exc}", "error")
    except BadInput as exc:
        flash(f"输入有误，未执行：{exc}", "error")
    except NotFound as exc:
        flash(f"未找到：{exc}", "error")
    else:
        if message:
            flash(message, "success")
    return redirect(url_for("queue.task", task_id=task_id), 303)


def _seen() -> str | None:
    return request.form.get("seen") or None


@bp.post("/tasks/<int:task_id>/claim")
@roles_required(*WORKERS)
def claim(task_id: int) -> ResponseReturnValue:
    def do(conn: Any) -> str:
        tasks.claim(conn, task_id, current_actor(), policy())
        return f"已认领任务 {task_id}（{policy().claim_minutes} 分钟内有效）。"
    return _act(task_id, do)


@bp.post("/tasks/<int:task_id>/release")
@roles_required(*WORKERS)
def release(task_id: int) -> ResponseReturnValue:
    def do(conn: Any) -> str:
        tasks.release(conn, task_id, current_actor())
        return f"已释放任务 {task_id}。"
    return _act(task_id, do)


def _submit(task_id: int, action: StewardAction, payload: dict[str, Any]) -> ResponseReturnValue:
    def do(conn: Any) -> str:
        tasks.refuse_held_by_other(conn, task_id, current_actor(), policy())
        done = approvals.submit(conn, action, payload, actor=current_actor(), policy=policy(),
                                config_dir=config_dir(), reason=request.form.get("reason"),
                                seen=_seen())
        if done.pending:
            return f"已提交申请 #{done.request_id}，等待审核员批准。"
        assert done.result is not None
        if action == StewardAction.MERGE:
            return f"已归并，客户号 {done.result.customer_no}。"
        return "已标记为非重复（不同客户），任务关闭。"
    return _act(task_id, do)


@bp.post("/tasks/<int:task_id>/merge")
@roles_required(*WORKERS)
def merge(task_id: int) -> ResponseReturnValue:
    records = [k for k in request.form.getlist("records") if k]
    return _submit(task_id, StewardAction.MERGE, {"task_id": task_id, "records": records})


@bp.post("/tasks/<int:task_id>/not-duplicate")
@roles_required(*WORKERS)
def not_duplicate(task_id: int) -> ResponseReturnValue:
    return _submit(task_id, StewardAction.NOT_DUPLICATE, {"task_id": task_id})


@bp.post("/tasks/<int:task_id>/unsure")
@roles_required(*WORKERS)
def unsure(task_id: int) -> ResponseReturnValue:
    def do(conn: Any) -> str:
        tasks.require_fresh(conn, task_id, _seen())
        tasks.refuse_held_by_other(conn, task_id, current_actor(), policy())
        tasks.mark_unsure(conn, task_id, current_actor(), request.form.get("comment") or "")
        return "已标记为存疑，任务留在任务池。"
    return _act(task_id, do)


@bp.post("/tasks/<int:task_id>/comment")
@roles_required(*WORKERS)
def comment(task_id: int) -> ResponseReturnValue:
    def do(conn: Any) -> str:
        tasks.comment(conn, task_id, current_actor(), request.form.get("comment") or "")
        return "已添加备注。"
    return _act(task_id, do)


def _request_id() -> int:
    raw = request.form.get("request_id", "")
    if not raw.isdigit():
        raise BadInput("request_id: expected a whole number", {"request_id": "missing"})
    return int(raw)


@bp.post("/tasks/<int:task_id>/approve")
@roles_required(*APPROVERS)
def approve(task_id: int) -> ResponseReturnValue:
    def do(conn: Any) -> str:
        result = approvals.approve(conn, _request_id(), actor=current_actor(),
                                   config_dir=config_dir(), note=request.form.get("note"))
        return f"已批准，变更已生效（客户号 {result.customer_no}）。"
    return _act(task_id, do)


@bp.post("/tasks/<int:task_id>/reject")
@roles_required(*APPROVERS)
def reject(task_id: int) -> ResponseReturnValue:
    def do(conn: Any) -> str:
        approvals.reject(conn, _request_id(), actor=current_actor(),
                         reason=request.form.get("reason") or "")
        return "已驳回申请，变更不会生效。"
    return _act(task_id, do)


@bp.post("/tasks/<int:task_id>/withdraw")
@roles_required(*WORKERS)
def withdraw(task_id: int) -> ResponseReturnValue:
    def do(conn: Any) -> str:
        approvals.withdraw(conn, _request_id(), actor=current_actor())
        return "已撤回申请。"
    return _act(task_id, do)
