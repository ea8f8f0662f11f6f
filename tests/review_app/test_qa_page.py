"""The QA page (/qa): the newest QA sample's strata as a table and an SVG chart,
on a store of its own (a QA sample adds tasks to the queue other page tests
count); and a store without a sample says how to make one."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from ecif.ingest import ingest_files
from ecif.services import qa
from ecif.services.base import BATCH, Actor, unit_of_work
from ecif.services.users import create_user
from matching.engine.config import load_engine_config
from matching.vocabulary import Judgement, Role, TaskStatus
from review_app.qa import interval_rows
from tests.review_app.conftest import csrf_of, logged_in
from tests.services.conftest import STEWARD
from tests.store.helpers import batch, query

SAMPLE = Path(__file__).parents[2] / "data" / "sample" / "day_001.csv"


@pytest.fixture
def qa_app(store: Engine, sample_models: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    from review_app import create_app

    part = tmp_path / "part.csv"
    pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(600).to_csv(part, index=False)
    ingest_files(store, [part], workers=1)
    batch(store, sample_models)
    with unit_of_work(store) as conn:
        create_user(conn, "steward1", Role.STEWARD, "demo-steward1",
                    actor=Actor("test", Role.ADMIN, system=True))
    app = create_app({"ECIF_DATABASE_URL": store.url.render_as_string(False),
                      "TESTING": True})
    yield app, store, replace(load_engine_config(), model_dir=sample_models)
    from review_app.db import get_engine

    with app.app_context():
        get_engine().dispose()


def test_qa_page_without_and_with_a_sample(qa_app) -> None:  # type: ignore[no-untyped-def]
    app, store, config = qa_app
    client = logged_in(app, "steward1")
    page = client.get("/qa").get_data(as_text=True)
    assert 'id="no-sample"' in page and "ecif qa sample" in page
    got = qa.open_sample(store, config, per_band=3, actor=BATCH, seed=1)
    first = query(store, "SELECT task_id FROM qa_pair ORDER BY id")["task_id"].iloc[0]
    with unit_of_work(store) as conn:
        qa.answer(conn, int(first), True, actor=STEWARD)
    page = client.get("/qa").get_data(as_text=True)
    assert "<svg" in page and "质量抽检" in page
    for s in got.strata:
        assert page.count(f'data-stratum="{s["stratum"]}"') == 2  # chart row, table row
    assert "尚无答复" in page and page.count('class="series2"') == 1  # one stratum answered

    # the task page answers a QA task: a decision on its pair, the task closed
    second = query(store, "SELECT task_id, left_key, right_key FROM qa_pair ORDER BY id"
                   ).iloc[1]
    task_page = client.get(f"/tasks/{int(second['task_id'])}").get_data(as_text=True)
    assert 'data-action="qa-same"' in task_page and 'data-action="qa-different"' in task_page
    assert 'data-action="merge"' not in task_page
    seen = re.search(r'name="seen" value="([^"]+)"', task_page)
    assert seen
    done = client.post(f"/qa/tasks/{int(second['task_id'])}/answer",
                       data={"csrf_token": csrf_of(task_page), "seen": seen.group(1),
                             "same": "0"})
    assert done.status_code == 303
    decision = query(store, "SELECT judgement, left_key, right_key, created_by FROM decision "
                            "WHERE task_id = :t", {"t": int(second["task_id"])})
    assert decision.values.tolist() == [[Judgement.CANNOT_LINK, second["left_key"],
                                         second["right_key"], "steward1"]]
    status = query(store, "SELECT status FROM review_task WHERE id = :t",
                   {"t": int(second["task_id"])})["status"].iloc[0]
    assert status == TaskStatus.CLOSED


def test_interval_rows_put_the_interval_on_a_zero_to_one_scale() -> None:
    rows = interval_rows([{"stratum": "P/merged/0.9999-1", "rate": 0.5, "low": 0.25,
                           "high": 0.75, "answered": 4, "merged": True}])
    r = rows[0]
    assert r.x_rate is not None
    assert r.x_low < r.x_rate < r.x_high
    assert r.x_rate - r.x_low == pytest.approx(r.x_high - r.x_rate)
