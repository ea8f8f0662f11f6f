"""Benchmark: server time of the stewards' queue and task pages, and of a merge
applied, on a generated store (issue 10: <= 300 ms at the 95th percentile, a
merge <= 1 s).

    .venv/bin/python bench/review_pages.py [--records 200000] [--seed 5] [--data DIR]
        [--databases sqlite,postgresql] [--requests 100] [--merges 20]

The store: one generated night through `ecif ingest` and `ecif batch` (which
trains both models, matches, merges and opens the review tasks). Then, in
process through Flask's test client (server time: routing, session, services,
SQL, templates; no network), logged in as a steward:

- the queue (`/tasks`) under four orders/filters, ``--requests`` times each;
- the task page (`/tasks/<id>`) of ``--requests`` open tasks drawn at random;
- a merge applied: the steward asks for a task's merge, the approver approves it
  (`POST /tasks/<id>/approve`: the merge takes effect, numbers, golden records,
  change feed, audit), ``--merges`` tasks.

Peer in the same run: the bare SQL of the queue's page (the same rows, read with
SQLAlchemy, no app) - the ratio page / bare query is what the app adds.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench._common import machine  # noqa: E402
from ecif.batch import run_batch  # noqa: E402
from ecif.ingest import ingest_files  # noqa: E402
from ecif.services.base import Actor, unit_of_work  # noqa: E402
from ecif.services.users import create_user  # noqa: E402
from matching.config import DEFAULT_CONFIG_DIR  # noqa: E402
from matching.engine.config import load_engine_config  # noqa: E402
from matching.generator import generate  # noqa: E402
from models.db import init_db, make_engine  # noqa: E402

PG_SERVER = os.environ.get("ECIF_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _show(label: str, ms: list[float]) -> None:
    print(f"  {label:<34} p50 {_pct(ms, 0.5):7.1f} ms  p95 {_pct(ms, 0.95):7.1f} ms  "
          f"max {max(ms):7.1f} ms  (n={len(ms)})")


def _timed(call: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    call()
    return (time.perf_counter() - t0) * 1000


def _pg_database() -> tuple[str, Callable[[], None]]:
    from sqlalchemy import create_engine, text

    name = f"ecif_bench_review_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return PG_SERVER.rsplit("/", 1)[0] + f"/{name}", drop


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found
    return found.group(1)


def _login(app: object, name: str) -> object:
    client = app.test_client()  # type: ignore[attr-defined]
    token = _csrf(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"username": name, "password": f"demo-{name}",
                                         "csrf_token": token})
    assert answer.status_code == 302, answer.status_code
    return client


def measure(url: str, requests: int, merges: int) -> None:
    from sqlalchemy import text

    from review_app import create_app

    engine = make_engine(url)
    with unit_of_work(engine) as conn:
        for name, role in (("steward1", "steward"), ("approver1", "approver")):
            create_user(conn, name, role, f"demo-{name}", actor=Actor("bench", "admin", True))
    with engine.connect() as conn:
        records = conn.execute(text("SELECT count(*) FROM source_record")).scalar_one()
        tasks = [int(t) for t in conn.execute(text(
            "SELECT id FROM review_task WHERE status = 'open' ORDER BY id")).scalars()]
    print(f"  store: {records:,} records, {len(tasks):,} open review tasks")
    app = create_app({"ECIF_DATABASE_URL": url, "TESTING": True})
    steward = _login(app, "steward1")
    approver = _login(app, "approver1")
    get = steward.get  # type: ignore[attr-defined]
    for _ in range(3):
        get("/tasks")  # warm up: connections, templates, config
    queue_all: list[float] = []
    for label, query in (("queue, by score", "/tasks"), ("queue, oldest first", "/tasks?sort=age"),
                         ("queue, by size", "/tasks?sort=size"),
                         ("queue, organisations, page 3", "/tasks?customer_type=G&page=3")):
        ms = [_timed(lambda q=query: get(q)) for _ in range(requests)]
        queue_all += ms
        _show(label, ms)
    _show("queue, all of the above", queue_all)
    page_sql = text("SELECT id, task_type, customer_type, max_score, created_at, locked_by "
                    "FROM review_task WHERE status = 'open' "
                    "ORDER BY max_score DESC NULLS LAST, created_at, id LIMIT 50")
    with engine.connect() as conn:
        bare = [_timed(lambda: conn.execute(page_sql).all()) for _ in range(requests)]
    _show("peer: bare SQL of the queue page", bare)
    print(f"  queue by score / bare SQL (p50): "
          f"{_pct(queue_all[:requests], 0.5) / _pct(bare, 0.5):.1f}")
    rng = random.Random(1)
    sample = rng.sample(tasks, min(requests, len(tasks)))
    pages = [_timed(lambda t=t: get(f"/tasks/{t}")) for t in sample]
    _show("task page", pages)

    applied: list[float] = []
    for task in sample[:merges]:
        html = get(f"/tasks/{task}").get_data(as_text=True)
        seen = re.search(r'name="seen" value="([0-9a-f]+)"', html)
        if seen is None:
            continue
        steward.post(f"/tasks/{task}/merge",  # type: ignore[attr-defined]
                     data={"csrf_token": _csrf(html), "seen": seen.group(1)})
        html = approver.get(f"/tasks/{task}").get_data(as_text=True)  # type: ignore[attr-defined]
        found = re.search(r'name="request_id" value="(\d+)"', html)
        if found is None:
            continue
        data = {"csrf_token": _csrf(html), "request_id": found.group(1)}
        applied.append(_timed(lambda t=task, d=data: approver.post(  # type: ignore[attr-defined]
            f"/tasks/{t}/approve", data=d)))
    if applied:
        _show("merge applied (approve request)", applied)
    with app.app_context():
        from review_app.db import get_engine
        get_engine().dispose()
    engine.dispose()


def stores_args(requests: int, changes: str, default_changes: int) -> argparse.Namespace:
    """The options both review benches take."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--data", type=Path, default=None, help="keep and reuse generated data here")
    ap.add_argument("--databases", default="sqlite,postgresql")
    ap.add_argument("--requests", type=int, default=requests)
    ap.add_argument(f"--{changes}", type=int, default=default_changes)
    return ap.parse_args()


