"""Apply a new clustering to the store: customer numbers, links, tombstones,
merge events and the records each moved. The nightly merge stage and every
steward change (merge, split, rollback) go through :func:`apply_clusters`, so
both leave the same rows.

Numbers come from :func:`matching.numbering.assign_numbers` (the part holding
most records keeps its number, unless the caller restores numbers); new ones
are ``C`` + 10 digits from the ``counter`` row, moved inside the caller's
transaction, so a re-run after a crash allocates the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, insert, select, update

from ecif import rowsql
from ecif.bulk import insert_rows, table_of, update_rows
from matching.numbering import Numbering, assign_numbers
from matching.vocabulary import CustomerStatus, EventType, LinkType
from models.base import utcnow
from models.customer import Counter, Customer, Link
from models.event import EventMove, MergeEvent

__all__ = ["apply_clusters", "NumberAllocator", "next_number", "membership", "Applied",
           "PLAN_COLUMNS", "event_rows"]

#: What a plan holds per record (the old_ columns and prior_no empty for a record
#: not linked before).
PLAN_COLUMNS = ("record_id", "record_key", "customer_type", "identity_key", "cluster",
                "link_type", "rule", "model_version", "prior_no", "old_link_type",
                "old_identity", "old_rule", "old_model_version")
_COUNTER = "customer_no"


class NumberAllocator:
    """New customer numbers: ``C`` + 10 digits, from the counter row (locked for the
    transaction on PostgreSQL; SQLite serialises writers), never below the
    highest number in use."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        query = select(Counter.value).where(Counter.name == _COUNTER)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        value = conn.execute(query).scalar()
        if value is None:
            conn.execute(insert(Counter).values(name=_COUNTER, value=0))
        top = conn.execute(select(func.max(Customer.customer_no))).scalar()
        self.value = max(int(value or 0), int(top[1:]) if top else 0)
        self.start = self.value

    def __call__(self) -> str:
        self.value += 1
        return f"C{self.value:010d}"

    def save(self) -> None:
        """Write the counter back (in the caller's transaction)."""
        if self.value != self.start:
            self.conn.execute(update(Counter).where(Counter.name == _COUNTER)
                              .values(value=self.value))
            self.start = self.value


def next_number(conn: Connection) -> str:
    """One new customer number, as :class:`NumberAllocator` gives and saves it (never
    below the highest number in use; the counter row locked until commit), in one
    statement at the driver level (the real-time path)."""
    sql = _NEXT_PG if conn.dialect.name == "postgresql" else _NEXT_SQLITE
    got = rowsql.fetch(conn, sql, (_COUNTER,))
    if not got:  # no counter row yet (a store no batch has numbered)
        rowsql.run(conn, "INSERT INTO counter (name, value) VALUES (?, 0)", (_COUNTER,))
        got = rowsql.fetch(conn, sql, (_COUNTER,))
    return f"C{int(got[0][0]):010d}"


_TOP = "(SELECT CAST(substr(max(customer_no), 2) AS BIGINT) FROM customer)"
_NEXT_PG = (f"UPDATE counter SET value = greatest(coalesce(value, 0), coalesce({_TOP}, 0)) + 1 "
            "WHERE name = ? RETURNING value")
_NEXT_SQLITE = _NEXT_PG.replace("greatest(", "max(")


def membership(frame: pd.DataFrame, key: str) -> dict[str, list[str]]:
    """{customer_no: sorted record keys} of ``frame`` grouped by column ``key``."""
    return _grouped(frame, key, "record_key")


def _grouped(frame: pd.DataFrame, key: str, value: str, *, distinct: bool = False
             ) -> dict[str, list[Any]]:
    """{key: sorted values} of ``frame`` (rows with a key and, for ``distinct``, each
    value once), by one sort instead of a pandas group per key (~20 µs each: seconds
    for a night's tens of thousands of customers)."""
    sub = frame[[key, value]].dropna(subset=[key] if not distinct else [key, value])
    if distinct:
        sub = sub.drop_duplicates()
    if sub.empty:
        return {}
    sub = sub.sort_values([key, value], kind="stable")
    keys = sub[key].to_numpy()
    values = sub[value].to_numpy()
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return {str(keys[s]): part.tolist()
            for s, part in zip(starts, np.split(values, starts[1:]), strict=True)}


