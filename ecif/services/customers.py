"""Customers now: look-up that follows tombstones, and a steward's merge, split
and rollback applied at once — links moved, numbers given or brought back,
merge event, change feed, golden records, decisions that every later batch
obeys, audit row — in the caller's transaction, keeping the store's
invariants. The batch's merge stage writes through the same
:func:`ecif.services.clusters.apply_clusters`.

Decisions a change leaves (record scope, so they survive renumbering):

- merge: a chain of must-links over all records of the merged customers;
- split: a cannot-link between every record that moved out and every record
  that stayed (the manual-override flag: no later batch joins them);
- rollback of an event: the event's own decisions are withdrawn, and the
  opposite judgement is written for what it changed (groups it joined get
  cannot-links, a group it split gets must-links).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select, update

from ecif.bulk import in_batches, read_frame
from ecif.services.audit import audit
from ecif.services.base import WRITERS, Actor, require_role
from ecif.services.clusters import EventInfo, apply_clusters
from ecif.services.decisions import (
    make_decisions,
    refuse_cannot_link_within,
    refuse_must_link_across,
    withdraw_event_decisions,
)
from ecif.services.feed import write_feed_for_events
from ecif.services.golden import refresh_golden_of
from ecif.services.tasks import close_answered_tasks
from matching.exceptions import BadInput, Conflict, NotFound
from matching.vocabulary import CustomerStatus, EventType, Judgement
from models.customer import Customer, Link
from models.event import EventMove, MergeEvent
from models.source_record import SourceRecord
from models.task import TaskMember

__all__ = ["lookup", "Resolved", "ActionResult", "merge", "split", "rollback",
           "customers_fingerprint", "event_fingerprint", "records_of"]

_MAX_CHAIN = 100


@dataclass(frozen=True)
class Resolved:
    """A customer number resolved: ``customer`` is the live customer; ``chain`` the
    numbers followed to reach it (the asked number first)."""

    customer: Any
    chain: list[str]

    @property
    def followed(self) -> bool:
        return len(self.chain) > 1


@dataclass
class ActionResult:
    """What a steward's change did."""

    action: str
    customer_no: str  # the resulting customer (a merge's survivor, a split's origin)
    events: list[int] = field(default_factory=list)
    decisions: list[int] = field(default_factory=list)
    new_customer_no: str | None = None  # a split's new customer
    numbers: dict[str, str] = field(default_factory=dict)
    closed_tasks: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "customer_no": self.customer_no, "events": self.events,
                "decisions": len(self.decisions), "new_customer_no": self.new_customer_no,
                "closed_tasks": self.closed_tasks}


def lookup(conn: Connection, customer_no: str) -> Resolved:
    """The customer a number names now, following merged-into tombstones."""
    chain = [customer_no]
    for _ in range(_MAX_CHAIN):
        row = conn.execute(select(Customer).where(Customer.customer_no == chain[-1])).first()
        if row is None:
            raise NotFound(f"customer {chain[-1]!r}: no such customer")
        customer = row
        if customer.status != CustomerStatus.MERGED or not customer.merged_into:
            return Resolved(customer, chain)
        chain.append(customer.merged_into)
    raise Conflict(f"customer {customer_no}: merged-into chain longer than {_MAX_CHAIN}")


def records_of(conn: Connection, customer_nos: list[str]) -> pd.DataFrame:
    """Every record of these customers, as a plan (``clusters.PLAN_COLUMNS`` without
    ``cluster``; the prior and old columns hold the current link)."""
    parts = [read_frame(conn, select(
        Link.record_id, SourceRecord.record_key, SourceRecord.customer_type,
        SourceRecord.identity_key, Link.customer_no.label("prior_no"),
        Link.link_type.label("old_link_type"), Link.identity_key.label("old_identity"),
        Link.rule.label("old_rule"), Link.model_version.label("old_model_version"),
    ).join(SourceRecord, SourceRecord.id == Link.record_id).where(Link.customer_no.in_(part))
        .order_by(SourceRecord.record_key)) for part in in_batches(sorted(set(customer_nos)))]
    plan = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if plan.empty:
        return plan
    return plan.assign(link_type=plan["old_link_type"], rule=plan["old_rule"],
                       model_version=plan["old_model_version"])


