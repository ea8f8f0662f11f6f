"""Screenshots of the review app for docs/review-app.md (docs/img/review-*.png).

    .venv/bin/python bench/screenshots.py [--out docs/img]

Builds a demo store in a temporary directory (the sample's two nights through
ingest and the batch, the demo accounts), serves it with ``ecif serve``, and
drives Debian's headless Chromium (Playwright): the queue, a task page as the
steward sees it, and the same task waiting for approval as the approver sees it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ecif.batch import run_batch  # noqa: E402
from ecif.ingest import ingest_files  # noqa: E402
from ecif.services.base import Actor, unit_of_work  # noqa: E402
from ecif.services.users import create_user  # noqa: E402
from matching.config import DEFAULT_CONFIG_DIR  # noqa: E402
from matching.engine.config import load_engine_config  # noqa: E402
from models.db import init_db, make_engine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NIGHTS = sorted((ROOT / "data" / "sample" / "nights").glob("day_*.csv"))
USERS = (("steward1", "steward"), ("approver1", "approver"), ("viewer1", "viewer"),
         ("admin1", "admin"))


def build_store(work: Path) -> str:
    url = f"sqlite:///{work / 'demo.db'}"
    engine = make_engine(url)
    init_db(engine)
    config = replace(load_engine_config(DEFAULT_CONFIG_DIR), model_dir=work / "models")
    for night in NIGHTS:
        ingest_files(engine, [night], workers=1)
        run_batch(engine, config, config_dir=DEFAULT_CONFIG_DIR, workers=1)
    with unit_of_work(engine) as conn:
        for name, role in USERS:
            create_user(conn, name, role, f"demo-{name}", actor=Actor("demo", "admin", True))
    engine.dispose()
    return url


def serve(url: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "ecif.cli", "serve", "--port", str(port)],
                            env={**os.environ, "ECIF_DATABASE_URL": url})
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return proc, base
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the server did not start")


def login(page: object, base: str, name: str) -> None:
    page.goto(base + "/login")  # type: ignore[attr-defined]
    page.fill("input[name=username]", name)  # type: ignore[attr-defined]
    page.fill("input[name=password]", f"demo-{name}")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_url(base + "/tasks")  # type: ignore[attr-defined]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ecif-shots-"))
    proc = None
    try:
        proc, base = serve(build_store(work))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=["--no-sandbox"])
            size = {"width": 1400, "height": 900}
            steward = browser.new_context(viewport=size, locale="zh-CN").new_page()
            login(steward, base, "steward1")
            steward.screenshot(path=str(args.out / "review-queue.png"))
            # a person task with a scored pair and differing names shows the diff best
            steward.goto(base + "/tasks?customer_type=P")
            steward.keyboard.press("n")
            steward.wait_for_selector("#claimed-by")
            steward.screenshot(path=str(args.out / "review-task.png"), full_page=True)
            task_url = steward.url
            steward.keyboard.press("m")
            steward.wait_for_selector("#pending-request")
            approver = browser.new_context(viewport=size, locale="zh-CN").new_page()
            login(approver, base, "approver1")
            approver.goto(task_url)
            approver.wait_for_selector("[data-action=approve]")
            approver.screenshot(path=str(args.out / "review-approve.png"))
            browser.close()
        for name in ("review-queue.png", "review-task.png", "review-approve.png"):
            print(args.out / name)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
