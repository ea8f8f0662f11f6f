"""kill -9 of a real ingest (two worker processes), then the same ingest again: no
exception recorded twice, no ingest run left `running`, no worker left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine

from ecif.faults import FAULT_ENV
from matching.generator import generate
from tests.store.helpers import query

REPO = Path(__file__).parents[2]
DRIVER = ("import sys; from pathlib import Path; from models.db import make_engine; "
          "from ecif.ingest import ingest_files; "
          "s = ingest_files(make_engine(sys.argv[1]), [Path(sys.argv[2])], workers=2, "
          "chunk_rows=20_000); print(s.read, s.new, s.rejected)")


def _marked(mark: str) -> list[int]:
    """Processes whose environment carries ``mark``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if mark.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:  # gone, or not ours to read
            continue
    return found


def _ingest(url: str, path: Path, mark: str, fault: str | None = None
            ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ECIF_TEST_MARK": mark}
    env.pop(FAULT_ENV, None)
    if fault:
        env[FAULT_ENV] = fault
    return subprocess.run([sys.executable, "-c", DRIVER, url, str(path)], env=env, cwd=REPO,
                          text=True, capture_output=True, timeout=120)


def test_kill_9_during_ingest_then_rerun(store: Engine, store_url: str,
                                         tmp_path: Path) -> None:
    generate(tmp_path / "gen", records=60_000, seed=5)
    path = tmp_path / "gen" / "day_001.csv"
    mark = f"ecif-ingest-test-{uuid.uuid4().hex}"

    killed = _ingest(store_url, path, mark, fault="ingest:chunk")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    deadline = time.monotonic() + 15
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _marked(mark) == []  # the workers and the fork server went with their parent

    again = _ingest(store_url, path, mark)
    assert again.returncode == 0, again.stderr[-2000:]
    read, new, rejected = map(int, again.stdout.split())
    assert rejected > 0 and read == new + rejected
    stored = query(store, "SELECT count(*) AS n FROM source_record")["n"].iloc[0]
    exceptions = query(store, "SELECT count(*) AS n FROM exception_row")["n"].iloc[0]
    assert (stored, exceptions) == (new, rejected)  # nothing of the killed run twice
    runs = query(store, "SELECT status FROM ingest_run ORDER BY id")["status"].tolist()
    assert runs == ["failed", "done"]
