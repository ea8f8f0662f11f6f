"""Progress of long commands: stage, rows/s and ETA.

On a terminal one line is redrawn in place; otherwise (a scheduler's log) a
plain line is written every ``every`` seconds of a stage and when it ends, so
a log shows how far a night got without thousands of lines (and a command that
fails at once writes its one error line alone).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Protocol, TextIO

__all__ = ["Progress", "ProgressDisplay", "format_duration"]


class Progress(Protocol):
    def __call__(self, stage: str, done: int, fraction: float | None = None) -> None:
        """``done`` rows of ``stage`` so far; ``fraction`` of the stage's work, if known."""


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class ProgressDisplay:
    """A :class:`Progress` that writes to ``stream`` (standard error by default)."""

    def __init__(self, stream: TextIO | None = None, *, every: float = 10.0,
                 clock: Callable[[], float] = time.monotonic,
                 terminal: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.every = every
        self.clock = clock
        self.stage: str | None = None
        self.started = 0.0
        self.written = 0.0
        self.drawn = False

    def __call__(self, stage: str, done: int, fraction: float | None = None) -> None:
        now = self.clock()
        if stage != self.stage:
            self._end_line()
            self.stage, self.started, self.written = stage, now, float("-inf")
        elapsed = now - self.started
        parts = [f"{stage}: {done:,} rows"]
        if elapsed > 0:
            parts.append(f"{done / elapsed:,.0f} rows/s")
        if fraction is not None and 0 < fraction <= 1:
            parts.append(f"{fraction:.0%}")
            if fraction < 1:
                parts.append(f"ETA {format_duration(elapsed * (1 - fraction) / fraction)}")
        line = ", ".join(parts)
        if self.terminal:
            self.stream.write("\r" + line + "\x1b[K")
            self.stream.flush()
            self.drawn = True
        elif done and (min(elapsed, now - self.written) >= self.every or fraction == 1):
            self.stream.write(f"{time.strftime('%H:%M:%S')} {line}\n")
            self.stream.flush()
            self.written = now

    def say(self, message: str) -> None:
        """A line of its own (a stage starting, a warning)."""
        self._end_line()
        prefix = "" if self.terminal else f"{time.strftime('%H:%M:%S')} "
        self.stream.write(prefix + message + "\n")
        self.stream.flush()

    def close(self) -> None:
        self._end_line()

    def _end_line(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
