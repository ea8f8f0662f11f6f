"""Golden records by survivorship (config/survivorship.yaml): recomputed from a
customer's records whenever they change, with a history row for each new
version (客户信息回溯). The batch's golden stage and every steward change call
:func:`refresh_golden`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, text

from ecif import rowsql
from ecif.bulk import insert_rows, read_frame, table_of, update_rows
from ecif.rowsql import RowInsert, RowUpdate
from matching.survivorship import Survivorship, golden_record, golden_records, load_survivorship
from matching.vocabulary import CustomerStatus
from models.base import utcnow
from models.customer import GOLDEN_FIELDS, Customer, CustomerHistory

__all__ = ["refresh_golden", "refresh_golden_of", "refresh_golden_one", "customers_in"]

_RECORD_FIELDS = ("record_key", "source_system", "updated_at", "id_valid",
                  *GOLDEN_FIELDS)
_RANGE = 50_000  # customers read and written at a time
_SCOPE = "golden_scope"
_NUMBER = re.compile(r"^[A-Za-z0-9_-]{1,20}$")


def customers_in(numbers: Iterable[str]) -> str:
    """A SQL query of the given customer numbers (checked to be plain numbers)."""
    nos = sorted(set(numbers))
    bad = [n for n in nos if not _NUMBER.match(n)]
    if bad:
        raise ValueError(f"not a customer number: {bad[0]!r}")
    if not nos:
        return "SELECT customer_no FROM customer WHERE 1 = 0"
    return ("SELECT customer_no FROM customer WHERE customer_no IN ("
            + ", ".join(f"'{n}'" for n in nos) + ")")


def refresh_golden_of(conn: Connection, numbers: Iterable[str], config_dir: Path,
                      run_id: int | None = None) -> dict[str, Any]:
    """Recompute the golden records of the given customers."""
    return refresh_golden(conn, customers_in(numbers), run_id, config_dir)


def _by_customer(conn: Connection, customers_sql: str) -> Iterator[pd.DataFrame]:
    """Records (with their customer's current golden fields), whole customers per
    chunk: the customers ``customers_sql`` names, kept once in a temporary table, are
    read in ranges of customer numbers, so memory holds one range at a time."""
    conn.execute(text(f"DROP TABLE IF EXISTS {_SCOPE}"))
    conn.execute(text(f"CREATE TEMP TABLE {_SCOPE} (customer_no VARCHAR(20) PRIMARY KEY)"))
    conn.execute(text(f"INSERT INTO {_SCOPE} (customer_no) SELECT DISTINCT q.customer_no "
                      f"FROM ({customers_sql}) q WHERE q.customer_no IS NOT NULL"))
    # most recent = the newest UTC instant (updated_key), not the text as keyed
    fields = ", ".join("s.updated_key AS updated_at" if c == "updated_at" else f"s.{c}"
                       for c in _RECORD_FIELDS)
    old = ", ".join(f"c.{c} AS {c}_old" for c in GOLDEN_FIELDS)
    sql = text(f"SELECT l.customer_no, c.version, c.created_run, {old}, {fields} "
               f"FROM {_SCOPE} g JOIN link l ON l.customer_no = g.customer_no "
               "JOIN source_record s ON s.id = l.record_id "
               "JOIN customer c ON c.customer_no = l.customer_no "
               "WHERE g.customer_no > :low AND g.customer_no <= :high")
    bounds = text(f"SELECT max(customer_no) FROM (SELECT customer_no FROM {_SCOPE} "
                  "WHERE customer_no > :low ORDER BY customer_no LIMIT :n) q")
    low = ""
    while (high := conn.execute(bounds, {"low": low, "n": _RANGE}).scalar()) is not None:
        rows = read_frame(conn, sql, {"low": low, "high": high})
        if len(rows):
            yield rows
        low = high
    # (after an error the transaction's rollback drops it, or the next call does)
    conn.execute(text(f"DROP TABLE {_SCOPE}"))


def refresh_golden(conn: Connection, customers_sql: str, run_id: int | None,
                   config_dir: Path) -> dict[str, Any]:
    """Recompute the golden records of the customers ``customers_sql`` selects (a SQL
    query of customer numbers); write those that changed, each with a history row."""
    rules = load_survivorship(config_dir)
    changed = touched = 0
    now = utcnow()
    for rows in _by_customer(conn, customers_sql):
        golden = golden_records(rows, rules)
        current = rows.drop_duplicates("customer_no").set_index("customer_no")
        touched += len(current)
        current = current.reindex(golden["customer_no"])
        same = pd.Series(True, index=golden.index)
        for f in GOLDEN_FIELDS:
            old = pd.Series(current[f"{f}_old"].to_numpy(), index=golden.index)
            same &= golden[f].fillna("\0").eq(old.fillna("\0"))
        first = (current["created_run"].eq(-1 if run_id is None else run_id)
                 & current["version"].eq(1)).to_numpy()
        write = golden[~same.to_numpy() | first].copy()
        if write.empty:
            continue
        version = current["version"].to_numpy()[~same.to_numpy() | first]
        write["version"] = [int(v) if f else int(v) + 1 for v, f in
                            zip(version, first[~same.to_numpy() | first], strict=True)]
        update_rows(conn, table_of(Customer), "customer_no", pd.DataFrame({
            "_key": write["customer_no"], "version": write["version"], "updated_at": now,
            "updated_run": run_id, **{f: write[f] for f in GOLDEN_FIELDS}}))
        payload = write[list(GOLDEN_FIELDS)].to_json(orient="records", lines=True,
                                                     force_ascii=False)
        insert_rows(conn, table_of(CustomerHistory), pd.DataFrame({
            "customer_no": write["customer_no"], "version": write["version"],
            "valid_from": now, "run_id": run_id,
            "fields": payload.split("\n")[: len(write)]}))
        changed += len(write)
    return {"golden_written": changed, "customers_touched": touched}


_FIELDS_SQL = ", ".join("s.updated_key AS updated_at" if c == "updated_at" else f"s.{c}"
                        for c in _RECORD_FIELDS)
_OLD_SQL = ", ".join(f"c.{c} AS {c}_old" for c in GOLDEN_FIELDS)
_ONE = (f"SELECT c.version, c.created_run, {_OLD_SQL}, {_FIELDS_SQL} "
        "FROM link l JOIN source_record s ON s.id = l.record_id "
        "JOIN customer c ON c.customer_no = l.customer_no WHERE l.customer_no = ?")
_INSERT_HISTORY = RowInsert(table_of(CustomerHistory),
                            ("customer_no", "version", "valid_from", "run_id", "fields"))
_UPDATES: dict[tuple[str, ...], RowUpdate] = {}
_RULES: dict[tuple[str, int], Survivorship] = {}


def _rules(config_dir: Path) -> Survivorship:
    """The survivorship rules, read again only when their file changes."""
    key = (str(config_dir), (config_dir / "survivorship.yaml").stat().st_mtime_ns)
    if key not in _RULES:
        _RULES[key] = load_survivorship(config_dir)
    return _RULES[key]


def _update_of(columns: tuple[str, ...]) -> RowUpdate:
    statement = _UPDATES.get(columns)
    if statement is None:
        statement = _UPDATES[columns] = RowUpdate(table_of(Customer), columns, "customer_no")
    return statement


def refresh_golden_one(conn: Connection, customer_no: str, config_dir: Path, *,
                       now: Any = None, recount: bool = False,
                       run_id: int | None = None,
                       writes: list[tuple[str, tuple[Any, ...]]] | None = None) -> bool:
    """:func:`refresh_golden_of` for ONE customer without frames (the real-time
    path, at the driver level: :mod:`ecif.rowsql`): the same golden record
    (:func:`golden_record`, the row-wise twin of ``golden_records``), version and
    history row. ``recount``: also set the customer's record count and mark it
    active, as ``apply_clusters`` does for a customer a record joined. ``writes``:
    append the writes there (for :func:`ecif.rowsql.together` with the caller's
    others) instead of running them. Return whether the golden record changed."""
    now = now or utcnow()
    rows = rowsql.fetch_dicts(conn, _ONE, (customer_no,))
    if not rows:
        return False
    golden = golden_record(rows, _rules(config_dir))
    head = rows[0]
    values: dict[str, Any] = {}
    mine: list[tuple[str, tuple[Any, ...]]] = []
    if recount:
        values.update(records=len(rows), status=CustomerStatus.ACTIVE, merged_into=None,
                      updated_at=now, updated_run=run_id)
    same = all(golden.get(f) == head[f"{f}_old"] for f in GOLDEN_FIELDS)
    first = head["created_run"] == (-1 if run_id is None else run_id) and head["version"] == 1
    written = not same or first
    if written:
        version = int(head["version"]) if first else int(head["version"]) + 1
        fields = {f: golden.get(f) for f in GOLDEN_FIELDS}
        values.update(version=version, updated_at=now, updated_run=run_id, **fields)
        mine.append((_INSERT_HISTORY.sql, _INSERT_HISTORY.bind(conn, {
            "customer_no": customer_no, "version": version, "valid_from": now,
            "run_id": run_id, "fields": fields})))
    if values:
        update = _update_of(tuple(values))
        mine.append((update.sql, update.bind(conn, values, customer_no)))
    if writes is None:
        rowsql.together(conn, mine)  # one round trip on PostgreSQL
    else:
        writes.extend(mine)
    return written
