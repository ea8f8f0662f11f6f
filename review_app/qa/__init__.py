"""The QA page (质量抽检): per stratum of the newest QA sample, the share of true
matches the stewards' answers show, with its Wilson 95 % interval, as a table
and a server-drawn SVG chart (``ecif qa report`` prints the same figures)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from ecif.services import qa as qa_service
from ecif.services.base import unit_of_work
from ecif.services.qa import qa_report
from ecif.services.tasks import require_fresh
from matching.exceptions import BadInput, Conflict, Forbidden, NotFound
from matching.vocabulary import Role
from review_app.auth import current_actor, roles_required
from review_app.db import get_engine, read_conn

__all__ = ["bp", "interval_rows"]

bp = Blueprint("qa", __name__)

#: chart geometry: label column, plot width, row height
_LEFT, _PLOT, _ROW = 190.0, 420.0, 22.0


@dataclass(frozen=True)
class IntervalRow:
    label: str
    y: float
    x_low: float
    x_high: float
    x_rate: float | None
    answered: int
    merged: bool
    text: str


def interval_rows(strata: list[dict[str, Any]]) -> list[IntervalRow]:
    """SVG geometry for each stratum: its interval on a 0-1 scale and the share."""
    rows = []
    for i, s in enumerate(strata):
        y = 20.0 + i * _ROW
        rate = s.get("rate")
        text = (f"{rate:.4f} [{s['low']:.4f}, {s['high']:.4f}]" if rate is not None
                else "尚无答复")
        rows.append(IntervalRow(
            s["stratum"], y, round(_LEFT + _PLOT * s["low"], 1),
            round(_LEFT + _PLOT * s["high"], 1),
            None if rate is None else round(_LEFT + _PLOT * rate, 1),
            int(s["answered"]), bool(s["merged"]), text))
    return rows


@bp.get("/qa", endpoint="report")
@login_required
def report_page() -> ResponseReturnValue:
    raw = request.args.get("sample", "")
    try:
        report = qa_report(read_conn(), int(raw) if raw.isdigit() else None)
    except NotFound:
        return render_template("qa/report.html", report=None, rows=[])
    rows = interval_rows(report.strata)
    return render_template("qa/report.html", report=report, rows=rows, left=_LEFT,
                           plot=_PLOT, height=40.0 + _ROW * len(rows))


@bp.post("/qa/tasks/<int:task_id>/answer", endpoint="answer")
@roles_required(Role.STEWARD, Role.APPROVER, Role.ADMIN)
def answer(task_id: int) -> ResponseReturnValue:
    """A QA task's answer: the two records are (not) one customer — a decision."""
    same = request.form.get("same")
    try:
        if same not in ("1", "0"):
            raise BadInput("answer: expected same=1 or same=0", {"same": "missing"})
        with unit_of_work(get_engine(), "a QA answer") as conn:
            require_fresh(conn, task_id, request.form.get("seen") or None)
            qa_service.answer(conn, task_id, same == "1", actor=current_actor())
    except (BadInput, Conflict, NotFound, Forbidden) as exc:
        flash(f"未执行：{exc}", "error")
    else:
        flash("已记录抽检答复：" + ("同一客户" if same == "1" else "不同客户") + "。", "success")
    return redirect(url_for("queue.task", task_id=task_id), 303)
