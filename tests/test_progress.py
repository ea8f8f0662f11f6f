"""Progress of long commands: redrawn on a terminal, plain lines in a log."""

from __future__ import annotations

import io

from ecif.progress import ProgressDisplay, format_duration


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_terminal_line_has_stage_rate_and_eta() -> None:
    out, clock = io.StringIO(), _Clock()
    show = ProgressDisplay(out, clock=clock, terminal=True)
    show("ingest", 0, 0.0)
    clock.now += 4
    show("ingest", 200_000, 0.25)  # 50,000 rows/s; a quarter in 4 s: 12 s to go
    show.close()
    last = out.getvalue().split("\r")[-1]
    assert last == "ingest: 200,000 rows, 50,000 rows/s, 25%, ETA 12s\x1b[K\n"


def test_log_gets_a_line_every_so_often_and_at_the_end() -> None:
    out, clock = io.StringIO(), _Clock()
    show = ProgressDisplay(out, clock=clock, terminal=False, every=10)
    show("ingest", 0, 0.0)
    for second in range(1, 25):
        clock.now += 1
        show("ingest", second * 1000, second / 25)
    clock.now += 1
    show("ingest", 25_000, 1.0)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3  # at 10 s, at 20 s, at the end
    assert lines[0].endswith("ingest: 10,000 rows, 1,000 rows/s, 40%, ETA 15s")
    assert lines[-1].endswith("ingest: 25,000 rows, 1,000 rows/s, 100%")
    assert "\r" not in out.getvalue()


def test_a_command_that_fails_at_once_writes_nothing() -> None:
    out = io.StringIO()
    show = ProgressDisplay(out, clock=_Clock(), terminal=False)
    show("ingest", 0, 0.0)
    show.close()
    assert out.getvalue() == ""


def test_durations() -> None:
    assert [format_duration(s) for s in (0, 59.6, 61, 3725)] == ["0s", "1m00s", "1m01s",
                                                                 "1h02m"]
