"""Display helpers for the pages: Chinese labels, a character-level diff, the
waterfall of match weights as SVG geometry. Pure functions of what a service
returned; no store, no request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from difflib import SequenceMatcher
from typing import Any

from matching.engine.explain import WaterfallStep

__all__ = ["ROLE_NAMES", "TASK_TYPE_NAMES", "CUSTOMER_TYPE_NAMES", "FIELD_NAMES",
           "COMPARISON_NAMES", "REQUEST_STATUS_NAMES", "ACTION_NAMES", "char_diff", "field_rows",
           "waterfall_bars", "age_text", "Bar", "comparison_name"]

ROLE_NAMES = {"viewer": "只读", "steward": "复核员", "approver": "审核员", "admin": "管理员"}
TASK_TYPE_NAMES = {"person_suspect": "个人疑似重复", "org_suspect_group": "机构疑似重复组",
                   "identity_change": "身份信息变更", "qa_sample": "质量抽检"}
CUSTOMER_TYPE_NAMES = {"P": "个人", "G": "机构"}
FIELD_NAMES = {"name": "名称/姓名", "gender": "性别", "birth_date": "出生日期",
               "id_type": "证件类型", "id_number": "证件号码", "mobile": "手机", "phone": "固话",
               "email": "邮箱", "address": "地址", "legal_rep": "法定代表人"}
COMPARISON_NAMES = {"prior": "先验", "total": "合计", "name": "姓名", "id": "证件号码",
                    "birth_date": "出生日期", "gender": "性别", "mobile": "手机",
                    "email": "邮箱", "phone": "固话", "address": "地址",
                    "org_core": "名称核心词", "org_code": "组织机构代码",
                    "legal_rep": "法定代表人", "org_region": "名称地区", "city": "城市"}
ACTION_NAMES = {"merge": "归并", "force_merge": "强制归并", "not_duplicate": "非重复",
                "split": "拆分", "rollback": "回退"}
REQUEST_STATUS_NAMES = {"pending": "待审核", "approved": "已批准", "rejected": "已驳回",
                        "withdrawn": "已撤回"}


def char_diff(value: str | None, other: str | None) -> list[tuple[str, bool]]:
    """``value`` cut into runs, each marked True where it differs from ``other``
    (张伟 against 张玮: 张 same, 伟 different)."""
    text = value or ""
    if not text:
        return []
    if other is None or text == other:
        return [(text, False)]
    out: list[tuple[str, bool]] = []
    for tag, i1, i2, _j1, _j2 in SequenceMatcher(None, text, other or "",
                                                 autojunk=False).get_opcodes():
        if i2 > i1:
            out.append((text[i1:i2], tag != "equal"))
    return out


def field_rows(records: list[dict[str, Any]], fields: tuple[str, ...]
               ) -> list[dict[str, Any]]:
    """One row per field: each record's value as diff runs against the first record
    (the first record against the second); ``same`` when all values agree."""
    rows = []
    for name in fields:
        values = [r.get(name) for r in records]
        cells = []
        for i, v in enumerate(values):
            ref = values[1] if i == 0 and len(values) > 1 else values[0]
            cells.append(char_diff(None if v is None else str(v),
                                   None if ref is None else str(ref)))
        rows.append({"field": name, "label": FIELD_NAMES.get(name, name), "cells": cells,
                     "same": len({v or "" for v in values}) <= 1})
    return rows


@dataclass(frozen=True)
class Bar:
    label: str
    weight: float
    x: float
    width: float
    y: float
    kind: str


def waterfall_bars(steps: list[WaterfallStep], width: float = 360.0, row: float = 18.0
                   ) -> tuple[list[Bar], float, float]:
    """SVG geometry (attributes, no inline style: the CSP allows none) for a
    waterfall: bars, the x of weight 0, the height."""
    if not steps:
        return [], 0.0, 0.0
    points = [0.0] + [s.start for s in steps] + [s.end for s in steps]
    lo, hi = min(points), max(points)
    span = (hi - lo) or 1.0
    scale = width / span
    bars = []
    for i, s in enumerate(steps):
        a, b = sorted((s.start, s.end))
        kind = s.kind if s.kind != "comparison" else ("pos" if s.weight >= 0 else "neg")
        bars.append(Bar(comparison_name(s.label), s.weight,
                        round((a - lo) * scale, 1), max(round((b - a) * scale, 1), 1.0),
                        i * row, kind))
    return bars, round(-lo * scale, 1), len(steps) * row


def comparison_name(label: str) -> str:
    """A comparison's Chinese name; ``tf_adj_<c>`` is its term-frequency adjustment."""
    if label.startswith("tf_adj_"):
        base = label[len("tf_adj_"):]
        return f"{COMPARISON_NAMES.get(base, base)}（词频调整）"
    return COMPARISON_NAMES.get(label, label)


def age_text(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} 分钟"
    if minutes < 48 * 60:
        return f"{minutes // 60} 小时"
    return f"{minutes // (24 * 60)} 天"
