"""The customer page, search and force-merge, split, rollback, approvals, bulk, the
overview and the stewards' JSON API, through the Flask test client on a
demo-like store of this module's own (SQLite and PostgreSQL): what a steward
and an approver do, what a viewer may see, untrusted names shown as text; and
one real browser (Chromium) against `ecif serve` on the same store."""

from __future__ import annotations

import html
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ecif.ingest import ingest_files
from ecif.services.base import Actor, unit_of_work
from ecif.services.users import create_user
from matching.vocabulary import Role
from tests.conftest import drop_pg_database, fresh_pg_database
from tests.review_app.conftest import (
    SAMPLE,
    USERS,
    app_on,
    csrf_of,
    logged_in,
    post,
    store_query,
)
from tests.review_app.test_browser import _chromium, _free_port
from tests.store.helpers import batch, person, query, rid, write_csv

XSS = "<img src=x onerror=alert(1)>"
XSS_ID = rid("11010119800101123")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def xss_store(request: pytest.FixtureRequest, sample_models: Path,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo store of this module's own (its tests change it), plus two records with
    an attacker's name, address and e-mail."""
    from models.db import init_db, make_engine

    path = write_csv(tmp_path_factory.mktemp("xss") / "xss.csv", [
        person("CORE", "X1", XSS, XSS_ID, mobile="13812345678", address=XSS),
        person("CLAIM", "X2", XSS, XSS_ID, email=f"a{XSS}@x.cn")])

    def build(url: str) -> None:  # the demo store, the two records in its one batch
        engine = make_engine(url)
        try:
            init_db(engine)
            ingest_files(engine, [SAMPLE, path], workers=1)
            batch(engine, sample_models)
            with unit_of_work(engine) as conn:
                for name, role in USERS.items():
                    create_user(conn, name, role, f"demo-{name}",
                                actor=Actor("test", Role.ADMIN, system=True))
        finally:
            engine.dispose()

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('customers') / 'ecif.db'}"
        build(url)
        yield url
        return
    server = request.getfixturevalue("pg_server")
    url, name = fresh_pg_database(server)
    try:
        build(url)
        yield url
    finally:
        drop_pg_database(server, name)


@pytest.fixture
def web(xss_store: str) -> Iterator[Flask]:
    yield from app_on(xss_store)


def _customer_of(app: Flask, key: str) -> str:
    return str(store_query(app, "SELECT l.customer_no FROM link l JOIN source_record s ON "
                                "s.id = l.record_id WHERE s.record_key = :k",
                           {"k": key})["customer_no"].iloc[0])


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def _singles(app: Flask, n: int) -> list[Any]:
    """Active one-record person customers with a name and no open task or decision."""
    rows = store_query(app, "SELECT c.customer_no, c.name, s.record_key FROM customer c "
                            "JOIN link l ON l.customer_no = c.customer_no JOIN source_record s "
                            "ON s.id = l.record_id WHERE c.status = 'active' AND c.records = 1 "
                            "AND c.customer_type = 'P' AND c.name IS NOT NULL "
                            "AND s.record_key NOT IN (SELECT left_key FROM decision) "
                            "AND s.record_key NOT IN (SELECT right_key FROM decision) "
                            "AND l.record_id NOT IN (SELECT record_id FROM task_member) "
                            "ORDER BY c.customer_no")
    return [r for r in rows.itertuples()][:n]


def test_customer_page_escapes_names_and_masks_pii_for_a_viewer(web: Flask) -> None:
    no = _customer_of(web, "CORE:X1")
    assert _customer_of(web, "CLAIM:X2") == no  # one customer by the strong rule
    steward = logged_in(web, "steward1")
    page = _text(steward.get(f"/customers/{no}"))
    assert XSS not in page and html.escape(XSS) in page
    assert XSS_ID in page and "13812345678" in page
    assert "客户信息回溯" in page and "归并/拆分历史" in page
    assert 'data-action="split"' in page
    viewer = logged_in(web, "viewer1")
    page = _text(viewer.get(f"/customers/{no}"))
    assert XSS_ID not in page and "13812345678" not in page
    assert XSS_ID[:3] + "*" * 11 + XSS_ID[-4:] in page and "138****5678" in page
    assert 'data-action="split"' not in page and 'data-action="rollback"' not in page
    found = _text(viewer.get("/customers/search", query_string={"q": XSS_ID}))
    found = found.split('id="hits"')[1]  # the results, not the viewer's own query
    assert no in found and XSS_ID not in found and XSS not in found
    api = viewer.get(f"/api/v1/steward/customers/{no}").get_json()
    assert XSS_ID not in str(api) and api["masked"] is True
    assert steward.get("/customers/NOPE").status_code == 404


