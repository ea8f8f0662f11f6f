"""`ecif batch` on hand-made nights: strong rules, stable numbers and tombstones,
steward decisions obeyed, identity changes re-matched, tasks opened, refreshed
and closed, the change feed, golden records, invariants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from ecif.ingest import ingest_files
from ecif.invariants import check_invariants
from tests.store.helpers import batch, decide, links, org, person, query, rid, write_csv

ZHANG = rid("11010119900307001")
WANG = rid("31010419851212002")
LI = rid("44030519700101003")


def night(store: Engine, tmp_path: Path, name: str, rows: list[dict[str, str]]) -> None:
    ingest_files(store, [write_csv(tmp_path / f"{name}.csv", rows)], workers=1)


def test_strong_rule_links_a_new_record_to_the_existing_customer(
        store: Engine, tmp_path: Path, sample_models: Path) -> None:
    night(store, tmp_path, "n1", [person("CORE", "C1", "张伟", ZHANG),
                                  person("UW", "U1", "王芳", WANG)])
    first = batch(store, sample_models)
    numbers = links(store)
    assert numbers["CORE:C1"] != numbers["UW:U1"]
    assert first.counts["merge.customers_created"] == 2
    night(store, tmp_path, "n2", [person("CLAIM", "K1", "張偉", ZHANG)])
    batch(store, sample_models)
    after = links(store)
    assert after["CLAIM:K1"] == after["CORE:C1"] == numbers["CORE:C1"]  # number kept
    assert after["UW:U1"] == numbers["UW:U1"]
    kind = query(store, "SELECT l.link_type, l.rule FROM link l JOIN source_record s "
                        "ON s.id = l.record_id WHERE s.record_key = 'CLAIM:K1'").iloc[0]
    assert kind["link_type"] == "auto_rule" and kind["rule"].startswith("same_resident_id")
    assert check_invariants_ok(store)


def check_invariants_ok(store: Engine) -> bool:
    with store.connect() as conn:
        problems = check_invariants(conn)
    assert problems == []
    return True


def test_must_link_merges_and_leaves_a_tombstone_in_the_change_feed(
        store: Engine, tmp_path: Path, sample_models: Path) -> None:
    night(store, tmp_path, "n1", [person("CORE", "C1", "张伟", ZHANG),
                                  person("CORE", "C2", "章卫", LI),
                                  person("WEB", "W1", "章卫", LI)])
    batch(store, sample_models)
    before = links(store)
    a, b = before["CORE:C1"], before["CORE:C2"]
    assert a != b
    with store.begin() as conn:
        decide(conn, "must_link", "CORE:C1", "CORE:C2", "steward1", reason="同一客户")
    run = batch(store, sample_models)
    after = links(store)
    assert after["CORE:C1"] == after["CORE:C2"] == after["WEB:W1"]
    survivor = after["CORE:C1"]
    loser = b if survivor == a else a
    assert survivor == b  # the customer holding two records keeps its number
    tomb = query(store, "SELECT status, merged_into FROM customer WHERE customer_no = :n",
                 {"n": loser}).iloc[0]
    assert (tomb["status"], tomb["merged_into"]) == ("merged", survivor)
    feed = query(store, "SELECT change_type, customer_no, related_customer_no, run_id "
                        "FROM customer_change")
    assert feed.to_dict("records") == [{"change_type": "merged_into", "customer_no": loser,
                                        "related_customer_no": survivor,
                                        "run_id": run.run_id}]
    event = query(store, "SELECT event_type, before, after, rule FROM merge_event").iloc[0]
    assert event["event_type"] == "merge" and event["rule"] == "steward"
    assert json.loads(event["before"]) == {a: ["CORE:C1"], b: ["CORE:C2", "WEB:W1"]}
    assert json.loads(event["after"]) == {survivor: ["CORE:C1", "CORE:C2", "WEB:W1"]}
    check_invariants_ok(store)


def test_cannot_link_splits_and_the_larger_part_keeps_the_number(
        store: Engine, tmp_path: Path, sample_models: Path) -> None:
    night(store, tmp_path, "n1", [person("CORE", "C1", "张伟", ZHANG),
                                  person("CLAIM", "K1", "张伟", ZHANG),
                                  person("UW", "U1", "张伟", ZHANG)])
    batch(store, sample_models)
    before = links(store)
    assert len(set(before.values())) == 1
    number = before["CORE:C1"]
    with store.begin() as conn:
        decide(conn, "cannot_link", "CORE:C1", "UW:U1", "steward1")
        decide(conn, "cannot_link", "CLAIM:K1", "UW:U1", "steward1")
    batch(store, sample_models)
    after = links(store)
    assert after["CORE:C1"] == after["CLAIM:K1"] == number
    assert after["UW:U1"] != number
    feed = query(store, "SELECT change_type, customer_no, related_customer_no "
                        "FROM customer_change").to_dict("records")
    assert feed == [{"change_type": "split_from", "customer_no": after["UW:U1"],
                     "related_customer_no": number}]
    # and every later batch obeys it
    night(store, tmp_path, "n3", [person("FIN", "F1", "张伟", ZHANG)])
    batch(store, sample_models)
    assert links(store)["UW:U1"] != links(store)["CORE:C1"]
    check_invariants_ok(store)


def test_identity_change_is_matched_again(store: Engine, tmp_path: Path,
                                          sample_models: Path) -> None:
    night(store, tmp_path, "n1", [person("CORE", "C1", "张伟", ZHANG),
                                  person("CLAIM", "K1", "张伟", ZHANG)])
    batch(store, sample_models)
    number = links(store)["CORE:C1"]
    assert links(store)["CLAIM:K1"] == number
    # the claims system corrects its record: another person altogether
    night(store, tmp_path, "n2", [person("CLAIM", "K1", "王芳", WANG,
                                         updated="2026-11-05T10:00:00+08:00")])
    run = batch(store, sample_models)
    assert run.counts["match.detached_identity_changed"] == 1
    after = links(store)
    assert after["CORE:C1"] == number and after["CLAIM:K1"] != number
    check_invariants_ok(store)


def test_contact_update_refreshes_golden_record_with_history(store: Engine, tmp_path: Path,
                                                            sample_models: Path) -> None:
    night(store, tmp_path, "n1", [person("CORE", "C1", "张伟", ZHANG, mobile="13800138000")])
    batch(store, sample_models)
    night(store, tmp_path, "n2", [person("CORE", "C1", "张伟", ZHANG, mobile="13900139000",
                                         updated="2026-11-03T10:00:00+08:00")])
    run = batch(store, sample_models)
    assert run.counts["match.detached_identity_changed"] == 0
    number = links(store)["CORE:C1"]
    golden = query(store, "SELECT mobile, version, id_number FROM customer "
                          "WHERE customer_no = :n", {"n": number}).iloc[0]
    assert (golden["mobile"], golden["version"], golden["id_number"]) == \
        ("13900139000", 2, ZHANG)
    history = query(store, "SELECT version, fields FROM customer_history WHERE customer_no = :n "
                           "ORDER BY version", {"n": number})
    assert history["version"].tolist() == [1, 2]
    assert json.loads(history["fields"].iloc[0])["mobile"] == "13800138000"


def test_weak_rule_task_is_refreshed_not_duplicated_and_closed_by_a_merge(
        store: Engine, tmp_path: Path, sample_models: Path) -> None:
    night(store, tmp_path, "n1", [org("CORE", "G1", "上海远航贸易有限公司", phone="021-55551234"),
                                  org("UW", "G2", "远航国际物流（上海）有限公司",
                                      phone="021-55551234")])
    first = batch(store, sample_models)
    assert first.counts["tasks.opened"] == 1
    tasks = query(store, "SELECT id, task_type, status FROM review_task")
    assert tasks[["task_type", "status"]].values.tolist() == [["org_suspect_group", "open"]]
    night(store, tmp_path, "n2", [org("WEB", "G3", "远航科技（上海）股份有限公司",
                                      phone="021-55551234")])
    second = batch(store, sample_models)
    assert second.counts["tasks.opened"] == 0 and second.counts["tasks.refreshed"] == 1
    members = query(store, "SELECT count(*) AS n FROM task_member")["n"].iloc[0]
    assert members == 3
    with store.begin() as conn:
        decide(conn, "must_link", "CORE:G1", "UW:G2", "steward1")
        decide(conn, "must_link", "CORE:G1", "WEB:G3", "steward1")
    third = batch(store, sample_models)
    assert third.counts["tasks.closed"] == 1
    assert query(store, "SELECT status FROM review_task")["status"].tolist() == ["closed"]


def test_rerun_with_nothing_new_changes_nothing(store: Engine, tmp_path: Path,
                                               sample_models: Path) -> None:
    night(store, tmp_path, "n1", [person("CORE", "C1", "张伟", ZHANG)])
    batch(store, sample_models)
    before = links(store)
    again = batch(store, sample_models)
    assert again.counts["match.records_in_scope"] == 0
    assert links(store) == before


def test_invariant_check_catches_a_broken_store(store: Engine, tmp_path: Path,
                                                sample_models: Path) -> None:
    night(store, tmp_path, "n1", [person("CORE", "C1", "张伟", ZHANG),
                                  person("UW", "U1", "王芳", WANG)])
    batch(store, sample_models)
    with store.begin() as conn:
        conn.execute(text("DELETE FROM link WHERE record_id = "
                          "(SELECT id FROM source_record WHERE record_key = 'UW:U1')"))
        assert any("linked to no customer" in p for p in check_invariants(conn))
        assert any("without records" in p for p in check_invariants(conn))


@pytest.mark.parametrize("stage", ["match"])
def test_second_batch_is_refused_while_one_runs(store: Engine, stage: str) -> None:
    from models.lock import JobBusy, job_lock

    with job_lock(store, "batch"), pytest.raises(JobBusy, match="is running"):
        with job_lock(store, "batch"):
            pass  # pragma: no cover
    with job_lock(store, "batch"):  # released: free again
        pass
