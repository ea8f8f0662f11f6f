"""The second half of the stewards' services, on SQLite and PostgreSQL: search for a
force-merge, the customer view (tombstones followed, history, flags, masking),
a force-merge -> split -> rollback round trip through maker-checker that a later
batch honours, bulk decisions, two approvers on one request, and the overview
figures checked against counts made by hand."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from ecif.invariants import check_invariants
from ecif.services import approvals, customers, search, stats
from ecif.services.base import Actor, unit_of_work
from ecif.services.customer_view import customer_view
from ecif.services.policy import load_policy
from matching.exceptions import BadInput, Conflict, NotFound
from matching.vocabulary import EventType, RequestStatus, Role, StewardAction, TaskStatus
from tests.services.conftest import (
    APPROVER,
    CONFIG,
    STEWARD,
    STEWARD2,
    WANG,
    ZHANG,
    customer_of,
    night,
    state,
)
from tests.store.helpers import batch, org, person, query

POLICY = load_policy(CONFIG)  # merge, force-merge, split, rollback need approval
APPROVER2 = Actor("approver2", Role.APPROVER)


def _ok(store: Engine) -> None:
    with store.connect() as conn:
        assert check_invariants(conn) == []


def _approve(store: Engine, request_id: int | None, who: Actor = APPROVER) -> Any:
    assert request_id is not None
    with unit_of_work(store) as conn:
        return approvals.approve(conn, request_id, actor=who, config_dir=CONFIG)


def test_search_by_name_id_mobile_and_number_and_the_customer_view(people: Engine) -> None:
    of = customer_of(people)
    zhang, u1, w1 = of("CORE:C1"), of("UW:U1"), of("WEB:W1")
    with people.connect() as conn:
        def nos(text: str, **kw: Any) -> list[str]:
            return [h.customer_no for h in search.search_customers(conn, text, **kw)]

        assert sorted(nos("王芳")) == sorted([u1, w1])
        assert nos("王") and set(nos("王")) == {u1, w1}  # a prefix: the surname alone
        assert nos("张伟") == [zhang]
        assert nos("張偉") == [zhang]  # the claims system's record, as keyed
        assert nos(ZHANG) == [zhang]
        assert nos(ZHANG[:10], field_name="id") == [zhang]
        assert nos(f"{WANG[:6]} {WANG[6:14]}-{WANG[14:]}") == [u1]  # as keyed, spaced
        assert nos("139 1111 2222") == [w1]  # the mobile, with spaces
        assert nos("+8613911112222") == [w1]
        assert nos(zhang) == [zhang]
        hit = search.search_customers(conn, "王芳", field_name="name")[0]
        assert hit.matched == ["name"] and hit.customer_type == "P"
        assert nos("王芳", customer_type="G") == []
        assert nos("李") == []
        with pytest.raises(BadInput, match="type a name"):
            search.search_customers(conn, "  ")
        with pytest.raises(BadInput, match="field"):
            search.search_customers(conn, "王", field_name="address")
    _customer_view_masks_pii_and_keeps_the_trail(people)  # on the same store


def test_force_merge_split_rollback_through_approval_and_a_later_batch(
        people: Engine, tmp_path: Path, sample_models: Path) -> None:
    of = customer_of(people)
    u1, w1 = of("UW:U1"), of("WEB:W1")
    before = state(people)
    with people.connect() as conn:
        found = [h.customer_no for h in search.search_customers(conn, "王芳")]
        seen = customers.customers_fingerprint(conn, found)
    with unit_of_work(people) as conn:
        asked = approvals.submit(conn, StewardAction.FORCE_MERGE, {"customers": found},
                                 actor=STEWARD, policy=POLICY, config_dir=CONFIG,
                                 reason="电话核实为同一人", seen=seen)
    assert asked.pending and of("UW:U1") != of("WEB:W1")
    merged = _approve(people, asked.request_id)
    survivor = merged.customer_no
    assert of("UW:U1") == of("WEB:W1") == survivor
    gone = w1 if survivor == u1 else u1
    with people.connect() as conn:  # the tombstone's page is the survivor's
        view = customer_view(conn, gone, pii=True)
        assert view.chain == [gone, survivor]
        assert view.customer["customer_no"] == survivor
        assert {r["record_key"] for r in view.records} == {"UW:U1", "WEB:W1"}
        event = view.events[0]
        assert (event["event_type"], event["created_by"], event["approved_by"],
                event["reason"]) == (EventType.MANUAL_MERGE, "steward1", "approver1",
                                     "电话核实为同一人")
        assert event["rollbackable"] and gone in view.tombstones
        seen = view.fingerprint
    # split the claims record out of 张伟 (joined by the batch's strong rule)
    zhang = of("CORE:C1")
    with people.connect() as conn:
        seen = customer_view(conn, zhang, pii=True).fingerprint
    with unit_of_work(people) as conn:
        asked = approvals.submit(conn, StewardAction.SPLIT,
                                 {"customer_no": zhang, "records": ["CLAIM:K1"]},
                                 actor=STEWARD2, policy=POLICY, config_dir=CONFIG,
                                 reason="理赔系统错录证件号", seen=seen)
    assert asked.pending and of("CLAIM:K1") == zhang
    split = _approve(people, asked.request_id)
    assert of("CORE:C1") == zhang and of("CLAIM:K1") == split.new_customer_no != zhang
    with people.connect() as conn:
        flagged = customer_view(conn, zhang, pii=True)
        assert flagged.manual_override
        assert flagged.flags[0]["other_customer_no"] == split.new_customer_no
        assert flagged.flags[0]["created_by"] == "steward2"
        assert flagged.flags[0]["approved_by"] == "approver1"
        assert customer_view(conn, split.new_customer_no, pii=True).manual_override
    # a later night sends the claims record again, the strong rule would join it: the
    # split holds, and the force-merge too
    night(people, tmp_path, "n2", [
        person("CLAIM", "K1", "張偉", ZHANG, mobile="13800138000",
               updated="2026-11-02T10:00:00+08:00"),
        person("WEB", "W1", "王芳", mobile="13911112222", birth="1985-12-12",
               updated="2026-11-02T10:00:00+08:00")])
    batch(people, sample_models)
    assert of("CLAIM:K1") != of("CORE:C1") and of("UW:U1") == of("WEB:W1")
    _ok(people)
    # roll back the split and the merge from the customers' histories, through approval
    with people.connect() as conn:
        split_event = next(e for e in customer_view(conn, zhang, pii=True).events
                           if e["event_type"] == EventType.MANUAL_SPLIT)
        merge_event = next(e for e in customer_view(conn, survivor, pii=True).events
                           if e["event_type"] == EventType.MANUAL_MERGE)
    for event in (split_event, merge_event):
        assert event["rollbackable"]
        with unit_of_work(people) as conn:
            asked = approvals.submit(conn, StewardAction.ROLLBACK, {"event_id": event["id"]},
                                     actor=STEWARD, policy=POLICY, config_dir=CONFIG,
                                     reason="回退", seen=event["fingerprint"])
        _approve(people, asked.request_id)
    after = state(people)
    assert after["links"] == before["links"]
    assert of("UW:U1") == u1 and of("WEB:W1") == w1 and of("CLAIM:K1") == zhang
    with people.connect() as conn:
        assert not customer_view(conn, zhang, pii=True).manual_override
    _ok(people)
    _audit_export_holds_every_step(people, tmp_path)


def _audit_export_holds_every_step(store: Engine, tmp_path: Path) -> None:
    """`ecif export audit --since TS --out F`: who asked, who approved, what changed."""
    import pandas as pd
    from click.testing import CliRunner

    from ecif.cli import main

    out = tmp_path / "audit.csv"
    url = store.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, ["export", "audit", "--since", "2000-01-01", "--out",
                                       str(out)], env={"ECIF_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(rows.columns) == ["audit_id", "at", "actor", "action", "object_type",
                                  "object_id", "before", "after", "detail"]
    asked = rows[rows["action"].eq("change_requested")]
    assert asked["actor"].tolist() == ["steward1", "steward2", "steward1", "steward1"]
    assert "force_merge" in asked["after"].iloc[0] and "电话核实为同一人" in asked["detail"].iloc[0]
    approved = rows[rows["action"].eq("change_approved")]
    assert approved["actor"].tolist() == ["approver1"] * 4
    changes = rows[rows["action"].isin(["customers_merged", "customer_split",
                                        "event_rolled_back"])]
    assert changes["action"].tolist() == ["customers_merged", "customer_split",
                                          "event_rolled_back", "event_rolled_back"]
    assert all(changes["before"].str.len() > 2) and all(changes["after"].str.len() > 2)


def _customer_view_masks_pii_and_keeps_the_trail(people: Engine) -> None:
    of = customer_of(people)
    zhang = of("CORE:C1")
    with people.connect() as conn:
        shown = customer_view(conn, zhang, pii=True)
        masked = customer_view(conn, zhang, pii=False)
        with pytest.raises(NotFound):
            customer_view(conn, "NOPE", pii=True)
    assert shown.customer["id_number"] == ZHANG
    assert masked.customer["id_number"] == ZHANG[:3] + "*" * 11 + ZHANG[-4:]
    assert masked.customer["mobile"] == "138****8000"
    assert all(ZHANG not in str(r) and "13800138000" not in str(r) for r in masked.records)
    assert all(ZHANG not in str(h) for h in masked.history)
    assert [h["version"] for h in shown.history] == list(range(len(shown.history), 0, -1))
    assert shown.history[-1]["changed"] == []
    assert not shown.manual_override and shown.chain == [zhang]


def _two_org_tasks(store: Engine, tmp_path: Path, sample_models: Path) -> list[int]:
    night(store, tmp_path, "n1", [
        org("CORE", "G1", "上海远航贸易有限公司", phone="021-55551234"),
        org("UW", "G2", "远航国际物流（上海）有限公司", phone="021-55551234"),
        org("CORE", "G3", "北京华信科技有限公司", phone="010-66667777"),
        org("UW", "G4", "华信数据服务（北京）有限公司", phone="010-66667777"),
    ])
    batch(store, sample_models)
    ids = query(store, "SELECT id FROM review_task WHERE status = 'open' ORDER BY id")
    return [int(t) for t in ids["id"]]


def test_bulk_decision_goes_through_approval_and_names_what_it_refused(
        store: Engine, tmp_path: Path, sample_models: Path) -> None:
    task_ids = _two_org_tasks(store, tmp_path, sample_models)
    assert len(task_ids) == 2
    with unit_of_work(store) as conn:
        with pytest.raises(BadInput, match="reason"):
            approvals.submit_bulk(conn, StewardAction.MERGE, task_ids, actor=STEWARD,
                                  policy=POLICY, config_dir=CONFIG, reason=" ")
        with pytest.raises(BadInput, match="in bulk only"):
            approvals.submit_bulk(conn, StewardAction.SPLIT, task_ids, actor=STEWARD,
                                  policy=POLICY, config_dir=CONFIG, reason="x")
        with pytest.raises(NotFound):
            approvals.submit_bulk(conn, StewardAction.MERGE, [*task_ids, 999], actor=STEWARD,
                                  policy=POLICY, config_dir=CONFIG, reason="x")
    # a task another steward is working on is refused, and nothing else is done
    from ecif.services import tasks

    with unit_of_work(store) as conn:
        tasks.claim(conn, task_ids[1], STEWARD2, POLICY)
        held = approvals.submit_bulk(conn, StewardAction.MERGE, [task_ids[1]], actor=STEWARD,
                                     policy=POLICY, config_dir=CONFIG, reason="x")
        assert "claimed by steward2" in held.refused[task_ids[1]] and not held.done
        tasks.release(conn, task_ids[1], STEWARD2)
    # the first task is already waiting: it is refused, the second goes ahead
    with unit_of_work(store) as conn:
        approvals.submit(conn, StewardAction.MERGE, {"task_id": task_ids[0]}, actor=STEWARD2,
                         policy=POLICY, config_dir=CONFIG)
    with unit_of_work(store) as conn:
        outcome = approvals.submit_bulk(conn, StewardAction.MERGE, task_ids, actor=STEWARD,
                                        policy=POLICY, config_dir=CONFIG, reason="同址同电话")
    assert list(outcome.refused) == [task_ids[0]] and "waits for approval" in \
        outcome.refused[task_ids[0]]
    assert outcome.done[task_ids[1]].pending
    requests = query(store, "SELECT task_id, status, requested_by, reason FROM change_request "
                            "ORDER BY id").values.tolist()
    assert requests == [[task_ids[0], RequestStatus.PENDING, "steward2", None],
                        [task_ids[1], RequestStatus.PENDING, "steward1", "同址同电话"]]
    # not-duplicate needs no approval: applied at once on the free task
    with unit_of_work(store) as conn:
        approvals.withdraw(conn, int(query(store, "SELECT id FROM change_request WHERE "
                                                  "task_id = :t", {"t": task_ids[0]})["id"]
                                     .iloc[0]), actor=STEWARD2)
        outcome = approvals.submit_bulk(conn, StewardAction.NOT_DUPLICATE, task_ids,
                                        actor=STEWARD, policy=POLICY, config_dir=CONFIG,
                                        reason="不同企业")
    assert list(outcome.done) == [task_ids[0]] and not outcome.done[task_ids[0]].pending
    status = query(store, "SELECT status FROM review_task WHERE id = :t", {"t": task_ids[0]})
    assert status["status"].iloc[0] == TaskStatus.CLOSED
    _ok(store)


def test_two_approvers_on_one_request_one_wins(orgs: Engine) -> None:
    task = int(query(orgs, "SELECT id FROM review_task")["id"].iloc[0])
    with unit_of_work(orgs) as conn:
        asked = approvals.submit(conn, StewardAction.MERGE, {"task_id": task}, actor=STEWARD,
                                 policy=POLICY, config_dir=CONFIG, reason="同一企业")
    assert asked.request_id is not None
    start = threading.Barrier(2)
    outcome: dict[str, Any] = {}

    def decide(actor: Actor, approve: bool) -> None:
        start.wait()
        try:
            with unit_of_work(orgs) as conn:
                if approve:
                    approvals.approve(conn, asked.request_id or 0, actor=actor,
                                      config_dir=CONFIG)
                else:
                    approvals.reject(conn, asked.request_id or 0, actor=actor,
                                     reason="名称不同")
            outcome[actor.name] = "done"
        except Conflict as exc:
            outcome[actor.name] = exc

    threads = [threading.Thread(target=decide, args=(APPROVER, True)),
               threading.Thread(target=decide, args=(APPROVER2, False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(isinstance(v, Conflict) for v in outcome.values()) == [False, True], outcome
    loser = next(v for v in outcome.values() if isinstance(v, Conflict))
    assert "already" in str(loser)
    winner = next(k for k, v in outcome.items() if v == "done")
    req = query(orgs, "SELECT status, decided_by FROM change_request").iloc[0].tolist()
    events = int(query(orgs, "SELECT count(*) AS n FROM merge_event")["n"].iloc[0])
    if winner == APPROVER.name:
        assert req == [RequestStatus.APPROVED, "approver1"] and events == 1
    else:
        assert req == [RequestStatus.REJECTED, "approver2"] and events == 0
    _ok(orgs)


def test_overview_figures_match_what_happened(
        store: Engine, tmp_path: Path, sample_models: Path) -> None:
    task_ids = _two_org_tasks(store, tmp_path, sample_models)
    with store.connect() as conn:
        counts = stats.task_counts(conn, POLICY)
    assert counts == {"waiting": 0, "claimed": 0, "free": 2, "closed": 0, "open": 2,
                      "pending_requests": 0}
    from ecif.services import tasks

    with unit_of_work(store) as conn:
        tasks.claim(conn, task_ids[0], STEWARD, POLICY)
        first = approvals.submit(conn, StewardAction.MERGE, {"task_id": task_ids[0]},
                                 actor=STEWARD, policy=POLICY, config_dir=CONFIG)
        tasks.claim(conn, task_ids[1], STEWARD2, POLICY)
        approvals.submit(conn, StewardAction.NOT_DUPLICATE, {"task_id": task_ids[1]},
                         actor=STEWARD2, policy=POLICY, config_dir=CONFIG)
    with unit_of_work(store) as conn:
        approvals.reject(conn, first.request_id or 0, actor=APPROVER, reason="证据不足")
    with unit_of_work(store) as conn:  # steward2 judges the first pair too, the other way
        again = approvals.submit(conn, StewardAction.MERGE, {"task_id": task_ids[0]},
                                 actor=STEWARD2, policy=POLICY, config_dir=CONFIG)
        approvals.approve(conn, again.request_id or 0, actor=APPROVER, config_dir=CONFIG)
    with store.connect() as conn:
        view = stats.overview(conn, POLICY, days=7)
    assert view["counts"]["closed"] == 2 and view["counts"]["open"] == 0
    today = view["backlog"][-1]
    assert (today["opened"], today["closed"], today["open"]) == (2, 2, 0)
    # decisions: steward1 asked once; steward2 decided twice; approver1 rejected, approved
    assert view["decisions"][-1]["decisions"] == 5
    people = {p["name"]: p for p in view["reviewers"]["people"]}
    assert people["steward1"]["decisions"] == 1 and people["steward2"]["decisions"] == 2
    assert people["approver1"]["decisions"] == 2
    assert people["steward1"]["rejection_rate"] == 1.0
    assert people["steward2"]["approval_rate"] == 1.0
    assert people["steward1"]["median_seconds"] is not None
    assert people["steward1"]["median_seconds"] >= 0
    agreement = view["reviewers"]["agreement"]
    assert agreement["pairs"] == 0  # no pair was judged by two people yet
    # steward1 judges the pair steward2 called different as one: a disagreement
    with unit_of_work(store) as conn:
        from tests.store.helpers import decide

        decide(conn, "must_link", "CORE:G3", "UW:G4", by="steward1", check=False)
    with store.connect() as conn:
        agreement = stats.reviewer_stats(conn, days=7)["agreement"]
    assert (agreement["pairs"], agreement["agreed"], agreement["rate"]) == (1, 0, 0.0)
    assert agreement["by_people"] == [{"a": "steward1", "b": "steward2", "pairs": 1,
                                       "agreed": 0, "rate": 0.0}]
