"""kill -9 of a real ingest (two worker processes), then the same ingest again: no
exception recorded twice, no ingest run left `running`, no worker left behind."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import closing
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


def test_kill_9_during_an_initial_load_in_rollback_journal_mode(tmp_path: Path) -> None:
    """SQLite, nobody else connected: an initial load runs with a rollback journal
    (not WAL). Killed, it leaves a hot journal that the next connection rolls back;
    the same load then stores everything once, and the store is in WAL mode again."""
    from models.db import init_db, make_engine

    url = f"sqlite:///{tmp_path / 'ecif.db'}"
    engine = make_engine(url)
    init_db(engine)
    engine.dispose()  # the ingest has the database to itself
    generate(tmp_path / "gen", records=60_000, seed=6)
    path = tmp_path / "gen" / "day_001.csv"
    mark = f"ecif-ingest-test-{uuid.uuid4().hex}"

    killed = _ingest(url, path, mark, fault="ingest:chunk")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    journal = tmp_path / "ecif.db-journal"
    assert journal.exists() and journal.stat().st_size > 0  # a hot rollback journal
    assert not (tmp_path / "ecif.db-wal").exists()

    again = _ingest(url, path, mark)
    assert again.returncode == 0, again.stderr[-2000:]
    read, new, rejected = map(int, again.stdout.split())
    assert read == new + rejected and new > 50_000
    engine = make_engine(url)
    try:
        assert query(engine, "SELECT count(*) AS n FROM source_record")["n"].iloc[0] == new
        assert query(engine, "SELECT count(*) AS n FROM exception_row")["n"].iloc[0] == rejected
        runs = query(engine, "SELECT status FROM ingest_run ORDER BY id")["status"].tolist()
        assert runs == ["failed", "done"]
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA quick_check").scalar() == "ok"
            indexes = {r[1] for r in conn.exec_driver_sql("PRAGMA index_list(source_record)")}
    finally:
        engine.dispose()
    assert {"ix_source_record_name", "ix_source_record_mobile"} <= indexes  # built at the end
    with closing(sqlite3.connect(tmp_path / "ecif.db")) as raw:  # none of our pragmas
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
