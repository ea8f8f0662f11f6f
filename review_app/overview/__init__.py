"""The overview page (概览): tasks per state, the backlog and the decisions per
day as charts, reviewer statistics; and bulk decisions from the queue (批量处理)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from ecif.services import approvals, stats
from ecif.services.base import unit_of_work
from matching.exceptions import BadInput, Conflict, Forbidden, NotFound
from matching.vocabulary import Role
from review_app.auth import current_actor, roles_required, safe_next
from review_app.charts import bar_chart, duration, percent
from review_app.db import config_dir, get_engine, read_conn
from review_app.queue import policy

__all__ = ["bp"]

bp = Blueprint("overview", __name__)

WORKERS = (Role.STEWARD, Role.APPROVER, Role.ADMIN)
_STATE_NAMES = {"free": "待认领", "claimed": "处理中", "waiting": "待审核", "closed": "已关闭"}


@bp.get("/overview", endpoint="overview")
@login_required
def overview_page() -> ResponseReturnValue:
    raw = request.args.get("days", "30")
    days = int(raw) if raw.isdigit() and 1 <= int(raw) <= 365 else 30
    figures = stats.overview(read_conn(), policy(), days=days)
    backlog = figures["backlog"]
    backlog_chart = bar_chart([(b["day"].strftime("%m-%d"), b["open"]) for b in backlog],
                              line=[float(b["closed"]) for b in backlog])
    decisions_chart = bar_chart([(d["day"].strftime("%m-%d"), d["decisions"])
                                 for d in figures["decisions"]])
    people = figures["reviewers"]["people"]
    recent = [b["day"].isoformat() for b in backlog][-14:]
    return render_template("overview/overview.html", f=figures, days=days,
                           backlog_chart=backlog_chart, decisions_chart=decisions_chart,
                           people=people, recent=recent, state_names=_STATE_NAMES,
                           percent=percent, duration=duration)


@bp.post("/tasks/bulk", endpoint="bulk")
@roles_required(*WORKERS)
def bulk() -> ResponseReturnValue:
    back = safe_next(request.form.get("next")) or url_for("queue.tasks")
    raw = request.form.getlist("task_ids")
    try:
        ids = [int(t) for t in raw if t]
        with unit_of_work(get_engine(), "a bulk decision") as conn:
            outcome = approvals.submit_bulk(conn, request.form.get("action") or "", ids,
                                            actor=current_actor(), policy=policy(),
                                            config_dir=config_dir(),
                                            reason=request.form.get("reason"))
    except ValueError:
        flash("输入有误，未执行：任务编号须为整数。", "error")
    except (BadInput, NotFound, Conflict, Forbidden) as exc:
        flash(f"未执行：{exc}", "error")
    else:
        summary = outcome.as_dict()
        parts = []
        if summary["applied"]:
            parts.append(f"已处理 {len(summary['applied'])} 个任务")
        if summary["pending"]:
            parts.append(f"已提交 {len(summary['pending'])} 个申请，等待审核")
        if parts:
            flash("批量处理：" + "，".join(parts) + "。", "success")
        for task_id, why in summary["refused"].items():
            flash(f"任务 #{task_id} 未处理：{why}", "warning")
    return redirect(back, 303)
