"""The QA page (质量抽检): per stratum of the newest QA sample, the share of true
matches the stewards' answers show, with its Wilson 95 % interval, as a table
and a server-drawn SVG chart (``ecif qa report`` prints the same figures)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required

from ecif.services.qa import qa_report
from matching.exceptions import NotFound
from review_app.db import read_conn

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
