"""Server-drawn charts for the overview page: SVG geometry (presentation
attributes only; the CSP allows no inline style or script, and the stewards'
networks reach no CDN). Pure functions of the figures a service returned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Bar", "Chart", "bar_chart"]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: float
    tick: bool  # label shown under the axis


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: float
    height: float
    top: float  # the value at the top of the plot
    base: float  # y of the axis
    line: str  # an SVG polyline "x,y x,y …" over the bars' tops (second series), or ""


def bar_chart(points: list[tuple[str, float]], *, width: float = 640, height: float = 160,
              line: list[float] | None = None, ticks: int = 7) -> Chart:
    """Bars for ``points`` (label, value), scaled to the plot; an optional line of a
    second series on the same scale; every n-th label kept so that about ``ticks``
    show."""
    pad_top, pad_bottom, pad_left = 10.0, 22.0, 36.0
    plot_h = height - pad_top - pad_bottom
    plot_w = width - pad_left - 28  # room for the last tick label
    values = [v for _, v in points] + list(line or [])
    top = max([1.0, *values])
    n = max(len(points), 1)
    step = plot_w / n
    every = max(1, round(n / ticks))
    bars = []
    for i, (label, value) in enumerate(points):
        h = plot_h * value / top
        bars.append(Bar(round(pad_left + i * step + step * 0.15, 1), round(pad_top + plot_h - h, 1),
                        round(step * 0.7, 1), round(h, 1), label, value,
                        (n - 1 - i) % every == 0))
    path = ""
    if line:
        path = " ".join(f"{round(pad_left + i * step + step / 2, 1)},"
                        f"{round(pad_top + plot_h - plot_h * v / top, 1)}"
                        for i, v in enumerate(line))
    return Chart(bars, width, height, top, pad_top + plot_h, path)


def percent(value: Any) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def duration(seconds: Any) -> str:
    if seconds is None:
        return "—"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.0f} 秒"
    if seconds < 3600:
        return f"{seconds / 60:.1f} 分钟"
    return f"{seconds / 3600:.1f} 小时"
