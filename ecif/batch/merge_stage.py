"""Stage 3: apply the plan: customer numbers, links, tombstones, merge events.

Numbers come from :func:`matching.numbering.assign_numbers` (the part holding
most records keeps its number); new numbers are ``C`` + 10 digits, allocated
in cluster order inside this stage's transaction, so a re-run after a crash
allocates the same ones.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from sqlalchemy import Connection, func, select, update

from ecif.batch.context import BatchContext, fault_point
from ecif.bulk import insert_rows, read_frame, table_of, update_rows
from matching.numbering import Numbering, assign_numbers
from models.base import utcnow
from models.customer import ACTIVE, MERGED, Customer, Link
from models.event import MergeEvent

__all__ = ["merge_stage", "number_allocator", "membership"]


def number_allocator(conn: Connection) -> Any:
    top = conn.execute(select(func.max(Customer.customer_no))).scalar()
    state = {"n": int(top[1:]) if top else 0}

    def new_number() -> str:
        state["n"] += 1
        return f"C{state['n']:010d}"

    return new_number


def membership(frame: pd.DataFrame, key: str) -> dict[str, list[str]]:
    """{customer_no: sorted record keys} of ``frame`` grouped by column ``key``."""
    return {str(no): sorted(group["record_key"]) for no, group in frame.groupby(key)}


def merge_stage(ctx: BatchContext) -> dict[str, Any]:
    fault_point("merge", "start")
    with ctx.engine.begin() as conn:
        plan = read_frame(conn, (
            "SELECT p.record_id, p.cluster, p.link_type, p.rule, p.model_version, "
            "s.record_key, s.customer_type, s.identity_key, l.customer_no AS prior_no, "
            "l.link_type AS old_link_type, l.identity_key AS old_identity, "
            "l.rule AS old_rule, l.model_version AS old_model_version "
            "FROM planned_link p JOIN source_record s ON s.id = p.record_id "
            "LEFT JOIN link l ON l.record_id = p.record_id WHERE p.run_id = :r"),
            {"r": ctx.run_id})
        counts = apply_clusters(conn, plan, ctx.run_id, number_allocator(conn),
                                created_by="batch")
        ctx.complete(conn, "merge", counts)
    return counts


def apply_clusters(conn: Connection, plan: pd.DataFrame, run_id: int | None, new_number: Any,
                   created_by: str, event_type: str | None = None) -> dict[str, Any]:
    """Give each planned cluster its number and write customers, links and events.
    ``plan``: record_id, record_key, customer_type, identity_key, cluster,
    link_type, rule, model_version, prior_no, old_link_type, old_identity, old_rule,
    old_model_version (the old_ columns and prior_no empty for a record not linked before)."""
    if plan.empty:
        return {"customers_created": 0, "merged_away": 0, "links_written": 0, "events": 0}
    kept = plan["old_identity"].eq(plan["identity_key"]) | plan["old_link_type"].eq("manual")
    numbering = assign_numbers(plan[["record_key", "cluster", "prior_no"]].assign(kept=kept),
                               new_number)
    plan = plan.assign(customer_no=plan["cluster"].map(numbering.numbers))
    now = utcnow()
    _customers(conn, plan, numbering, run_id, now)
    written = _links(conn, plan, run_id, now)
    events = _events(conn, plan, numbering, run_id, now, created_by, event_type)
    return {"customers_created": len(numbering.created),
            "merged_away": len(numbering.merged_into), "links_written": written,
            "events": events}


def _customers(conn: Connection, plan: pd.DataFrame, numbering: Numbering,
               run_id: int | None, now: Any) -> None:
    # the plan holds every record of every customer it touches: counts come from it
    groups = plan.groupby("customer_no")
    first_type, sizes = groups["customer_type"].first(), groups.size()
    created = pd.Index(numbering.created)
    insert_rows(conn, table_of(Customer), pd.DataFrame({
        "customer_no": created, "customer_type": first_type.reindex(created).to_numpy(),
        "status": ACTIVE, "version": 1, "records": sizes.reindex(created).to_numpy(),
        "created_at": now, "updated_at": now, "created_run": run_id, "updated_run": run_id}))
    kept = sizes[~sizes.index.isin(created)]
    update_rows(conn, table_of(Customer), "customer_no", pd.DataFrame({
        "_key": kept.index, "records": kept.to_numpy(), "updated_at": now,
        "updated_run": run_id}))
    for old, survivor in numbering.merged_into:
        conn.execute(update(Customer).where(Customer.customer_no == old).values(
            status=MERGED, merged_into=survivor, records=0, updated_at=now, updated_run=run_id))


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
    kept = moved["old_identity"].eq(moved["identity_key"]) | moved["old_link_type"].eq("manual")
    update_rows(conn, table_of(Link), "record_id", pd.DataFrame({
        "_key": moved["record_id"].astype(int), "customer_no": moved["customer_no"],
        "link_type": moved["link_type"],
        "rule": moved["old_rule"].where(kept, moved["rule"]),
        "model_version": moved["old_model_version"].where(kept, moved["model_version"]),
        "identity_key": moved["identity_key"], "run_id": run_id, "since": now}))
    return len(new) + len(moved)


def _events(conn: Connection, plan: pd.DataFrame, numbering: Numbering, run_id: int | None,
            now: Any, created_by: str, event_type: str | None) -> int:
    """One merge event per cluster that took records of two or more earlier customers,
    one split event per new number made from an earlier customer's records."""
    fresh = set(numbering.created)
    rows = []
    priors_all = plan["prior_no"].dropna()
    involved = set(plan.loc[priors_all.index, "customer_no"]) | set(priors_all)
    plan = plan[plan["customer_no"].isin(involved) | plan["prior_no"].isin(involved)]
    for no, group in plan.groupby("customer_no", sort=True):
        priors = sorted(set(group["prior_no"].dropna()))
        if len(priors) >= 2:
            kind = event_type or "merge"
        elif priors and no in fresh:
            kind = event_type or "split"
        elif priors and priors != [no]:
            kind = event_type or "merge"
        else:
            continue
        before_rows = plan[plan["prior_no"].isin(priors)]
        after_rows = plan[plan["customer_no"].isin({no, *priors})]
        joined = group[group["prior_no"].ne(group["customer_no"]) | group["prior_no"].isna()]
        rules = sorted(set(joined["rule"].dropna()))
        versions = sorted(set(joined["model_version"].dropna()))
        rows.append({
            "event_type": kind, "customer_no": str(no), "run_id": run_id,
            "before": json.dumps(membership(before_rows, "prior_no"), ensure_ascii=False),
            "after": json.dumps(membership(after_rows, "customer_no"), ensure_ascii=False),
            "rule": ";".join(rules) or None, "model_version": ";".join(versions) or None,
            "created_by": created_by, "created_at": now})
    insert_rows(conn, table_of(MergeEvent), rows)
    return len(rows)
