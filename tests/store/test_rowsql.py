"""The driver-level one-row statements (ecif/rowsql.py) store exactly what
SQLAlchemy Core's insert()/update() store for the same values, on SQLite and
PostgreSQL: the oracle is Core itself, the comparison the stored text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, insert, select, text, update

from ecif import rowsql
from ecif.bulk import table_of
from ecif.rowsql import RowInsert, RowUpdate
from ecif.services.clusters import NumberAllocator, next_number
from matching.vocabulary import CustomerStatus, IngestStatus
from models.auth import AuditLog
from models.customer import Customer
from models.source_record import IngestRun

WHEN = datetime(2026, 12, 6, 23, 59, 58, 123456)
DOC = {"名字": "司马相如", "n": 1, "nested": [1, None, "x"], "when": WHEN}


def _stored(conn: Connection, table: str, key: str, value: Any, columns: list[str]
            ) -> dict[str, Any]:
    """The row as the database holds it, every column as text."""
    cols = ", ".join(f"CAST({c} AS VARCHAR(4000)) AS {c}" for c in columns)
    row = conn.execute(text(f"SELECT {cols} FROM {table} WHERE {key} = :v"),
                       {"v": value}).mappings().one()
    return dict(row)


def test_row_insert_stores_what_core_stores(store: Engine) -> None:
    audit = table_of(AuditLog)
    values = {"at": WHEN, "actor": "api:k", "action": "api_register",
              "object_type": "source_record", "object_id": "API:1", "before": None,
              "after": DOC, "detail": {}}
    columns = ["at", "actor", "action", "object_type", "object_id", "before", "after", "detail"]
    statement = RowInsert(audit, columns, returning="id")
    with store.begin() as conn:
        core = conn.execute(insert(audit).values(**values).returning(audit.c.id)).scalar_one()
        mine = statement(conn, values)
        assert mine != core
        assert (_stored(conn, "audit_log", "id", mine, columns)
                == _stored(conn, "audit_log", "id", core, columns))
        # a column not given takes its Python-side default, as Core's insert()
        run = table_of(IngestRun)
        given = {"source": "api:k", "status": IngestStatus.DONE,
                 "finished_at": WHEN.replace(microsecond=0),  # SQLite: still .000000
                 "counts": {"registered": 1}}
        core_run = conn.execute(insert(run).values(**given).returning(run.c.id)).scalar_one()
        mine_run = RowInsert(run, list(given), returning="id")(conn, given)
        cols = ["source", "status", "finished_at", "counts"]
        assert (_stored(conn, "ingest_run", "id", mine_run, cols)
                == _stored(conn, "ingest_run", "id", core_run, cols))
        started = conn.execute(select(run.c.started_at).where(run.c.id == mine_run)).scalar()
        assert isinstance(started, datetime)
        assert conn.execute(select(run.c.status).where(run.c.id == mine_run)).scalar() == "done"


def test_row_update_stores_what_core_stores(store: Engine) -> None:
    customer = table_of(Customer)
    base = {"customer_type": "P", "status": CustomerStatus.ACTIVE, "version": 1, "records": 1,
            "created_at": WHEN, "updated_at": WHEN}
    change = {"records": 2, "status": CustomerStatus.ACTIVE, "merged_into": None,
              "updated_at": datetime(2027, 1, 2, 3, 4, 5), "name": "司马相如", "version": 3}
    cols = ["customer_type", "status", "merged_into", "version", "records", "created_at",
            "updated_at", "name"]
    with store.begin() as conn:
        for no in ("C0000000001", "C0000000002"):
            conn.execute(insert(customer).values(customer_no=no, **base))
        conn.execute(update(customer).where(customer.c.customer_no == "C0000000001")
                     .values(**change))
        RowUpdate(customer, list(change), "customer_no")(conn, change, "C0000000002")
        assert (_stored(conn, "customer", "customer_no", "C0000000002", cols)
                == _stored(conn, "customer", "customer_no", "C0000000001", cols))


def test_fetch_reads_what_text_reads(store: Engine) -> None:
    with store.begin() as conn:
        conn.execute(insert(table_of(Customer)), [
            {"customer_no": f"C{i:010d}", "customer_type": "P", "name": f"名{i}",
             "created_at": WHEN, "updated_at": WHEN} for i in range(1, 6)])
        nos = ["C0000000002", "C0000000004", "C0000000009"]
        where, params = rowsql.in_list(nos, "customer_no")
        sql = f"SELECT customer_no, name, version, created_at FROM customer WHERE {where} " \
              "ORDER BY customer_no"
        core = [dict(r) for r in conn.execute(
            text("SELECT customer_no, name, version, created_at FROM customer "
                 "WHERE customer_no IN ('C0000000002', 'C0000000004', 'C0000000009') "
                 "ORDER BY customer_no")).mappings()]
        assert rowsql.fetch_dicts(conn, sql, params) == core
        assert rowsql.fetch(conn, sql, params) == [tuple(r.values()) for r in core]
        assert len(core) == 2


def test_next_number_is_the_allocators(store: Engine) -> None:
    customer = table_of(Customer)
    with store.begin() as conn:
        assert next_number(conn) == "C0000000001"  # no counter row yet: made
        allocate = NumberAllocator(conn)
        assert allocate() == "C0000000002"
        allocate.save()
        assert next_number(conn) == "C0000000003"
        # never below the highest number in use
        conn.execute(insert(customer).values(customer_no="C0000000010", customer_type="P"))
        assert next_number(conn) == "C0000000011"
        assert NumberAllocator(conn)() == "C0000000012"


def test_together_runs_each_statement_once_in_order(store: Engine) -> None:
    """The statements of one change in one round trip on PostgreSQL (CTEs of the
    last), one by one on SQLite: the same rows either way, the last one's rows back."""
    customer = table_of(Customer)
    base = {"customer_type": "P", "status": CustomerStatus.ACTIVE, "version": 1, "records": 1,
            "created_at": WHEN, "updated_at": WHEN}
    add = RowInsert(customer, ["customer_no", *base], returning="customer_no")
    change = RowUpdate(customer, ["name", "version"], "customer_no")
    with store.begin() as conn:
        conn.execute(insert(customer).values(customer_no="C0000000001", **base))
        got = rowsql.together(conn, [
            (change.sql, change.bind(conn, {"name": "欧阳修", "version": 2}, "C0000000001")),
            (add.sql, add.bind(conn, {"customer_no": "C0000000002", **base, "version": 7})),
            (add.sql, add.bind(conn, {"customer_no": "C0000000003", **base}))])
        assert got == [("C0000000003",)]
        rows = conn.execute(select(customer.c.customer_no, customer.c.name, customer.c.version)
                            .order_by(customer.c.customer_no)).all()
        assert [tuple(r) for r in rows] == [("C0000000001", "欧阳修", 2),
                                            ("C0000000002", None, 7), ("C0000000003", None, 1)]
        assert rowsql.together(conn, [(change.sql, change.bind(
            conn, {"name": "苏轼", "version": 3}, "C0000000002"))]) == []
        assert rowsql.together(conn, []) == []
        assert conn.execute(select(customer.c.name).where(
            customer.c.customer_no == "C0000000002")).scalar() == "苏轼"