def _lock_customers(conn: Connection, nos: list[str]) -> dict[str, Any]:
    query = select(Customer).where(Customer.customer_no.in_(nos))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    found = {r.customer_no: r for r in conn.execute(query)}
    missing = [n for n in nos if n not in found]
    if missing:
        raise NotFound(f"customer {missing[0]!r}: no such customer")
    return found


def _require_active(customers: dict[str, Any]) -> None:
    for no, c in sorted(customers.items()):
        if c.status != CustomerStatus.ACTIVE:
            where = f" into {c.merged_into}" if c.merged_into else ""
            raise Conflict(f"customer {no} is {c.status}{where}; reload and decide again")


def customers_fingerprint(conn: Connection, customer_nos: list[str]) -> str:
    """A hash of these customers' status and records: a change's staleness check."""
    nos = sorted(set(customer_nos))
    rows = conn.execute(select(Customer.customer_no, Customer.status).where(
        Customer.customer_no.in_(nos)).order_by(Customer.customer_no)).all()
    plan = records_of(conn, nos)
    keys = [] if plan.empty else [f"{r}@{c}" for r, c in zip(
        plan["record_key"], plan["prior_no"], strict=True)]
    text = "|".join([*(f"{r.customer_no}:{r.status}" for r in rows), *sorted(keys)])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _check_seen(conn: Connection, nos: list[str], seen: str | None) -> None:
    if seen is not None and seen != customers_fingerprint(conn, nos):
        raise Conflict(f"customer {', '.join(sorted(nos))} changed since it was shown; "
                       "reload and decide again")


def _finish(conn: Connection, applied_events: list[int], touched: list[str], actor: Actor,
            config_dir: Path) -> int:
    """The change feed, the golden records of ``touched``, and the tasks answered."""
    if applied_events:
        write_feed_for_events(conn, MergeEvent.id.in_(applied_events))
    live = [n for n in touched if n]
    refresh_golden_of(conn, live, config_dir)
    tasks = read_frame(conn, select(TaskMember.task_id).distinct().join(
        Link, Link.record_id == TaskMember.record_id).where(Link.customer_no.in_(live)))
    return close_answered_tasks(conn, None, actor, [int(t) for t in tasks["task_id"]])


def _chain(keys: list[str]) -> list[tuple[str, str]]:
    keys = sorted(keys)
    return list(zip(keys, keys[1:], strict=False))


def merge(conn: Connection, customer_nos: list[str], *, actor: Actor, config_dir: Path,
          reason: str | None = None, task_id: int | None = None,
          approved_by: str | None = None, request_id: int | None = None,
          seen: str | None = None) -> ActionResult:
    """Merge two or more customers into one now (人工归并). The customer holding most
    records keeps its number (ties: the older number); the others become
    tombstones merged into it."""
    require_role(actor, WRITERS, "merge customers")
    nos = sorted(set(customer_nos))
    if len(nos) < 2:
        raise BadInput("a merge needs two or more different customers",
                       {"customers": "fewer than two"})
    customers = _lock_customers(conn, nos)
    _require_active(customers)
    kinds = {c.customer_type for c in customers.values()}
    if len(kinds) > 1:
        raise BadInput("a person and an organisation cannot be merged",
                       {"customers": "mixed customer types"})
    _check_seen(conn, nos, seen)
    plan = records_of(conn, nos)
    keys = plan["record_key"].tolist()
    refuse_cannot_link_within(conn, keys)
    plan["cluster"] = min(keys)
    info = EventInfo(actor.name, EventType.MANUAL_MERGE, approved_by, reason, task_id)
    applied = apply_clusters(conn, plan, None, info=info, steward=True)
    survivor = applied.numbers[min(keys)]
    event = applied.events[0] if applied.events else None
    decisions = make_decisions(conn, Judgement.MUST_LINK, _chain(keys), actor=actor,
                               reason=reason, approved_by=approved_by, task_id=task_id,
                               event_id=event, request_id=request_id)
    closed = _finish(conn, applied.events, [survivor], actor, config_dir)
    before = {no: plan.loc[plan["prior_no"].eq(no), "record_key"].tolist() for no in nos}
    audit(conn, actor, "customers_merged", "customer", survivor, before=before,
          after={survivor: sorted(keys)}, reason=reason, task_id=task_id, event_id=event,
          approved_by=approved_by, request_id=request_id)
    return ActionResult(EventType.MANUAL_MERGE, survivor, applied.events, decisions,
                        numbers=applied.numbers, closed_tasks=closed)


