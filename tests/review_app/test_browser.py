"""One real browser (Debian's headless Chromium through Playwright) against a real
``ecif serve`` process on the demo-like store, SQLite and PostgreSQL: a steward
logs in, takes the next task and merges it with the keyboard alone (two keys);
an approver approves it from the same task page (one key); the store shows one
customer for the task's records."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.store.helpers import query

CHROMIUM = Path("/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(demo_url: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "ECIF_DATABASE_URL": demo_url, "ECIF_SECRET_KEY": "browser-test"}
    proc = subprocess.Popen([sys.executable, "-m", "ecif.cli", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(proc.stderr.read().decode() if proc.stderr
                                       else "the server died") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


def _chromium() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs {CHROMIUM} (.ci/run installs it)")
        pytest.skip(f"{CHROMIUM} missing (apt-get install -y chromium fonts-noto-cjk)")
    return CHROMIUM


def test_a_steward_works_a_task_by_keyboard_and_an_approver_approves(
        server: str, demo_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    from models.db import make_engine

    chromium = _chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True,
                                    args=["--no-sandbox"])
        try:
            steward = browser.new_context(locale="zh-CN").new_page()
            steward.goto(server + "/login")
            # autofocus may land after the load event on a busy machine: wait for it
            # (it is part of what is tested) before typing, or the first keys are lost
            expect(steward.locator("input[name=username]")).to_be_focused()
            steward.keyboard.type("steward1")
            steward.keyboard.press("Tab")
            steward.keyboard.type("demo-steward1")
            steward.keyboard.press("Enter")
            steward.wait_for_url(server + "/tasks")
            first = steward.locator("[data-task-id]").first
            expect(first).to_be_visible()
            top = int(first.get_attribute("data-task-id") or 0)

            steward.keyboard.press("n")  # 1: claim the next task and open it
            steward.wait_for_url(f"{server}/tasks/{top}")
            expect(steward.locator("#claimed-by")).to_have_text("steward1")
            expect(steward.locator("mark.diff").first).to_be_attached()
            steward.keyboard.press("m")  # 2: merge all its records (waits for approval)
            expect(steward.locator("#pending-request")).to_be_visible()
            expect(steward.locator("[data-action=approve]")).to_have_count(0)

            approver = browser.new_context(locale="zh-CN").new_page()
            approver.goto(server + "/login")
            approver.fill("input[name=username]", "approver1")
            approver.fill("input[name=password]", "demo-approver1")
            approver.keyboard.press("Enter")
            approver.wait_for_url(server + "/tasks")
            approver.goto(f"{server}/tasks/{top}")
            expect(approver.locator("[data-action=approve]")).to_be_visible()
            approver.keyboard.press("a")  # 3: approve
            expect(approver.locator("#task-status")).to_have_text("已关闭")
        finally:
            browser.close()
    engine = make_engine(demo_url)
    try:
        customers = query(engine, "SELECT count(DISTINCT l.customer_no) AS n FROM task_member m "
                                  "JOIN link l ON l.record_id = m.record_id WHERE m.task_id = :t",
                          {"t": top})
        approved = query(engine, "SELECT requested_by, decided_by, status FROM change_request "
                                 "WHERE task_id = :t", {"t": top})
    finally:
        engine.dispose()
    assert customers["n"].iloc[0] == 1
    assert approved.values.tolist() == [["steward1", "approver1", "approved"]]
