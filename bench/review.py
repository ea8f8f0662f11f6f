"""Benchmark: the customer page, search, force-merge, split and rollback of the
stewards' app on a generated store (issue 10: pages <= 300 ms at the 95th
percentile, a merge or split applied <= 1 s).

    .venv/bin/python bench/review.py [--records 200000] [--seed 5] [--data DIR]
        [--databases sqlite,postgresql] [--requests 50] [--changes 15]

The store: one generated night through ingest and the nightly batch. Then, in
process through Flask's test client (server time: routing, session, services,
SQL, templates; no network), a steward and an approver:

- the customer page (`/customers/<no>`) of random customers, half of them with
  two or more records; the page of a tombstone (a redirect, then the page);
- search (`/customers/search`) by a name prefix (the first two characters of a
  random record's name), a whole resident ID, a mobile prefix (7 digits), a
  customer number;
- the overview page (`/overview`);
- changes applied (the approver's `POST /requests/<id>/approve`: the change takes
  effect with numbers, events, golden records, change feed, tasks, audit):
  force-merge of two one-record customers, split of a batch-made customer,
  rollback of the force-merges.

Peers in the same run, as ratios: the name search against a full scan of the
same rows (`name LIKE 'x%'` without the index: what search cost before the
index of migration 0004), and the read of the touched tasks on each change
against the read of every open task that `close_answered_tasks` used to make.
"""

from __future__ import annotations

import random
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench.review_pages import (  # noqa: E402
    _csrf,
    _login,
    _pct,
    _show,
    _timed,
    on_each_store,
    stores_args,
)
from ecif.services.base import Actor, unit_of_work  # noqa: E402
from ecif.services.users import create_user  # noqa: E402
from models.db import make_engine  # noqa: E402


def _ids(conn: Any, sql: str, n: int, rng: random.Random) -> list[Any]:
    from sqlalchemy import text

    rows = [r[0] for r in conn.execute(text(sql))]
    return rng.sample(rows, min(n, len(rows)))


def _post(client: Any, page: str, url: str, data: dict[str, Any]) -> Any:
    html = client.get(page).get_data(as_text=True)
    return client.post(url, data={"csrf_token": _csrf(html), **data})


def _last_request(engine: Any) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        return int(conn.execute(text("SELECT max(id) FROM change_request")).scalar_one())


def _approve(approver: Any, engine: Any) -> float:
    request_id = _last_request(engine)
    html = approver.get("/approvals").get_data(as_text=True)
    token = _csrf(html)
    t0 = time.perf_counter()
    answer = approver.post(f"/requests/{request_id}/approve", data={"csrf_token": token})
    ms = (time.perf_counter() - t0) * 1000
    assert answer.status_code == 303, answer.status_code
    return ms