def test_search_force_merge_approve_split_rollback(web: Flask) -> None:
    a, b = _singles(web, 2)
    steward, approver = logged_in(web, "steward1"), logged_in(web, "approver1")
    page = _text(steward.get("/customers/search", query_string={"q": a.name}))
    assert f'data-customer-no="{a.customer_no}"' in page
    page = _text(steward.get("/customers/search", query_string={"q": b.customer_no}))
    assert f'data-customer-no="{b.customer_no}"' in page
    # no reason: refused and said so
    answer = post(steward, "/customers/merge", {"customers": [a.customer_no, b.customer_no]},
                  page="/customers/search")
    assert answer.status_code == 303
    assert "输入有误" in _text(steward.get(answer.headers["Location"]))
    assert store_query(web, "SELECT count(*) AS n FROM change_request")["n"].iloc[0] == 0
    answer = post(steward, "/customers/merge", {"customers": [a.customer_no, b.customer_no],
                                                "reason": "电话核实为同一人"},
                  page="/customers/search")
    assert answer.headers["Location"].endswith("/approvals")
    request_id = int(store_query(web, "SELECT max(id) AS n FROM change_request")["n"].iloc[0])
    own = _text(steward.get("/approvals"))
    assert f'data-request-id="{request_id}"' in own and 'data-action="approve"' not in own
    queue = _text(approver.get("/approvals"))
    assert 'data-action="approve"' in queue
    answer = post(approver, f"/requests/{request_id}/approve", {"next": "/approvals"},
                  page="/approvals")
    survivor = _customer_of(web, a.record_key)
    assert survivor == _customer_of(web, b.record_key)
    assert answer.headers["Location"].endswith(f"/customers/{survivor}")
    gone = b.customer_no if survivor == a.customer_no else a.customer_no
    followed = steward.get(f"/customers/{gone}")
    assert followed.status_code == 302 and survivor in followed.headers["Location"]
    page = _text(steward.get(followed.headers["Location"]))
    assert "已合并至本客户" in page and "电话核实为同一人" in page and "approver1" in page
    # split a customer the batch made (no steward's must-link holds it together)
    multi = store_query(web, "SELECT c.customer_no FROM customer c WHERE c.status = 'active' "
                             "AND c.records >= 2 AND c.customer_no NOT IN (SELECT customer_no "
                             "FROM merge_event WHERE created_by <> 'batch') ORDER BY "
                             "c.customer_no")["customer_no"].iloc[0]
    keys = store_query(web, "SELECT s.record_key FROM link l JOIN source_record s ON s.id = "
                            "l.record_id WHERE l.customer_no = :n ORDER BY s.record_key",
                       {"n": multi})["record_key"].tolist()
    page = _text(steward.get(f"/customers/{multi}"))
    seen = page.split('name="seen" value="')[1].split('"')[0]
    post(steward, f"/customers/{multi}/split", {"records": [keys[-1]], "reason": "错误归并",
                                                "seen": seen}, page=f"/customers/{multi}")
    split_request = int(store_query(web, "SELECT max(id) AS n FROM change_request")["n"].iloc[0])
    page = _text(approver.get(f"/customers/{multi}"))
    assert f'data-request-id="{split_request}"' in page
    post(approver, f"/requests/{split_request}/approve", {"next": f"/customers/{multi}"},
         page=f"/customers/{multi}")
    assert _customer_of(web, keys[-1]) != multi == _customer_of(web, keys[0])
    page = _text(steward.get(f"/customers/{multi}"))
    assert 'id="manual-override"' in page and "人工拆分标记" in page
    # roll the split back from the history
    event = int(store_query(web, "SELECT max(id) AS n FROM merge_event WHERE event_type = "
                                 "'manual_split'")["n"].iloc[0])
    row = page.split(f'data-event-id="{event}"')[1]
    seen = row.split('name="seen" value="')[1].split('"')[0]
    post(steward, f"/events/{event}/rollback", {"reason": "拆错了", "seen": seen,
                                                "next": f"/customers/{multi}"},
         page=f"/customers/{multi}")
    rollback_request = int(store_query(web, "SELECT max(id) AS n FROM change_request")["n"]
                           .iloc[0])
    post(approver, f"/requests/{rollback_request}/approve", page="/approvals")
    assert _customer_of(web, keys[-1]) == multi
    assert 'id="manual-override"' not in _text(steward.get(f"/customers/{multi}"))
    audit = store_query(web, "SELECT action FROM audit_log WHERE actor IN ('steward1', "
                             "'approver1') ORDER BY id")["action"].tolist()
    assert audit.count("change_requested") >= 3 and audit.count("change_approved") >= 3