@dataclass
class Applied:
    counts: dict[str, Any]
    events: list[int] = field(default_factory=list)  # merge event ids written
    numbers: dict[str, str] = field(default_factory=dict)  # cluster -> customer number


@dataclass(frozen=True)
class EventInfo:
    """Who made the events of one application, and why (steward changes)."""

    created_by: str
    event_type: str | None = None  # None: merge/split as the batch sees them
    approved_by: str | None = None
    reason: str | None = None
    task_id: int | None = None


def apply_clusters(conn: Connection, plan: pd.DataFrame, run_id: int | None, *,
                   info: EventInfo, restore: dict[str, str] | None = None,
                   steward: bool = False) -> Applied:
    """Give each planned cluster its number and write customers, links and events.

    ``plan`` (:data:`PLAN_COLUMNS`) holds every record of every customer it
    touches. ``restore``: cluster -> number it must get (a tombstone comes back
    to life). ``steward``: records that change customer are linked ``manual``
    (a steward's judgement: never detached by a later identity change)."""
    empty = {"customers_created": 0, "merged_away": 0, "links_written": 0, "events": 0}
    if plan.empty:
        return Applied(empty)
    allocate = NumberAllocator(conn)
    kept = plan["old_identity"].eq(plan["identity_key"]) | plan["old_link_type"].eq(
        LinkType.MANUAL)
    numbering = assign_numbers(plan[["record_key", "cluster", "prior_no"]].assign(kept=kept),
                               allocate, restore)
    allocate.save()
    plan = plan.assign(customer_no=plan["cluster"].map(numbering.numbers))
    if steward:
        moved = plan["prior_no"].isna() | plan["prior_no"].ne(plan["customer_no"])
        plan = plan.assign(
            link_type=plan["old_link_type"].where(~moved, LinkType.MANUAL),
            rule=plan["old_rule"].where(~moved, None),
            model_version=plan["old_model_version"].where(~moved, None),
            old_link_type=plan["old_link_type"].where(~moved, LinkType.MANUAL),
            old_rule=plan["old_rule"].where(~moved, None),
            old_model_version=plan["old_model_version"].where(~moved, None))
    now = utcnow()
    _customers(conn, plan, numbering, run_id, now)
    written = _links(conn, plan, run_id, now)
    events = _events(conn, plan, numbering, run_id, now, info)
    return Applied({"customers_created": len(numbering.created),
                    "merged_away": len(numbering.merged_into), "links_written": written,
                    "events": len(events)}, events, dict(numbering.numbers))


def _customers(conn: Connection, plan: pd.DataFrame, numbering: Numbering,
               run_id: int | None, now: Any) -> None:
    # the plan holds every record of every customer it touches: counts come from it
    groups = plan.groupby("customer_no")
    first_type, sizes = groups["customer_type"].first(), groups.size()
    created = pd.Index(numbering.created)
    insert_rows(conn, table_of(Customer), pd.DataFrame({
        "customer_no": created, "customer_type": first_type.reindex(created).to_numpy(),
        "status": CustomerStatus.ACTIVE, "version": 1,
        "records": sizes.reindex(created).to_numpy(),
        "created_at": now, "updated_at": now, "created_run": run_id, "updated_run": run_id}))
    kept = sizes[~sizes.index.isin(created)]
    # a number holding records is active (a rollback brings a tombstone back)
    update_rows(conn, table_of(Customer), "customer_no", pd.DataFrame({
        "_key": kept.index, "records": kept.to_numpy(), "status": CustomerStatus.ACTIVE,
        "merged_into": None, "updated_at": now, "updated_run": run_id}))
    for old, survivor in numbering.merged_into:
        conn.execute(update(Customer).where(Customer.customer_no == old).values(
            status=CustomerStatus.MERGED, merged_into=survivor, records=0, updated_at=now,
            updated_run=run_id))