def measure(url: str, requests: int, changes: int) -> None:
    from sqlalchemy import text

    from ecif.services.tasks import _open_members
    from review_app import create_app

    engine = make_engine(url)
    with unit_of_work(engine) as conn:
        for name, role in (("steward1", "steward"), ("approver1", "approver")):
            create_user(conn, name, role, f"demo-{name}", actor=Actor("bench", "admin", True))
    rng = random.Random(7)
    with engine.connect() as conn:
        records = conn.execute(text("SELECT count(*) FROM source_record")).scalar_one()
        active = conn.execute(text("SELECT count(*) FROM customer WHERE status = 'active'")
                              ).scalar_one()
        open_tasks = conn.execute(text("SELECT count(*) FROM review_task WHERE status = 'open'")
                                  ).scalar_one()
        multi = _ids(conn, "SELECT customer_no FROM customer WHERE status = 'active' AND "
                           "records >= 2", requests // 2 + changes, rng)
        single = _ids(conn, "SELECT customer_no FROM customer WHERE status = 'active' AND "
                            "records = 1 AND customer_type = 'P'", requests + 4 * changes, rng)
        names = _ids(conn, "SELECT name FROM source_record WHERE name IS NOT NULL",
                     requests, rng)
        ids = _ids(conn, "SELECT id_cleaned FROM source_record WHERE id_number IS NOT NULL "
                         "AND customer_type = 'P'", requests, rng)
        mobiles = _ids(conn, "SELECT mobile FROM source_record WHERE mobile IS NOT NULL",
                       requests, rng)
    print(f"  store: {records:,} records, {active:,} customers, {open_tasks:,} open tasks")
    app = create_app({"ECIF_DATABASE_URL": url, "TESTING": True})
    steward, approver = _login(app, "steward1"), _login(app, "approver1")
    get = steward.get  # type: ignore[attr-defined]
    for _ in range(3):
        get(f"/customers/{single[0]}")
    pages = [_timed(lambda n=n: get(f"/customers/{n}"))
             for n in multi[: requests // 2] + single[: requests // 2]]
    _show("customer page", pages)
    searches: dict[str, list[float]] = {}
    for label, values in (("search: name prefix (2 chars)", [n[:2] for n in names]),
                          ("search: resident ID", ids),
                          ("search: mobile prefix (7 digits)", [m[:7] for m in mobiles]),
                          ("search: customer number", single[:requests])):
        searches[label] = [_timed(lambda v=v: get("/customers/search", query_string={"q": v}))
                           for v in values]
        if searches[label]:
            _show(label, searches[label])
    overview = [_timed(lambda: get("/overview")) for _ in range(max(5, requests // 10))]
    _show("overview page", overview)
    # peer: the same name prefixes by a full scan (LIKE does not use the index)
    with engine.connect() as conn:
        scan = text("SELECT l.customer_no FROM source_record s JOIN link l ON l.record_id = s.id "
                    "WHERE s.name LIKE :p ORDER BY s.name LIMIT 200")
        ranged = text("SELECT l.customer_no FROM source_record s JOIN link l ON "
                      "l.record_id = s.id WHERE s.name >= :lo AND s.name < :hi "
                      "ORDER BY s.name LIMIT 200")
        picks = [n[:2] for n in names[:10]]
        full = [_timed(lambda p=p: conn.execute(scan, {"p": p + "%"}).all()) for p in picks]
        idx = [_timed(lambda p=p: conn.execute(ranged, {"lo": p, "hi": p[:-1] + chr(
            ord(p[-1]) + 1)}).all()) for p in picks]
    _show("peer: name prefix by full scan (SQL)", full)
    _show("name prefix by index range (SQL)", idx)
    print(f"  full scan / index range (p50): {_pct(full, 0.5) / max(_pct(idx, 0.5), 0.01):.0f}x")

    merged: list[str] = []
    merge_ms: list[float] = []
    pool = single[requests // 2:]
    for i in range(changes):
        a, b = pool[2 * i], pool[2 * i + 1]
        answer = _post(steward, "/customers/search", "/customers/merge",
                       {"customers": [a, b], "reason": "bench"})
        if answer.status_code != 303 or "/approvals" not in answer.headers["Location"]:
            continue
        merge_ms.append(_approve(approver, engine))
        merged.append(a)
    if merge_ms:
        _show("force-merge applied (approve)", merge_ms)
    split_ms: list[float] = []
    for no in multi[requests // 2:][:changes]:
        html = get(f"/customers/{no}").get_data(as_text=True)
        keys = re.findall(r'name="records" value="([^"]+)"', html)
        seen = re.search(r'name="seen" value="([0-9a-f]+)"', html)
        if len(keys) < 2 or seen is None:
            continue
        answer = steward.post(f"/customers/{no}/split",  # type: ignore[attr-defined]
                              data={"csrf_token": _csrf(html), "records": [keys[-1]],
                                    "reason": "bench", "seen": seen.group(1)})
        if "已提交申请" not in get(answer.headers["Location"]).get_data(as_text=True):
            continue  # refused (a steward's must-link): not timed
        split_ms.append(_approve(approver, engine))
    if split_ms:
        _show("split applied (approve)", split_ms)
    rollback_ms: list[float] = []
    with engine.connect() as conn:
        events = [int(e) for e in conn.execute(text(
            "SELECT id FROM merge_event WHERE event_type = 'manual_merge' AND undone_by IS NULL "
            "ORDER BY id")).scalars()]
    for event in events[:changes]:
        answer = _post(steward, "/approvals", f"/events/{event}/rollback", {"reason": "bench"})
        rollback_ms.append(_approve(approver, engine))
    if rollback_ms:
        _show("rollback applied (approve)", rollback_ms)
    # peer: what close_answered_tasks read on each change before (every open task)
    with engine.connect() as conn:
        touched = [int(t) for t in conn.execute(text(
            "SELECT id FROM review_task WHERE status = 'open' ORDER BY id LIMIT 3")).scalars()]
        every = [_timed(lambda: _open_members(conn)) for _ in range(5)]
        few = [_timed(lambda: _open_members(conn, touched)) for _ in range(5)]
    _show("peer: read every open task (before)", every)
    _show("read the touched tasks (now)", few)
    print(f"  every open task / touched tasks (p50): "
          f"{_pct(every, 0.5) / max(_pct(few, 0.5), 0.01):.0f}x")
    with app.app_context():
        from review_app.db import get_engine
        get_engine().dispose()
    engine.dispose()


def main() -> None:
    args = stores_args(50, "changes", 15)
    on_each_store(args, "ecif-bench-review-more-",
                  lambda url: measure(url, args.requests, args.changes))


if __name__ == "__main__":
    main()