def test_viewer_and_forged_requests_are_refused(web: Flask) -> None:
    a, b = _singles(web, 2)
    viewer = logged_in(web, "viewer1")
    before = store_query(web, "SELECT count(*) AS n FROM change_request")["n"].iloc[0]
    answer = post(viewer, "/customers/merge", {"customers": [a.customer_no, b.customer_no],
                                               "reason": "x"}, page="/customers/search")
    assert answer.status_code == 403
    steward = logged_in(web, "steward1")
    assert steward.post("/customers/merge", data={"customers": [a.customer_no, b.customer_no],
                                                  "reason": "x"}).status_code == 400
    assert store_query(web, "SELECT count(*) AS n FROM change_request")["n"].iloc[0] == before


def test_bulk_from_the_queue_and_the_overview(web: Flask) -> None:
    steward = logged_in(web, "steward1")
    page = _text(steward.get("/tasks", query_string={"task_type": "person_suspect"}))
    assert 'id="bulk-form"' in page
    ids = [int(x.split('"')[0]) for x in page.split('name="task_ids" value="')[1:]][:2]
    assert len(ids) == 2
    answer = post(steward, "/tasks/bulk", {"task_ids": ids, "action": "not_duplicate",
                                           "reason": "批量核实为不同客户",
                                           "next": "/tasks?task_type=person_suspect"})
    assert answer.status_code == 303
    closed = store_query(web, "SELECT status FROM review_task WHERE id IN (:a, :b)",
                         {"a": ids[0], "b": ids[1]})["status"].tolist()
    assert closed == ["closed", "closed"]
    overview = _text(steward.get("/overview"))
    assert "<svg" in overview and "复核员统计" in overview
    assert 'data-reviewer="steward1"' in overview
    counts = store_query(web, "SELECT count(*) AS n FROM review_task WHERE status = 'closed'")
    tile = overview.split('data-state="closed"><div class="tile-n">')[1].split("<")[0]
    assert int(tile) == int(counts["n"].iloc[0])


