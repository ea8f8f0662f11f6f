"""Test hook for crash tests: kill (or pause) this process at a named point.

``ECIF_FAULT_INJECT=<stage>:<point>`` kills the process with SIGKILL when it
reaches that point (batch stages: ``start`` before the stage writes, ``commit``
when all is written but not committed; ingest: ``ingest:chunk`` after a chunk
is written, ``ingest:commit``); ``<stage>:<point>:hold`` pauses there instead
(``ECIF_FAULT_HOLD_SECONDS``, default 15).
"""

from __future__ import annotations

import os
import signal
import time

__all__ = ["FAULT_ENV", "fault_point"]

FAULT_ENV = "ECIF_FAULT_INJECT"


def fault_point(stage: str, point: str) -> None:
    wanted = os.environ.get(FAULT_ENV)
    if wanted == f"{stage}:{point}":
        os.kill(os.getpid(), signal.SIGKILL)
    if wanted == f"{stage}:{point}:hold":  # keep the run (and its lock) busy for a while
        time.sleep(float(os.environ.get("ECIF_FAULT_HOLD_SECONDS", "15")))
