"""One real browser (Debian's headless Chromium through Playwright) against a real
``ecif serve`` process, SQLite and PostgreSQL: a steward searches two customers
and force-merges them; an approver approves and lands on the merged customer's
page; the steward splits a record out of another customer; the approver approves
from that customer's page, which then shows the manual-override flag."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import drop_pg_database, fresh_pg_database
from tests.review_app.conftest import build_demo_store
from tests.review_app.test_browser import _chromium, _free_port
from tests.store.helpers import query


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def own_store(request: pytest.FixtureRequest, sample_models: Path,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo store of this module's own: the flow changes it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'ecif.db'}"
        build_demo_store(url, sample_models)
        yield url
        return
    server = request.getfixturevalue("pg_server")
    url, name = fresh_pg_database(server)
    try:
        build_demo_store(url, sample_models)
        yield url
    finally:
        drop_pg_database(server, name)


@pytest.fixture
def served(own_store: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "ECIF_DATABASE_URL": own_store, "ECIF_SECRET_KEY": "browser-test"}
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


def _login(browser: Any, base: str, name: str) -> Any:
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", f"demo-{name}")
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/tasks")
    return page


def test_search_force_merge_approve_customer_page_split(served: str, own_store: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    singles = _q(own_store, "SELECT customer_no FROM customer WHERE status = 'active' AND "
                            "records = 1 AND customer_type = 'P' ORDER BY customer_no")
    a, b = singles["customer_no"].iloc[0], singles["customer_no"].iloc[1]
    prefix = os.path.commonprefix([a, b])
    multi = _q(own_store, "SELECT customer_no FROM customer WHERE status = 'active' AND "
                          "records >= 2 ORDER BY customer_no")["customer_no"].iloc[0]
    chromium = _chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True,
                                    args=["--no-sandbox"])
        try:
            steward = _login(browser, served, "steward1")
            steward.click("text=客户查询")
            steward.fill("input[name=q]", prefix)
            steward.click("[data-action=search]")
            for no in (a, b):
                steward.check(f"[data-customer-no='{no}'] input[name=customers]")
            steward.fill("#force-merge-form input[name=reason]", "电话核实为同一人")
            steward.click("[data-action=force-merge]")
            steward.wait_for_url(served + "/approvals")
            expect(steward.locator(".flash-success")).to_contain_text("等待审核员批准")

            approver = _login(browser, served, "approver1")
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
    links = _q(own_store, "SELECT count(DISTINCT customer_no) AS n FROM customer WHERE "
                          "customer_no IN (:a, :b) AND status = 'active'", {"a": a, "b": b})
    assert links["n"].iloc[0] == 1
    split = _q(own_store, "SELECT created_by, approved_by FROM merge_event WHERE event_type = "
                          "'manual_split'").values.tolist()
    assert split == [["steward1", "approver1"]]