def test_the_task_page_offers_split_and_rolls_back_its_merge(web: Flask) -> None:
    steward, approver = logged_in(web, "steward1"), logged_in(web, "approver1")
    task = int(store_query(web, "SELECT min(id) AS t FROM review_task WHERE status = 'open' "
                                "AND task_type <> 'identity_change' AND id NOT IN (SELECT "
                                "task_id FROM change_request WHERE task_id IS NOT NULL)")
               ["t"].iloc[0])
    page = _text(steward.get(f"/tasks/{task}"))
    assert 'data-action="split"' in page and 'data-action="rollback"' not in page
    before = store_query(web, "SELECT s.record_key, l.customer_no FROM task_member m JOIN "
                              "source_record s ON s.id = m.record_id JOIN link l ON "
                              "l.record_id = m.record_id WHERE m.task_id = :t ORDER BY "
                              "s.record_key", {"t": task}).values.tolist()
    seen = page.split('name="seen" value="')[1].split('"')[0]
    post(steward, f"/tasks/{task}/merge", {"seen": seen}, page=f"/tasks/{task}")
    page = _text(approver.get(f"/tasks/{task}"))
    request_id = page.split('name="request_id" value="')[1].split('"')[0]
    post(approver, f"/tasks/{task}/approve", {"request_id": request_id}, page=f"/tasks/{task}")
    page = _text(steward.get(f"/tasks/{task}"))
    assert 'data-action="rollback"' in page
    row = page.split('id="task-customers"')[1]
    event = row.split('data-event-id="')[1].split('"')[0]
    seen = row.split('name="seen" value="')[1].split('"')[0]
    post(steward, f"/events/{event}/rollback", {"seen": seen, "reason": "误合并"},
         page=f"/tasks/{task}")
    rollback_request = int(store_query(web, "SELECT max(id) AS n FROM change_request")["n"]
                           .iloc[0])
    post(approver, f"/requests/{rollback_request}/approve", page="/approvals")
    after = store_query(web, "SELECT s.record_key, l.customer_no FROM task_member m JOIN "
                             "source_record s ON s.id = m.record_id JOIN link l ON "
                             "l.record_id = m.record_id WHERE m.task_id = :t ORDER BY "
                             "s.record_key", {"t": task}).values.tolist()
    assert after == before
    assert "已由" in _text(steward.get(f"/tasks/{task}")).split('id="task-customers"')[1]


def _api(client: FlaskClient, method: str, url: str, body: Any = None,
         token: str | None = None) -> Any:
    headers = {"X-CSRFToken": token} if token else {}
    return client.open(url, method=method, json=body, headers=headers)


def test_steward_api(web: Flask) -> None:
    anonymous = web.test_client()
    assert _api(anonymous, "GET", "/api/v1/steward/tasks").status_code == 401
    steward, approver = logged_in(web, "steward1"), logged_in(web, "approver1")
    viewer = logged_in(web, "viewer1")
    token = _api(steward, "GET", "/api/v1/steward/session").get_json()["csrf_token"]
    atoken = csrf_of(_text(approver.get("/tasks")))
    vtoken = csrf_of(_text(viewer.get("/tasks")))
    tasks = _api(steward, "GET", "/api/v1/steward/tasks?per_page=5").get_json()
    assert tasks["total"] >= 1 and len(tasks["tasks"]) <= 5
    a, b = _singles(web, 2)
    found = _api(steward, "GET", f"/api/v1/steward/search?q={a.customer_no}").get_json()
    assert found["customers"][0]["customer_no"] == a.customer_no
    body = {"customers": [a.customer_no, b.customer_no], "reason": "API 强制归并"}
    missing = _api(steward, "POST", "/api/v1/steward/merge", body)
    assert missing.status_code == 400 and "csrf" in missing.get_json()["message"].lower()
    refused = _api(viewer, "POST", "/api/v1/steward/merge", body, vtoken)
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    bad = _api(steward, "POST", "/api/v1/steward/merge", {"customers": "x"}, token)
    assert bad.status_code == 400 and "customers" in bad.get_json()["fields"]
    asked = _api(steward, "POST", "/api/v1/steward/merge", body, token)
    assert asked.status_code == 202
    request_id = asked.get_json()["request_id"]
    own = _api(steward, "POST", f"/api/v1/steward/requests/{request_id}/approve", {}, token)
    assert own.status_code == 403
    done = _api(approver, "POST", f"/api/v1/steward/requests/{request_id}/approve", {}, atoken)
    assert done.status_code == 200
    survivor = done.get_json()["result"]["customer_no"]
    again = _api(approver, "POST", f"/api/v1/steward/requests/{request_id}/approve", {},
                 atoken)
    assert again.status_code == 409 and again.get_json()["error"] == "conflict"
    gone = b.customer_no if survivor == a.customer_no else a.customer_no
    got = _api(steward, "GET", f"/api/v1/steward/customers/{gone}").get_json()
    assert got["merged_into"] == survivor and got["customer"]["customer_no"] == survivor
    assert _api(steward, "GET", "/api/v1/steward/customers/NOPE").status_code == 404
    assert _api(steward, "POST", "/api/v1/steward/events/999999/rollback", {},
                token).status_code == 404
    event = got["events"][0]
    stale = _api(steward, "POST", f"/api/v1/steward/events/{event['id']}/rollback",
                 {"reason": "x", "seen": "stale"}, token)
    assert stale.status_code == 409