def split(conn: Connection, customer_no: str, record_keys: list[str], *, actor: Actor,
          config_dir: Path, reason: str | None = None, task_id: int | None = None,
          approved_by: str | None = None, request_id: int | None = None,
          seen: str | None = None) -> ActionResult:
    """Move ``record_keys`` out of a customer into a new customer now (拆分). The
    records that stay keep the number; the split is a standing cannot-link (the
    manual-override flag) that no later batch undoes."""
    require_role(actor, WRITERS, "split customers")
    customers = _lock_customers(conn, [customer_no])
    _require_active(customers)
    _check_seen(conn, [customer_no], seen)
    plan = records_of(conn, [customer_no])
    mine = set(plan["record_key"])
    moving = sorted(set(record_keys))
    strangers = [k for k in moving if k not in mine]
    if strangers:
        raise BadInput(f"record {strangers[0]} does not belong to customer {customer_no}",
                       {"records": "not of this customer"})
    staying = sorted(mine - set(moving))
    if not moving or not staying:
        raise BadInput("a split moves some, but not all, of a customer's records",
                       {"records": "none or all chosen"})
    refuse_must_link_across(conn, staying, moving)
    plan["cluster"] = plan["record_key"].map(
        lambda k: min(moving) if k in set(moving) else min(staying))
    info = EventInfo(actor.name, EventType.MANUAL_SPLIT, approved_by, reason, task_id)
    applied = apply_clusters(conn, plan, None, info=info, restore={min(staying): customer_no},
                             steward=True)
    new_no = applied.numbers[min(moving)]
    event = applied.events[0] if applied.events else None
    decisions = make_decisions(conn, Judgement.CANNOT_LINK,
                               [(a, b) for a in staying for b in moving], actor=actor,
                               reason=reason, approved_by=approved_by, task_id=task_id,
                               event_id=event, request_id=request_id)
    closed = _finish(conn, applied.events, [customer_no, new_no], actor, config_dir)
    audit(conn, actor, "customer_split", "customer", customer_no,
          before={customer_no: sorted(mine)},
          after={customer_no: staying, new_no: moving}, reason=reason, task_id=task_id,
          event_id=event, approved_by=approved_by, request_id=request_id)
    return ActionResult(EventType.MANUAL_SPLIT, customer_no, applied.events, decisions,
                        new_customer_no=new_no, numbers=applied.numbers, closed_tasks=closed)


def _event(conn: Connection, event_id: int, *, lock: bool = False) -> Any:
    query = select(MergeEvent).where(MergeEvent.id == event_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"merge event {event_id}: no such event")
    return row


def _current(conn: Connection, keys: list[str]) -> dict[str, str]:
    """record key -> its customer now."""
    out: dict[str, str] = {}
    for part in in_batches(sorted(set(keys))):
        for r in conn.execute(select(SourceRecord.record_key, Link.customer_no).join(
                Link, Link.record_id == SourceRecord.id).where(
                SourceRecord.record_key.in_(part))):
            out[r.record_key] = r.customer_no
    return out


def event_fingerprint(conn: Connection, event_id: int) -> str:
    event = _event(conn, event_id)
    keys = sorted({k for ks in event.after.values() for k in ks})
    now = _current(conn, keys)
    text = f"{event.undone_by}|" + "|".join(f"{k}@{now.get(k)}" for k in keys)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _later_event(conn: Connection, event_id: int, keys: list[str]) -> int | None:
    for part in in_batches(sorted(keys)):
        found = conn.execute(select(EventMove.event_id).join(
            SourceRecord, SourceRecord.id == EventMove.record_id).where(
            SourceRecord.record_key.in_(part), EventMove.event_id > event_id)
            .order_by(EventMove.event_id).limit(1)).scalar()
        if found is not None:
            return int(found)
    return None


