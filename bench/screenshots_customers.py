"""Screenshots of the customer pages for docs/review-app.md
(docs/img/review-customer.png, review-search.png, review-overview.png).

    .venv/bin/python bench/screenshots_customers.py [--out docs/img]

The demo store of ``bench/screenshots.py`` (the sample's two nights, the demo
accounts), served by ``ecif serve``, driven by Debian's headless Chromium: the
search for a common surname, a customer the batch merged after the steward
split one record out of it and the approver approved (history, flag, trail),
and the overview after those decisions.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench.screenshots import ROOT, build_store, login, serve  # noqa: E402
from ecif.bulk import read_frame  # noqa: E402
from models.db import make_engine  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ecif-shots-customers-"))
    proc = None
    try:
        url = build_store(work)
        engine = make_engine(url)
        with engine.connect() as conn:
            multi = read_frame(conn, "SELECT customer_no FROM customer WHERE status = 'active' "
                                     "AND customer_type = 'P' AND records >= 3 ORDER BY "
                                     "version DESC, customer_no")["customer_no"].iloc[0]
        engine.dispose()
        proc, base = serve(url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=["--no-sandbox"])
            size = {"width": 1400, "height": 900}
            steward = browser.new_context(viewport=size, locale="zh-CN").new_page()
            login(steward, base, "steward1")
            steward.goto(base + "/customers/search?q=%E7%8E%8B")  # 王
            steward.screenshot(path=str(args.out / "review-search.png"))
            steward.goto(f"{base}/customers/{multi}")
            steward.locator("#records input[name=records]").last.check()
            steward.fill("#split-form input[name=reason]", "理赔系统错录证件号")
            steward.click("[data-action=split]")
            steward.wait_for_selector(".flash-success")
            approver = browser.new_context(viewport=size, locale="zh-CN").new_page()
            login(approver, base, "approver1")
            approver.goto(f"{base}/customers/{multi}")
            approver.click("#pending [data-action=approve]")
            approver.wait_for_selector("#manual-override")
            approver.screenshot(path=str(args.out / "review-customer.png"), full_page=True)
            approver.goto(base + "/overview")
            approver.screenshot(path=str(args.out / "review-overview.png"), full_page=True)
            browser.close()
        for name in ("review-search.png", "review-customer.png", "review-overview.png"):
            print(args.out / name)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