@pytest.fixture
def served(xss_store: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "ECIF_DATABASE_URL": xss_store, "ECIF_SECRET_KEY": "browser-test"}
    proc = subprocess.Popen([sys.executable, "-m", "ecif.cli", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, "the server died"
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _q(url: str, sql: str, params: dict[str, Any] | None = None) -> Any:
    from models.db import make_engine

    engine = make_engine(url)
    try:
        return query(engine, sql, params)
    finally:
        engine.dispose()


def _browser_login(browser: Any, base: str, name: str) -> Any:
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", f"demo-{name}")
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/tasks")
    return page


def test_in_a_browser_search_force_merge_approve_customer_page_split(
        served: str, xss_store: str) -> None:
    """Chromium against `ecif serve`: search, force-merge, approve, the customer page, split."""
    from playwright.sync_api import expect, sync_playwright

    singles = _q(xss_store, "SELECT customer_no FROM customer WHERE status = 'active' AND "
                            "records = 1 AND customer_type = 'P' ORDER BY customer_no")
    a, b = singles["customer_no"].iloc[0], singles["customer_no"].iloc[1]
    prefix = os.path.commonprefix([a, b])
    multi = _q(xss_store, "SELECT customer_no FROM customer WHERE status = 'active' AND "
                          "records >= 2 AND customer_no NOT IN (SELECT customer_no FROM "
                          "merge_event WHERE created_by <> 'batch') ORDER BY customer_no"
               )["customer_no"].iloc[0]
    chromium = _chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True,
                                    args=["--no-sandbox"])
        try:
            steward = _browser_login(browser, served, "steward1")
            steward.click("text=客户查询")
            steward.fill("input[name=q]", prefix)
            steward.click("[data-action=search]")
            for no in (a, b):
                steward.check(f"[data-customer-no='{no}'] input[name=customers]")
            steward.fill("#force-merge-form input[name=reason]", "电话核实为同一人")
            steward.click("[data-action=force-merge]")
            steward.wait_for_url(served + "/approvals")
            expect(steward.locator(".flash-success")).to_contain_text("等待审核员批准")

            approver = _browser_login(browser, served, "approver1")
            approver.goto(served + "/approvals")
            approver.locator("[data-action=approve]").first.click()
            expect(approver.locator("#customer-no")).to_be_visible()
            survivor = approver.locator("#customer-no").inner_text()
            assert survivor in (a, b)
            expect(approver.locator("#records [data-record-key]")).to_have_count(2)
            expect(approver.locator("#history")).to_contain_text("人工归并")

            steward.goto(f"{served}/customers/{multi}")
            steward.locator("#records input[name=records]").last.check()
            steward.fill("#split-form input[name=reason]", "理赔系统错录证件号")
            steward.click("[data-action=split]")
            expect(steward.locator(".flash-success")).to_contain_text("等待审核员批准")
            approver.goto(f"{served}/customers/{multi}")
            approver.click("#pending [data-action=approve]")
            expect(approver.locator("#manual-override")).to_be_visible()
            expect(approver.locator("#flags")).to_contain_text("steward1")
        finally:
            browser.close()
    links = _q(xss_store, "SELECT count(DISTINCT customer_no) AS n FROM customer WHERE "
                          "customer_no IN (:a, :b) AND status = 'active'", {"a": a, "b": b})
    assert links["n"].iloc[0] == 1
    split = _q(xss_store, "SELECT created_by, approved_by, before FROM merge_event WHERE "
                          "event_type = 'manual_split' ORDER BY id DESC").iloc[0].tolist()
    assert split[:2] == ["steward1", "approver1"] and multi in split[2]  # the newest