def on_each_store(args: argparse.Namespace, prefix: str,
                  measure_store: Callable[[str], None]) -> None:
    """Generate ``args.records`` records, build a store of them (ingest + batch) on each
    database kind in ``args.databases``, and call ``measure_store(url)`` on each."""
    logging.getLogger("splink").setLevel(logging.ERROR)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the start")
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        data = args.data or work / "data"
        if not (data / "day_001.csv").exists():
            generate(data, records=args.records, seed=args.seed)
        night = data / "day_001.csv"
        for kind in args.databases.split(","):
            drop: Callable[[], None] | None = None
            if kind == "sqlite":
                url = f"sqlite:///{work / 'review.db'}"
            else:
                url, drop = _pg_database()
            try:
                engine = make_engine(url)
                init_db(engine)
                config = replace(load_engine_config(DEFAULT_CONFIG_DIR),
                                 model_dir=work / "models")
                t0 = time.perf_counter()
                ingest_files(engine, [night], workers=None)
                run_batch(engine, config, config_dir=DEFAULT_CONFIG_DIR, workers=None)
                engine.dispose()
                print(f"{kind}: store built in {time.perf_counter() - t0:.0f} s "
                      f"(ingest + batch of {night.name})")
                measure_store(url)
            finally:
                if drop is not None:
                    drop()
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    args = stores_args(100, "merges", 20)
    on_each_store(args, "ecif-bench-review-", lambda url: measure(url, args.requests, args.merges))


if __name__ == "__main__":
    main()