def _links(conn: Connection, plan: pd.DataFrame, run_id: int | None, now: Any) -> int:
    new = plan[plan["prior_no"].isna()]
    insert_rows(conn, table_of(Link), pd.DataFrame({
        "record_id": new["record_id"].astype(int), "customer_no": new["customer_no"],
        "link_type": new["link_type"], "rule": new["rule"],
        "model_version": new["model_version"], "identity_key": new["identity_key"],
        "run_id": run_id, "since": now}))
    moved = plan[plan["prior_no"].notna() & (
        plan["prior_no"].ne(plan["customer_no"]) | plan["old_identity"].ne(plan["identity_key"])
        | plan["old_link_type"].ne(plan["link_type"]))]
    # a record that stays linked as before (its customer merged, say) keeps how it was linked
    kept = moved["old_identity"].eq(moved["identity_key"]) | moved["old_link_type"].eq(
        LinkType.MANUAL)
    update_rows(conn, table_of(Link), "record_id", pd.DataFrame({
        "_key": moved["record_id"].astype(int), "customer_no": moved["customer_no"],
        "link_type": moved["link_type"],
        "rule": moved["old_rule"].where(kept, moved["rule"]),
        "model_version": moved["old_model_version"].where(kept, moved["model_version"]),
        "identity_key": moved["identity_key"], "run_id": run_id, "since": now}))
    return len(new) + len(moved)


def _events(conn: Connection, plan: pd.DataFrame, numbering: Numbering, run_id: int | None,
            now: Any, info: EventInfo) -> list[int]:
    """One merge event per cluster that took records of two or more earlier customers,
    one split event per new number made from an earlier customer's records; each
    with the records it moved."""
    rows, moves, sizes = event_rows(plan, set(numbering.created), run_id, now, info)
    if not rows:
        return []
    ids = list(conn.execute(insert(MergeEvent).returning(MergeEvent.id,
                                                         sort_by_parameter_order=True),
                            rows).scalars())
    insert_rows(conn, table_of(EventMove), pd.DataFrame({
        "event_id": np.repeat(np.asarray(ids, dtype=np.int64), sizes),
        "record_id": moves["record_id"].astype(int),
        "from_customer_no": moves["prior_no"], "to_customer_no": moves["customer_no"]}))
    return [int(i) for i in ids]


def event_rows(plan: pd.DataFrame, fresh: set[str], run_id: int | None, now: Any,
               info: EventInfo) -> tuple[list[dict[str, Any]], pd.DataFrame, list[int]]:
    """The merge events of a plan (with ``customer_no`` assigned; ``fresh``: the
    numbers made by it): their rows, the records each moved (in event order) and
    how many per event. One pass over the plan: the memberships before and after
    are grouped once, not searched per event (a night of 10,000 records made
    thousands of events, each of which scanned the whole plan)."""
    priors_all = plan["prior_no"].dropna()
    involved = set(plan.loc[priors_all.index, "customer_no"]) | set(priors_all)
    plan = plan[plan["customer_no"].isin(involved) | plan["prior_no"].isin(involved)]
    by_prior = membership(plan, "prior_no")
    by_customer = membership(plan, "customer_no")
    priors_of = _grouped(plan, "customer_no", "prior_no", distinct=True)
    joined = plan[plan["prior_no"].ne(plan["customer_no"]) | plan["prior_no"].isna()]
    rules_of = _grouped(joined, "customer_no", "rule", distinct=True)
    versions_of = _grouped(joined, "customer_no", "model_version", distinct=True)
    rows: list[dict[str, Any]] = []
    made: list[str] = []
    for no in sorted(set(plan["customer_no"])):
        priors = priors_of.get(str(no), [])
        if len(priors) >= 2 or (priors and priors != [no] and no not in fresh):
            kind = info.event_type or EventType.MERGE
        elif priors and no in fresh:
            kind = info.event_type or EventType.SPLIT
        else:
            continue
        rows.append({
            "event_type": str(kind), "customer_no": str(no), "run_id": run_id,
            "before": {p: by_prior[p] for p in priors},
            "after": {c: by_customer[c] for c in sorted({no, *priors}) if c in by_customer},
            "rule": ";".join(rules_of.get(str(no), [])) or None,
            "model_version": ";".join(versions_of.get(str(no), [])) or None,
            "created_by": info.created_by, "approved_by": info.approved_by,
            "reason": info.reason, "task_id": info.task_id, "created_at": now})
        made.append(no)
    # the records each event moved, event by event, each in the plan's order
    moved = joined.loc[joined["customer_no"].isin(made), ["record_id", "prior_no", "customer_no"]]
    moved = moved.sort_values("customer_no", kind="stable").reset_index(drop=True)
    sizes = moved["customer_no"].value_counts(sort=False).reindex(made, fill_value=0)
    return rows, moved, [int(n) for n in sizes]