def rollback(conn: Connection, event_id: int, *, actor: Actor, config_dir: Path,
             reason: str | None = None, approved_by: str | None = None,
             request_id: int | None = None, seen: str | None = None) -> ActionResult:
    """Undo a merge event now (回退) — a batch's auto-merge or split, or a steward's:
    its records go back to the customers they had before it (tombstones come back
    to life), its decisions are withdrawn, and the opposite judgement is written so
    that no later batch redoes it. Records that joined later stay where they are.
    Refused when a later event moved the same records (undo that one first)."""
    require_role(actor, WRITERS, "roll back merge events")
    event = _event(conn, event_id, lock=True)
    if event.undone_by:
        raise Conflict(f"merge event {event_id} was already rolled back by event "
                       f"{event.undone_by}")
    if seen is not None and seen != event_fingerprint(conn, event_id):
        raise Conflict(f"merge event {event_id}'s customers changed since it was shown; "
                       "reload and decide again")
    before: dict[str, list[str]] = event.before
    after: dict[str, list[str]] = event.after
    keys = sorted({k for ks in after.values() for k in ks})
    now = _current(conn, keys)
    moved = [k for no, ks in after.items() for k in ks if now.get(k) != no]
    if moved:
        later = _later_event(conn, event_id, moved)
        raise Conflict(f"record {moved[0]} has moved since merge event {event_id}"
                       + (f" (event {later}); roll that one back first" if later else ""))
    involved = sorted(set(now.values()) | set(before))
    customers = _lock_customers(conn, involved)
    plan = records_of(conn, [n for n, c in customers.items()
                             if c.status == CustomerStatus.ACTIVE])
    was = {k: no for no, ks in before.items() for k in ks}
    target = plan["record_key"].map(lambda k: was.get(k)).fillna(plan["prior_no"])
    if event.customer_no in before:  # records new in the event stay with its survivor
        new_in_event = plan["record_key"].isin(keys) & ~plan["record_key"].isin(was)
        target = target.where(~new_in_event, event.customer_no)
    plan["target"] = target
    first = plan.groupby("target")["record_key"].min()
    plan["cluster"] = plan["target"].map(first)
    restore = {str(first[no]): str(no) for no in first.index}
    plan = plan.drop(columns="target")
    withdrawn = withdraw_event_decisions(conn, event_id, actor=actor)
    pairs_apart, chains = _opposite(before, after)
    for a, b in pairs_apart:
        refuse_must_link_across(conn, [a], [b])
    for group in chains:
        refuse_cannot_link_within(conn, group)
    info = EventInfo(actor.name, EventType.ROLLBACK, approved_by, reason, event.task_id)
    applied = apply_clusters(conn, plan, None, info=info, restore=restore, steward=True)
    if applied.events:
        conn.execute(update(MergeEvent).where(MergeEvent.id.in_(applied.events))
                     .values(undoes=event_id))
        conn.execute(update(MergeEvent).where(MergeEvent.id == event_id)
                     .values(undone_by=applied.events[0]))
    first_event = applied.events[0] if applied.events else None
    decisions = make_decisions(conn, Judgement.CANNOT_LINK, pairs_apart, actor=actor,
                               reason=reason, approved_by=approved_by,
                               event_id=first_event, request_id=request_id)
    for group in chains:
        decisions += make_decisions(conn, Judgement.MUST_LINK, _chain(group), actor=actor,
                                    reason=reason, approved_by=approved_by,
                                    event_id=first_event, request_id=request_id)
    touched = sorted(set(applied.numbers.values()))
    closed = _finish(conn, applied.events, touched, actor, config_dir)
    audit(conn, actor, "event_rolled_back", "merge_event", event_id,
          before=after, after=before, reason=reason, rollback_events=applied.events,
          decisions_withdrawn=withdrawn, approved_by=approved_by, request_id=request_id)
    return ActionResult(EventType.ROLLBACK, event.customer_no, applied.events, decisions,
                        numbers=applied.numbers, closed_tasks=closed)


def _opposite(before: dict[str, list[str]], after: dict[str, list[str]]
              ) -> tuple[list[tuple[str, str]], list[list[str]]]:
    """What undoing an event asserts: record pairs of before-groups the event joined
    (now apart), and before-groups the event split (now one)."""
    where_after = {k: no for no, ks in after.items() for k in ks}
    groups = {no: sorted(ks) for no, ks in before.items() if ks}
    apart: list[tuple[str, str]] = []
    for (_, ga), (_, gb) in combinations(sorted(groups.items()), 2):
        if {where_after.get(k) for k in ga} & {where_after.get(k) for k in gb}:
            apart += [(a, b) for a in ga for b in gb]
    chains = [g for g in groups.values()
              if len(g) > 1 and len({where_after.get(k) for k in g}) > 1]
    return apart, chains
