"""The review task life cycle and maker-checker (审核), through the services, on
SQLite and PostgreSQL: claims expire, stale work is refused, a steward's merge
waits for an approver who is not the steward, a rejection never takes effect,
not-duplicate closes the task for good."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from ecif.services import approvals, tasks
from ecif.services.base import unit_of_work
from ecif.services.policy import ReviewPolicy, load_policy
from matching.exceptions import BadInput, Busy, Conflict, Forbidden
from matching.vocabulary import RequestStatus, StewardAction, TaskStatus
from models.base import utcnow
from models.lock import job_lock
from models.task import ReviewTask
from tests.services.conftest import (
    APPROVER,
    CONFIG,
    STEWARD,
    STEWARD2,
    VIEWER,
    customer_of,
    night,
    open_task,
)
from tests.store.helpers import batch, org, query

POLICY = load_policy(CONFIG)


def test_claim_holds_then_expires_and_next_takes_the_free_task(orgs: Engine) -> None:
    task = open_task(orgs)
    with unit_of_work(orgs) as conn:
        tasks.claim(conn, task, STEWARD, POLICY)
    with unit_of_work(orgs) as conn, pytest.raises(Conflict, match="claimed by steward1"):
        tasks.claim(conn, task, STEWARD2, POLICY)
    with unit_of_work(orgs) as conn:
        assert tasks.next_task(conn, STEWARD2, POLICY) is None  # the only task is held
    with unit_of_work(orgs) as conn:  # an hour later the claim has lapsed
        conn.execute(update(ReviewTask).values(locked_at=utcnow() - timedelta(hours=1)))
    with unit_of_work(orgs) as conn:
        assert tasks.next_task(conn, STEWARD2, POLICY) == task
    with unit_of_work(orgs) as conn, pytest.raises(Forbidden, match="claimed by steward2"):
        tasks.release(conn, task, STEWARD)
    with unit_of_work(orgs) as conn:
        tasks.release(conn, task, STEWARD2)
        tasks.comment(conn, task, STEWARD, "电话一致，名称不同，待核实")
    with unit_of_work(orgs) as conn, pytest.raises(BadInput, match="some text"):
        tasks.comment(conn, task, STEWARD, "   ")
    with unit_of_work(orgs) as conn, pytest.raises(Forbidden, match="viewer"):
        tasks.claim(conn, task, VIEWER, POLICY)
    actions = query(orgs, "SELECT actor, action FROM audit_log WHERE object_type = "
                          "'review_task' ORDER BY id")["action"].tolist()
    assert actions == ["task_claimed", "task_claimed", "task_released", "task_commented"]


def test_a_merge_waits_for_an_approver_who_is_not_the_steward(orgs: Engine) -> None:
    of = customer_of(orgs)
    task = open_task(orgs)
    with orgs.connect() as conn:
        seen = tasks.task_fingerprint(conn, task)
    with unit_of_work(orgs) as conn:
        asked = approvals.submit(conn, StewardAction.MERGE, {"task_id": task}, actor=STEWARD,
                                 policy=POLICY, config_dir=CONFIG, reason="同一企业",
                                 seen=seen)
    assert asked.pending and asked.request_id is not None
    assert of("CORE:G1") != of("UW:G2")  # nothing happened yet
    with unit_of_work(orgs) as conn, pytest.raises(Conflict, match="waits for approval"):
        approvals.submit(conn, StewardAction.NOT_DUPLICATE, {"task_id": task},
                         actor=STEWARD2, policy=POLICY, config_dir=CONFIG)
    with unit_of_work(orgs) as conn, pytest.raises(Forbidden, match="nobody approves"):
        approvals.approve(conn, asked.request_id, actor=STEWARD.__class__(
            "steward1", APPROVER.role), config_dir=CONFIG)
    with unit_of_work(orgs) as conn, pytest.raises(Forbidden, match="steward"):
        approvals.approve(conn, asked.request_id, actor=STEWARD2, config_dir=CONFIG)
    with unit_of_work(orgs) as conn:
        result = approvals.approve(conn, asked.request_id, actor=APPROVER, config_dir=CONFIG)
    assert of("CORE:G1") == of("UW:G2") == result.customer_no
    event = query(orgs, "SELECT created_by, approved_by, task_id FROM merge_event").iloc[0]
    assert event.tolist() == ["steward1", "approver1", task]
    status = query(orgs, "SELECT status, close_reason FROM review_task").iloc[0]
    assert status["status"] == TaskStatus.CLOSED
    req = query(orgs, "SELECT status, decided_by FROM change_request").iloc[0]
    assert req.tolist() == [RequestStatus.APPROVED, "approver1"]
    with unit_of_work(orgs) as conn, pytest.raises(Conflict, match="already approved"):
        approvals.approve(conn, asked.request_id, actor=APPROVER, config_dir=CONFIG)


def test_a_rejected_change_never_takes_effect(orgs: Engine) -> None:
    of = customer_of(orgs)
    task = open_task(orgs)
    with unit_of_work(orgs) as conn:
        asked = approvals.submit(conn, StewardAction.MERGE, {"task_id": task}, actor=STEWARD,
                                 policy=POLICY, config_dir=CONFIG)
    assert asked.request_id is not None
    with unit_of_work(orgs) as conn, pytest.raises(BadInput, match="reason"):
        approvals.reject(conn, asked.request_id, actor=APPROVER, reason=" ")
    with unit_of_work(orgs) as conn:
        approvals.reject(conn, asked.request_id, actor=APPROVER, reason="名称与地址均不同")
    assert of("CORE:G1") != of("UW:G2")
    assert query(orgs, "SELECT status FROM review_task")["status"].tolist() == [TaskStatus.OPEN]


def test_stale_requests_and_pages_are_refused(orgs: Engine, tmp_path: Path,
                                              sample_models: Path) -> None:
    task = open_task(orgs)
    with orgs.connect() as conn:
        seen = tasks.task_fingerprint(conn, task)
    with unit_of_work(orgs) as conn:
        asked = approvals.submit(conn, StewardAction.MERGE, {"task_id": task}, actor=STEWARD,
                                 policy=POLICY, config_dir=CONFIG)
    assert asked.request_id is not None
    # a batch runs meanwhile: a third company on the same landline joins the task
    night(orgs, tmp_path, "n2", [org("WEB", "G3", "远航科技（上海）股份有限公司",
                                     phone="021-55551234")])
    batch(orgs, sample_models)
    assert open_task(orgs) == task
    with unit_of_work(orgs) as conn, pytest.raises(Conflict, match="stale"):
        approvals.approve(conn, asked.request_id, actor=APPROVER, config_dir=CONFIG)
    with unit_of_work(orgs) as conn:
        approvals.reject(conn, asked.request_id, actor=APPROVER, reason="任务已变化")
    with unit_of_work(orgs) as conn, pytest.raises(Conflict, match="changed since"):
        approvals.submit(conn, StewardAction.NOT_DUPLICATE, {"task_id": task}, actor=STEWARD,
                         policy=POLICY, config_dir=CONFIG, seen=seen)
    assert query(orgs, "SELECT count(*) AS n FROM decision")["n"].iloc[0] == 0


def test_not_duplicate_closes_the_task_and_the_batch_does_not_ask_again(
        orgs: Engine, tmp_path: Path, sample_models: Path) -> None:
    of = customer_of(orgs)
    task = open_task(orgs)
    with unit_of_work(orgs) as conn:
        done = approvals.submit(conn, StewardAction.NOT_DUPLICATE, {"task_id": task},
                                actor=STEWARD, policy=POLICY, config_dir=CONFIG,
                                reason="不同企业，共用总机")
    assert not done.pending  # not-duplicate needs no approval by default
    assert query(orgs, "SELECT status FROM review_task")["status"].tolist() == [
        TaskStatus.CLOSED]
    night(orgs, tmp_path, "n2", [org("UW", "G2", "远航国际物流（上海）有限公司",
                                     phone="021-55551234",
                                     updated="2026-11-02T10:00:00+08:00")])
    batch(orgs, sample_models)
    assert of("CORE:G1") != of("UW:G2")
    assert query(orgs, "SELECT count(*) AS n FROM review_task WHERE status = :s",
                 {"s": TaskStatus.OPEN})["n"].iloc[0] == 0


def test_bad_requests_name_the_field(orgs: Engine) -> None:
    def ask(action: str, payload: dict[str, object]) -> None:
        with unit_of_work(orgs) as conn:
            approvals.submit(conn, action, payload, actor=STEWARD, policy=POLICY,
                             config_dir=CONFIG)

    with pytest.raises(BadInput) as bad:
        ask("smash", {})
    assert bad.value.fields == {"action": "unknown"}
    with pytest.raises(BadInput) as bad:
        ask(StewardAction.MERGE, {"task_id": "7"})
    assert "task_id" in bad.value.fields
    with pytest.raises(BadInput) as bad:
        ask(StewardAction.SPLIT, {"customer_no": "C0000000001", "records": "CORE:G1"})
    assert "records" in bad.value.fields


def test_no_change_is_made_while_the_batch_runs(orgs: Engine) -> None:
    task = open_task(orgs)
    with job_lock(orgs, "batch"), pytest.raises(Busy, match="batch"):
        with unit_of_work(orgs) as conn:
            tasks.claim(conn, task, STEWARD, ReviewPolicy())


def test_a_decision_on_a_task_claimed_by_another_is_refused(orgs: Engine) -> None:
    task = open_task(orgs)
    with unit_of_work(orgs) as conn:
        tasks.claim(conn, task, STEWARD, POLICY)
    with unit_of_work(orgs) as conn, pytest.raises(Conflict, match="claimed by steward1"):
        tasks.refuse_held_by_other(conn, task, STEWARD2, POLICY)
    with unit_of_work(orgs) as conn:
        tasks.refuse_held_by_other(conn, task, STEWARD, POLICY)  # the claimer may
        conn.execute(update(ReviewTask).values(locked_at=utcnow() - timedelta(hours=1)))
    with unit_of_work(orgs) as conn:
        tasks.refuse_held_by_other(conn, task, STEWARD2, POLICY)  # the claim lapsed