def test_together_reads_an_earlier_returning_on_postgresql(store: Engine) -> None:
    """A registration's ingest run and source record in one statement: the record's
    ``ingest_id`` is the run's id (PostgreSQL only: SQLite has no data-modifying CTE)."""
    if store.dialect.name != "postgresql":
        pytest.skip("data-modifying CTEs are PostgreSQL's")
    run = table_of(IngestRun)
    cols = ["source", "status", "finished_at", "counts"]
    first = RowInsert(run, cols, returning="id")
    second = RowInsert(run, cols, returning="id",
                       expressions={"counts": "(SELECT json_build_object('after', id) FROM w0)"})
    values = {"source": "api:k", "status": IngestStatus.DONE, "finished_at": WHEN,
              "counts": {"registered": 1}}
    with store.begin() as conn:
        (second_id,), = rowsql.together(conn, [(first.sql, first.bind(conn, values)),
                                               (second.sql, second.bind(conn, values))])
        first_id = conn.execute(select(run.c.id).where(run.c.id != second_id)
                                .order_by(run.c.id.desc()).limit(1)).scalar_one()
        stored = dict(conn.execute(select(run.c.id, run.c.counts)).all())
        assert stored[first_id] == {"registered": 1}
        assert stored[second_id] == {"after": first_id}
