"""Merge, split and rollback now, through the customer service, on SQLite and
PostgreSQL: each leaves links, numbers, tombstones, an event with its moves,
the change feed, golden records, decisions and an audit row — and every later
batch honours it. A merge + rollback and a split + rollback give the store
back as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecif.invariants import check_invariants
from ecif.services import customers
from ecif.services.base import unit_of_work
from matching.exceptions import BadInput, Conflict, Forbidden, NotFound
from matching.vocabulary import ChangeType, CustomerStatus, EventType, Judgement, LinkType
from tests.services.conftest import (
    CONFIG,
    STEWARD,
    VIEWER,
    ZHANG,
    customer_of,
    night,
    state,
)
from tests.store.helpers import batch, person, query, rid

LI = rid("44030519700101003")


def _ok(store: Engine) -> None:
    with store.connect() as conn:
        assert check_invariants(conn) == []


def test_merge_now_moves_links_leaves_a_tombstone_and_is_honoured_by_the_batch(
        people: Engine, tmp_path: Path, sample_models: Path) -> None:
    of = customer_of(people)
    u1, w1 = of("UW:U1"), of("WEB:W1")
    assert u1 != w1
    with unit_of_work(people) as conn:
        result = customers.merge(conn, [u1, w1], actor=STEWARD, config_dir=CONFIG,
                                 reason="同一人，电话核实")
    survivor = result.customer_no
    assert of("UW:U1") == of("WEB:W1") == survivor
    gone = w1 if survivor == u1 else u1
    tomb = query(people, "SELECT status, merged_into FROM customer WHERE customer_no = :n",
                 {"n": gone}).iloc[0]
    assert (tomb["status"], tomb["merged_into"]) == (CustomerStatus.MERGED, survivor)
    with people.connect() as conn:
        assert customers.lookup(conn, gone).customer.customer_no == survivor
        assert customers.lookup(conn, gone).chain == [gone, survivor]
    event = query(people, "SELECT * FROM merge_event WHERE id = :e",
                  {"e": result.events[0]}).iloc[0]
    assert event["event_type"] == EventType.MANUAL_MERGE and event["created_by"] == "steward1"
    assert event["reason"] == "同一人，电话核实"
    moves = query(people, "SELECT from_customer_no, to_customer_no FROM event_move "
                          "WHERE event_id = :e", {"e": result.events[0]})
    assert moves.values.tolist() == [[gone, survivor]]
    feed = query(people, "SELECT change_type, customer_no, related_customer_no "
                         "FROM customer_change WHERE event_id = :e", {"e": result.events[0]})
    assert feed.values.tolist() == [[ChangeType.MERGED_INTO, gone, survivor]]
    kinds = query(people, "SELECT link_type FROM link l JOIN source_record s ON s.id = "
                          "l.record_id WHERE s.record_key = :k",
                  {"k": "WEB:W1" if gone == w1 else "UW:U1"})
    assert kinds["link_type"].tolist() == [LinkType.MANUAL]
    golden = query(people, "SELECT id_number, mobile FROM customer WHERE customer_no = :n",
                   {"n": survivor}).iloc[0]
    assert golden["mobile"] == "13911112222" and golden["id_number"]  # both records' fields
    must = query(people, "SELECT left_key, right_key FROM decision WHERE judgement = :j "
                         "AND deleted_at IS NULL", {"j": Judgement.MUST_LINK})
    assert must.values.tolist() == [["UW:U1", "WEB:W1"]]
    trail = query(people, "SELECT actor, action, before, after FROM audit_log "
                          "WHERE action = 'customers_merged'")
    assert trail["actor"].tolist() == ["steward1"]
    assert json.loads(trail["after"].iloc[0]) == {survivor: ["UW:U1", "WEB:W1"]}
    _ok(people)
    # the next night sends a newer version of one record: the batch keeps the merge
    night(people, tmp_path, "n2", [person("WEB", "W1", "王芳", mobile="13911113333",
                                          updated="2026-11-02T10:00:00+08:00")])
    batch(people, sample_models)
    assert of("UW:U1") == of("WEB:W1") == survivor
    _ok(people)


def test_split_keeps_the_number_with_what_stays_and_no_batch_undoes_it(
        people: Engine, tmp_path: Path, sample_models: Path) -> None:
    of = customer_of(people)
    zhang = of("CORE:C1")
    assert of("CLAIM:K1") == zhang  # joined by the strong rule (same resident ID and name)
    with unit_of_work(people) as conn:
        result = customers.split(conn, zhang, ["CLAIM:K1"], actor=STEWARD, config_dir=CONFIG,
                                 reason="理赔系统错录证件号")
    assert result.customer_no == zhang and of("CORE:C1") == zhang
    assert of("CLAIM:K1") == result.new_customer_no != zhang
    feed = query(people, "SELECT change_type, customer_no, related_customer_no "
                         "FROM customer_change WHERE event_id = :e", {"e": result.events[0]})
    assert feed.values.tolist() == [[ChangeType.SPLIT_FROM, result.new_customer_no, zhang]]
    cannot = query(people, "SELECT left_key, right_key FROM decision WHERE judgement = :j",
                   {"j": Judgement.CANNOT_LINK})
    assert cannot.values.tolist() == [["CLAIM:K1", "CORE:C1"]]
    # a newer version of the moved record puts it in the next batch's scope: the strong
    # rule would join it again, the split's cannot-link (the manual override) holds
    night(people, tmp_path, "n2", [person("CLAIM", "K1", "張偉", ZHANG, mobile="13800138000",
                                          updated="2026-11-02T10:00:00+08:00")])
    batch(people, sample_models)
    assert of("CLAIM:K1") != of("CORE:C1")
    _ok(people)


def test_merge_then_rollback_gives_the_store_back(people: Engine) -> None:
    of = customer_of(people)
    before = state(people)
    with unit_of_work(people) as conn:
        merged = customers.merge(conn, [of("UW:U1"), of("WEB:W1")], actor=STEWARD,
                                 config_dir=CONFIG)
    assert state(people) != before
    with unit_of_work(people) as conn:
        undone = customers.rollback(conn, merged.events[0], actor=STEWARD, config_dir=CONFIG,
                                    reason="误合并")
    assert state(people) == before  # the tombstone lives again under its own number
    events = query(people, "SELECT id, event_type, undone_by, undoes FROM merge_event "
                           "ORDER BY id").astype(object)
    events = events.where(events.notna(), None)
    assert events.values.tolist()[-2:] == [
        [merged.events[0], EventType.MANUAL_MERGE, undone.events[0], None],
        [undone.events[0], EventType.ROLLBACK, None, merged.events[0]]]
    live = query(people, "SELECT judgement, left_key, right_key FROM decision "
                         "WHERE deleted_at IS NULL")
    assert live.values.tolist() == [[Judgement.CANNOT_LINK, "UW:U1", "WEB:W1"]]
    with unit_of_work(people) as conn, pytest.raises(Conflict, match="already rolled back"):
        customers.rollback(conn, merged.events[0], actor=STEWARD, config_dir=CONFIG)
    _ok(people)


def test_split_then_rollback_gives_the_store_back(people: Engine) -> None:
    of = customer_of(people)
    zhang = of("CORE:C1")
    before = state(people)
    with unit_of_work(people) as conn:
        split = customers.split(conn, zhang, ["CLAIM:K1"], actor=STEWARD, config_dir=CONFIG)
    with unit_of_work(people) as conn:
        customers.rollback(conn, split.events[0], actor=STEWARD, config_dir=CONFIG)
    after = state(people)
    new = split.new_customer_no
    assert after["links"] == before["links"]
    rows = {r[0]: r for r in after["customers"]}  # type: ignore[union-attr]
    assert [r for r in after["customers"] if r[0] != new] == before["customers"]  # type: ignore
    assert rows[new][1:3] == [CustomerStatus.MERGED, zhang]  # the split's number: a tombstone
    live = query(people, "SELECT judgement, left_key, right_key FROM decision "
                         "WHERE deleted_at IS NULL")
    assert live.values.tolist() == [[Judgement.MUST_LINK, "CLAIM:K1", "CORE:C1"]]
    _ok(people)


def test_batch_auto_merge_can_be_rolled_back_and_stays_undone(
        store: Engine, tmp_path: Path, sample_models: Path) -> None:
    """Two customers the batch joins (the web record gains the resident ID of the
    core record: the strong rule); the steward undoes it."""
    of = customer_of(store)
    night(store, tmp_path, "n1", [person("CORE", "A", "李秀英", LI),
                                  person("WEB", "B", "李秀英", mobile="13722223333")])
    batch(store, sample_models)
    a, b = of("CORE:A"), of("WEB:B")
    assert a != b
    night(store, tmp_path, "n2", [person("WEB", "B", "李秀英", LI, mobile="13722223333",
                                         updated="2026-11-02T10:00:00+08:00")])
    batch(store, sample_models)
    assert of("CORE:A") == of("WEB:B")
    event = query(store, "SELECT id, before FROM merge_event WHERE event_type = :t",
                  {"t": EventType.MERGE})
    assert len(event) == 1 and set(json.loads(event["before"].iloc[0])) == {a, b}
    with unit_of_work(store) as conn:
        customers.rollback(conn, int(event["id"].iloc[0]), actor=STEWARD, config_dir=CONFIG)
    assert of("CORE:A") == a and of("WEB:B") == b
    # the next night sends the web record again: the rollback's cannot-link holds
    night(store, tmp_path, "n3", [person("WEB", "B", "李秀英", LI, mobile="13722224444",
                                         updated="2026-11-03T10:00:00+08:00")])
    batch(store, sample_models)
    assert of("CORE:A") != of("WEB:B")
    _ok(store)


def test_refused_changes_name_the_reason(people: Engine) -> None:
    of = customer_of(people)
    zhang = of("CORE:C1")
    with unit_of_work(people) as conn:
        split = customers.split(conn, zhang, ["CLAIM:K1"], actor=STEWARD, config_dir=CONFIG)
    # merging back over the split's cannot-link contradicts a standing decision
    with unit_of_work(people) as conn, pytest.raises(Conflict, match=r"decision #\d+ "
                                                                     r"\(cannot_link"):
        customers.merge(conn, [zhang, str(split.new_customer_no)], actor=STEWARD,
                        config_dir=CONFIG)
    with unit_of_work(people) as conn:
        merged = customers.merge(conn, [of("UW:U1"), of("WEB:W1")], actor=STEWARD,
                                 config_dir=CONFIG)
    # splitting what a steward merged contradicts the merge's must-link
    with unit_of_work(people) as conn, pytest.raises(Conflict, match="must_link"):
        customers.split(conn, merged.customer_no, ["WEB:W1"], actor=STEWARD,
                        config_dir=CONFIG)
    with unit_of_work(people) as conn, pytest.raises(Forbidden, match="viewer"):
        customers.merge(conn, [zhang, merged.customer_no], actor=VIEWER, config_dir=CONFIG)
    with unit_of_work(people) as conn, pytest.raises(BadInput, match="two or more"):
        customers.merge(conn, [zhang], actor=STEWARD, config_dir=CONFIG)
    with unit_of_work(people) as conn, pytest.raises(NotFound, match="C9999999999"):
        customers.merge(conn, [zhang, "C9999999999"], actor=STEWARD, config_dir=CONFIG)
    with unit_of_work(people) as conn, pytest.raises(BadInput, match="does not belong"):
        customers.split(conn, zhang, ["UW:U1"], actor=STEWARD, config_dir=CONFIG)
    with unit_of_work(people) as conn, pytest.raises(BadInput, match="some, but not all"):
        customers.split(conn, zhang, ["CORE:C1"], actor=STEWARD, config_dir=CONFIG)
    # a stale page: the fingerprint it was drawn with no longer matches
    with unit_of_work(people) as conn, pytest.raises(Conflict, match="changed since"):
        customers.merge(conn, [zhang, merged.customer_no], actor=STEWARD, config_dir=CONFIG,
                        seen="0" * 20)
    # a merged-away number is refused, not silently followed
    stale = query(people, "SELECT customer_no FROM customer WHERE status = :s",
                  {"s": CustomerStatus.MERGED})["customer_no"].tolist()
    assert len(stale) == 1
    with unit_of_work(people) as conn, pytest.raises(Conflict, match="merged into"):
        customers.merge(conn, [stale[0], zhang], actor=STEWARD, config_dir=CONFIG)
    assert of("WEB:W1") == merged.customer_no
    _ok(people)


def test_a_rollback_is_refused_when_a_later_event_moved_its_records(people: Engine) -> None:
    of = customer_of(people)
    with unit_of_work(people) as conn:
        first = customers.merge(conn, [of("UW:U1"), of("WEB:W1")], actor=STEWARD,
                                config_dir=CONFIG)
    with unit_of_work(people) as conn:
        customers.merge(conn, [first.customer_no, of("CORE:C1")], actor=STEWARD,
                        config_dir=CONFIG)
    with unit_of_work(people) as conn, pytest.raises(Conflict, match="roll that one back"):
        customers.rollback(conn, first.events[0], actor=STEWARD, config_dir=CONFIG)
    _ok(people)
