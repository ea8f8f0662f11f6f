"""kill -9 at every stage of a batch, then `ecif batch` again: the store ends
exactly as after an uninterrupted run. And a second batch is refused while one
runs. Real processes, real SIGKILL, real SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from ecif.batch.context import FAULT_ENV
from ecif.ingest import ingest_files
from models.db import init_db, make_engine
from tests.conftest import drop_pg_database, fresh_pg_database
from tests.store.helpers import batch, query

NIGHTS = Path(__file__).parents[2] / "data" / "sample" / "nights"
REPO = Path(__file__).parents[2]


def _cli(url: str, models: Path, *args: str, fault: str | None = None,
         wait: bool = True) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    env = {**os.environ, "ECIF_DATABASE_URL": url, "ECIF_WORKERS": "1"}
    env.pop(FAULT_ENV, None)
    if fault:
        env[FAULT_ENV] = fault
    cmd = [sys.executable, "-m", "ecif.cli", *args]
    if args[0] == "batch":
        cmd += ["--model-dir", str(models)]
    if not wait:
        return subprocess.Popen(cmd, env=env, cwd=REPO, text=True, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    return subprocess.run(cmd, env=env, cwd=REPO, text=True, capture_output=True, timeout=600)


def state(engine: Engine) -> dict[str, Any]:
    """Everything a batch decides, without ids and times."""
    def rows(sql: str) -> list[tuple[Any, ...]]:
        frame = query(engine, sql)
        frame = frame.astype(object).where(frame.notna(), None)
        return sorted(tuple(r) for r in frame.itertuples(index=False, name=None))

    return {
        "links": rows("SELECT s.record_key, l.customer_no, l.link_type, l.rule FROM link l "
                      "JOIN source_record s ON s.id = l.record_id"),
        "customers": rows("SELECT customer_no, status, merged_into, records, version, name, "
                          "mobile, id_number, address FROM customer"),
        "history": rows("SELECT customer_no, version, fields FROM customer_history"),
        "tasks": rows("SELECT t.task_type, t.status, s.record_key FROM review_task t "
                      "JOIN task_member m ON m.task_id = t.id "
                      "JOIN source_record s ON s.id = m.record_id"),
        "events": rows("SELECT event_type, customer_no, before, after, rule FROM merge_event"),
        "changes": rows("SELECT change_type, customer_no, related_customer_no "
                        "FROM customer_change"),
        "runs": rows("SELECT status, stage FROM batch_run"),
        "pairs": rows("SELECT left_key, right_key, decision FROM match_pair"),
    }


class _Stores:
    """Databases that hold night 1 (batched) and night 2 (ingested, not batched)."""

    def __init__(self, kind: str, tmp: Path, models: Path) -> None:
        self.kind, self.tmp, self.models = kind, tmp, models
        self.made: list[str] = []
        if kind == "postgresql":
            from tests.conftest import PG_SERVER
            self.server = PG_SERVER
            self.template_url, name = fresh_pg_database(self.server)
            self.made.append(name)
        else:
            self.template_url = f"sqlite:///{tmp / 'template.db'}"
        engine = make_engine(self.template_url)
        init_db(engine)
        ingest_files(engine, [NIGHTS / "day_001.csv"], workers=1)
        batch(engine, models)
        ingest_files(engine, [NIGHTS / "day_002.csv"], workers=1)
        if kind == "sqlite":
            with engine.begin() as conn:
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        engine.dispose()

    def copy(self, label: str) -> str:
        if self.kind == "sqlite":
            target = self.tmp / f"{label}.db"
            shutil.copy(self.tmp / "template.db", target)
            return f"sqlite:///{target}"
        from sqlalchemy import create_engine

        name = f"{self.made[0]}_{label.replace(':', '_')}"
        admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.made[0]}"'))
        admin.dispose()
        self.made.append(name)
        return self.server.rsplit("/", 1)[0] + f"/{name}"

    def close(self) -> None:
        if self.kind == "postgresql":
            for name in reversed(self.made):
                drop_pg_database(self.server, name)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           sample_models: Path) -> Iterator[_Stores]:
    if request.param == "postgresql":
        request.getfixturevalue("pg_server")
    made = _Stores(request.param, tmp_path_factory.mktemp(request.param), sample_models)
    yield made
    made.close()


@pytest.fixture(scope="module")
def reference(stores: _Stores) -> dict[str, Any]:
    url = stores.copy("reference")
    done = _cli(url, stores.models, "batch")
    assert isinstance(done, subprocess.CompletedProcess)
    assert done.returncode == 0, done.stderr
    engine = make_engine(url)
    got = state(engine)
    engine.dispose()
    assert got["changes"] and got["tasks"] and got["events"]  # night 2 does all of it
    return got


POINTS = ["standardise:commit", "match:start", "match:commit", "merge:start", "merge:commit",
          "golden:commit", "tasks:commit", "changes:commit"]


@pytest.mark.parametrize("point", POINTS)
def test_kill_9_then_rerun_reaches_the_same_state(stores: _Stores, reference: dict[str, Any],
                                                  point: str) -> None:
    url = stores.copy(point)
    killed = _cli(url, stores.models, "batch", fault=point)
    assert isinstance(killed, subprocess.CompletedProcess)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    engine = make_engine(url)
    assert query(engine, "SELECT status FROM batch_run ORDER BY id")["status"].tolist()[-1] \
        == "running"
    engine.dispose()
    if point == POINTS[0]:  # new data must wait until the crashed run is finished
        refused = _cli(url, stores.models, "ingest", str(NIGHTS / "day_002.csv"))
        assert isinstance(refused, subprocess.CompletedProcess)
        assert refused.returncode == 1 and "did not finish" in refused.stderr
    again = _cli(url, stores.models, "batch")
    assert isinstance(again, subprocess.CompletedProcess)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "resumed after" in again.stdout
    engine = make_engine(url)
    got = state(engine)
    engine.dispose()
    for part, expected in reference.items():
        diff = sorted(set(got[part]) ^ set(expected))[:6]
        assert got[part] == expected, f"{part} differs: {diff}"


def test_second_batch_is_refused_while_one_runs(stores: _Stores) -> None:
    url = stores.copy("busy")
    first = _cli(url, stores.models, "batch", fault="match:start:hold", wait=False)
    assert isinstance(first, subprocess.Popen)
    try:
        engine = make_engine(url)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait until the first has started its run
            if query(engine, "SELECT count(*) AS n FROM batch_run WHERE status = 'running'"
                     )["n"].iloc[0]:
                break
            time.sleep(0.2)
        engine.dispose()
        second = _cli(url, stores.models, "batch")
        assert isinstance(second, subprocess.CompletedProcess)
        assert second.returncode == 1
        assert "is running" in second.stderr and second.stderr.count("\n") == 1
    finally:
        out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-2000:]
