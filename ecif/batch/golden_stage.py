"""Stage 4: golden records by survivorship (config/survivorship.yaml) for every
customer this run touched, with a history row for each new version (客户信息回溯)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select

from ecif.batch.context import BatchContext, fault_point
from ecif.bulk import in_batches, insert_rows, read_frame, table_of, update_rows
from matching.survivorship import golden_records, load_survivorship
from models.base import utcnow
from models.customer import GOLDEN_FIELDS, Customer, CustomerHistory

__all__ = ["golden_stage", "refresh_golden"]

_RECORD_FIELDS = ("record_key", "source_system", "updated_at", "id_valid", *GOLDEN_FIELDS,
                  "id_type")


def golden_stage(ctx: BatchContext) -> dict[str, Any]:
    fault_point("golden", "start")
    with ctx.engine.begin() as conn:
        touched = read_frame(conn, (
            "SELECT DISTINCT l.customer_no FROM link l JOIN source_record s "
            f"ON s.id = l.record_id WHERE l.run_id = :r OR ({ctx.in_scope('s')})"),
            {"r": ctx.run_id})["customer_no"].tolist()
        counts = refresh_golden(conn, touched, ctx.run_id, ctx.config_dir)
        ctx.complete(conn, "golden", counts)
    return counts


def refresh_golden(conn: Connection, customers: list[str], run_id: int | None,
                   config_dir: Any) -> dict[str, Any]:
    """Recompute the golden records of ``customers``; write those that changed."""
    rules = load_survivorship(config_dir)
    changed = 0
    now = utcnow()
    fields = ", ".join(f"s.{c}" for c in _RECORD_FIELDS if c != "id_type") + ", s.id_type"
    for batch in in_batches(sorted(set(customers)), 20_000):
        rows = pd.concat([read_frame(conn, (
            f"SELECT l.customer_no, {fields} FROM link l JOIN source_record s "
            "ON s.id = l.record_id WHERE l.customer_no IN ("
            + ",".join(f":c{i}" for i in range(len(part))) + ")"),
            {f"c{i}": no for i, no in enumerate(part)}) for part in in_batches(batch, 900)],
            ignore_index=True)
        golden = golden_records(rows, rules)
        current = read_frame(conn, select(
            Customer.customer_no, Customer.version, Customer.created_run,
            *[getattr(Customer, f) for f in GOLDEN_FIELDS]).where(
            Customer.customer_no.in_(batch)))
        merged = golden.merge(current, on="customer_no", suffixes=("", "_old"))
        same = pd.Series(True, index=merged.index)
        for f in GOLDEN_FIELDS:
            same &= merged[f].fillna("\0").eq(merged[f"{f}_old"].fillna("\0"))
        first = merged["created_run"].eq(-1 if run_id is None else run_id) \
            & merged["version"].eq(1)
        write = merged[~same | first].copy()
        if write.empty:
            continue
        write["version"] = write["version"].where(first[~same | first], write["version"] + 1)
        update_rows(conn, table_of(Customer), "customer_no", [
            {"_key": r["customer_no"], "version": int(r["version"]), "updated_at": now,
             "updated_run": run_id, **{f: r[f] for f in GOLDEN_FIELDS}}
            for r in write.to_dict("records")])
        insert_rows(conn, table_of(CustomerHistory), [
            {"customer_no": r["customer_no"], "version": int(r["version"]), "valid_from": now,
             "run_id": run_id,
             "fields": json.dumps({f: r[f] for f in GOLDEN_FIELDS}, ensure_ascii=False)}
            for r in write.to_dict("records")])
        changed += len(write)
    return {"golden_written": changed, "customers_touched": len(set(customers))}
