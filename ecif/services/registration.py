"""Registration and update in real time (实时开户 / 客户信息的修改) through the API.

``register``: the record is match-checked inside the write transaction and
attached to the matched customer or given a new one (with a review task on
``possible``); the source record, its link, its blocking keys, the golden
record and an audit row are written together, through the same
:func:`ecif.services.clusters.apply_clusters` as the batch and the stewards.
Idempotent on the source key: the same identity again answers the same
customer; another identity under the same key is a :class:`Conflict`.

Two registrations of one person at once never make two customers: on
PostgreSQL each takes a transaction advisory lock on every blocking key of
its record (two records of one person share at least the key of the rule
that pairs them), so the second waits, then finds the first; on SQLite the
write transaction itself serialises writers (``BEGIN IMMEDIATE``).

Each call is an ingest run of its own (``ingest_run``, source ``api:<key>``),
so the next nightly batch has the record in scope like any file row and
keeps its customer number (the record is already a member of it).

A registration touches one customer (the matched one, or a new one), so it
takes a one-record path (:func:`_place_one`) rather than the batch's
frame-based :func:`apply_clusters` and ``refresh_golden``: the same rows
(customer, link, golden record by the same survivorship rules through
:func:`matching.survivorship.golden_record`, history row; no merge event, as
none is due when one new record joins one customer), tested equal to the
batch path (``tests/review_app/test_api_register_path.py``).

``update``: a new version of a stored record, under ingest's rules (the
newest ``updated_at`` wins, the replaced version kept); an identity change
is matched again (``match`` elsewhere moves the record; a manually linked
record gets an ``identity_change`` task instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, update

from ecif import rowsql
from ecif.bulk import table_of
from ecif.ingest import std_version
from ecif.ingest_prepare import identity_key_of
from ecif.rowsql import RowInsert
from ecif.services.audit import audit, audit_statement
from ecif.services.base import Actor, unit_of_work
from ecif.services.clusters import EventInfo, apply_clusters, next_number
from ecif.services.customers import records_of
from ecif.services.feed import write_feed_for_events
from ecif.services.golden import refresh_golden_of, refresh_golden_one
from ecif.services.matchcheck import Decision, Matcher, MatchOutcome
from ecif.services.realtime_index import index_record, index_statements
from ecif.services.tasks import add_members
from matching.exceptions import BadInput, Conflict, NotFound
from matching.realtime.blocking import block_keys, text_key
from matching.realtime.features import record_features
from matching.standardise.steps import utc_instant
from matching.vocabulary import CustomerStatus, IngestStatus, LinkType, TaskStatus, TaskType
from models.base import utcnow
from models.customer import Customer, Link
from models.event import MergeEvent
from models.source_record import STD_FIELDS, IngestRun, SourceRecord, SourceRecordVersion
from models.task import ReviewTask

__all__ = ["Registered", "register", "update_record"]

_MAX_TASK_CUSTOMERS = 12


@dataclass
class Registered:
    customer_no: str
    decision: str
    task_id: int | None
    created: bool  # a new customer was made (HTTP 201)
    changed: bool = True  # update: False when the version was not newer

    def as_json(self) -> dict[str, Any]:
        return {"customer_no": self.customer_no, "decision": self.decision,
                "task_id": self.task_id}


def _identity(record: dict[str, str | None]) -> str:
    return identity_key_of(record)


def _std_version(config_dir: Path) -> str:
    """:func:`std_version`, read again only when the code maps' file changes."""
    stamp = (config_dir / "codes.yaml").stat().st_mtime_ns
    key = (str(config_dir), stamp)
    if key not in _STD_VERSIONS:
        _STD_VERSIONS[key] = std_version(config_dir)
    return _STD_VERSIONS[key]


_STD_VERSIONS: dict[tuple[str, int], str] = {}


def _updated_key(record: dict[str, str | None]) -> str:
    text = record.get("updated_at")
    if not text:
        return ""
    return utc_instant(datetime.fromisoformat(text))


def _locks(record: dict[str, str | None], ctype: str, source_key: str) -> list[int]:
    """PostgreSQL's advisory lock keys of a registration or an update (taken by
    :func:`unit_of_work` with its job check, in key order): the record's blocking keys
    and its source key. From the record alone: no candidate rule reads the one column
    the store's branches decide (``branch_state``; ``tests/realtime/test_blocking.py``)."""
    return sorted({*block_keys(record_features(record), ctype),
                   text_key(f"source\x1f{source_key}")})


# The rows a registration writes, at the driver level (ecif.rowsql): Core's statement
# building and execution was most of a registration's CPU.
_INSERT_RUN = RowInsert(table_of(IngestRun), ("source", "status", "finished_at", "counts"),
                        returning="id")
_RECORD_COLUMNS = ("record_key", "source_system", "source_customer_id", "customer_type",
                   "updated_at", "updated_key", "raw", "version", "ingest_id", "std_version",
                   "identity_key", *STD_FIELDS)
_INSERT_RECORD = RowInsert(table_of(SourceRecord), _RECORD_COLUMNS, returning="id")
#: PostgreSQL: the record with the run in one statement (rowsql.together; the run is w0)
_INSERT_RECORD_OF_RUN = RowInsert(table_of(SourceRecord), _RECORD_COLUMNS, returning="id",
                                  expressions={"ingest_id": "(SELECT id FROM w0)"})
_INSERT_CUSTOMER = RowInsert(table_of(Customer), (
    "customer_no", "customer_type", "status", "version", "records", "created_at", "updated_at",
    "created_run", "updated_run"))
_INSERT_LINK = RowInsert(table_of(Link), (
    "record_id", "customer_no", "link_type", "rule", "model_version", "identity_key", "run_id",
    "since"))
_EXISTING = ("SELECT s.id, s.identity_key, l.customer_no FROM source_record s "
             "LEFT OUTER JOIN link l ON l.record_id = s.id "
             "WHERE s.source_system = ? AND s.source_customer_id = ?")


def _run_values(actor: Actor, what: str) -> dict[str, Any]:
    return {"source": f"api:{actor}", "status": IngestStatus.DONE, "finished_at": utcnow(),
            "counts": {what: 1}}


def _ingest_run(conn: Connection, actor: Actor, what: str) -> int:
    return int(_INSERT_RUN(conn, _run_values(actor, what)))


def _open_task(conn: Connection, kind: str, ctype: str, record_ids: list[tuple[int, str]]
               ) -> int:
    now = utcnow()
    task_id = int(conn.execute(insert(ReviewTask).values(
        task_type=kind, status=TaskStatus.OPEN, customer_type=ctype, created_at=now,
        updated_at=now).returning(ReviewTask.id)).scalar_one())
    add_members(conn, [(task_id, rid, no) for rid, no in record_ids])
    return task_id


def _suspect_task(conn: Connection, outcome: MatchOutcome, record_id: int, customer_no: str,
                  ctype: str) -> int | None:
    others = [c.customer_no for c in outcome.candidates
              if c.tier >= 1 and c.customer_no != customer_no][: _MAX_TASK_CUSTOMERS - 1]
    if not others:
        return None
    members = conn.execute(
        select(Link.record_id, Link.customer_no).join(SourceRecord,
                                                      SourceRecord.id == Link.record_id)
        .where(Link.customer_no.in_(sorted(set(others))))
        .order_by(Link.customer_no, SourceRecord.record_key)).all()
    rows = [(record_id, customer_no)] + [(int(r), str(n)) for r, n in members]
    kind = TaskType.PERSON_SUSPECT if ctype == "P" else TaskType.ORG_SUSPECT_GROUP
    return _open_task(conn, kind, ctype, rows)


def _link_of(outcome: MatchOutcome) -> tuple[str | None, str, str | None, str | None]:
    """(target customer or None, link type, rule, model version) for ``outcome``."""
    target = outcome.customer_no if outcome.decision == Decision.MATCH else None
    if target:
        link, rule = ((LinkType.AUTO_RULE, outcome.rule) if outcome.rule
                      and not outcome.rule.startswith("model:")
                      else (LinkType.AUTO_MODEL, outcome.rule))
        version = outcome.model_version if link == LinkType.AUTO_MODEL else None
    else:
        link, rule, version = LinkType.NEW, None, None
    return target, link, rule, version


def _place_one(conn: Connection, record_id: int, ctype: str, identity: str,
               outcome: MatchOutcome, config_dir: Path,
               writes: list[tuple[str, tuple[Any, ...]]]) -> tuple[str, bool]:
    """A new record (linked to nothing yet) joins the matched customer or a new one:
    what :func:`_place` writes for it, without frames (the golden record's writes
    appended to ``writes``). Return (number, created)."""
    target, link, rule, version = _link_of(outcome)
    now = utcnow()
    rows: list[tuple[str, tuple[Any, ...]]] = []
    if target is None:
        number = next_number(conn)
        rows.append((_INSERT_CUSTOMER.sql, _INSERT_CUSTOMER.bind(conn, {
            "customer_no": number, "customer_type": ctype, "status": CustomerStatus.ACTIVE,
            "version": 1, "records": 1, "created_at": now, "updated_at": now,
            "created_run": None, "updated_run": None})))
    else:
        number = target
    rows.append((_INSERT_LINK.sql, _INSERT_LINK.bind(conn, {
        "record_id": record_id, "customer_no": number, "link_type": link, "rule": rule,
        "model_version": version, "identity_key": identity, "run_id": None, "since": now})))
    rowsql.together(conn, rows)  # one round trip on PostgreSQL
    refresh_golden_one(conn, number, config_dir, now=now, recount=target is not None,
                       writes=writes)
    return number, target is None


def _place(conn: Connection, record_id: int, record_key: str, ctype: str, identity: str,
           outcome: MatchOutcome, actor: Actor, config_dir: Path,
           current: str | None = None) -> tuple[str, bool]:
    """Link the record as ``outcome`` says (to its customer, or to a new one); return
    (customer number, created). The batch's frame-based path (an update that moves a
    record); a registration takes :func:`_place_one`."""
    target, link, rule, version = _link_of(outcome)
    touched = sorted({n for n in (target, current) if n})
    plan = records_of(conn, touched) if touched else pd.DataFrame()
    if len(plan):
        plan = plan[plan["record_id"] != record_id]
        plan = plan.assign(cluster=plan["prior_no"])
    cluster = target or f"new:{record_key}"
    row: dict[str, Any] = {"record_id": record_id, "record_key": record_key, "customer_type": ctype,
           "identity_key": identity, "cluster": cluster,
           "link_type": link, "rule": rule, "model_version": version,
           "prior_no": current, "old_link_type": None, "old_identity": None,
           "old_rule": None, "old_model_version": None}
    plan = pd.concat([plan, pd.DataFrame([row])], ignore_index=True) if len(plan) \
        else pd.DataFrame([row])
    plan = plan.astype(object).where(plan.notna(), None)
    applied = apply_clusters(conn, plan, None, info=EventInfo(created_by=str(actor)))
    if applied.events:
        write_feed_for_events(conn, MergeEvent.id.in_(applied.events))
    number = applied.numbers[cluster]
    refresh_golden_of(conn, sorted({number, *touched}), config_dir)
    return number, target is None


def _new_record(conn: Connection, raw: dict[str, Any], record: dict[str, str | None],
                identity: str, actor: Actor, config_dir: Path) -> int:
    """Write a registered record (an ingest run of its own); return its id."""
    system, cid = record["source_system"], record["source_customer_id"]
    values = {f: record.get(f) for f in STD_FIELDS}
    row = {
        "record_key": f"{system}:{cid}", "source_system": system, "source_customer_id": cid,
        "customer_type": record.get("customer_type") or "P",
        "updated_at": record.get("updated_at"), "updated_key": _updated_key(record),
        "raw": dict(raw), "version": 1, "std_version": _std_version(config_dir),
        "identity_key": identity, **values}
    run = _run_values(actor, "registered")
    if conn.dialect.name == "postgresql":  # the run and the record in one round trip
        got = rowsql.together(conn, [(_INSERT_RUN.sql, _INSERT_RUN.bind(conn, run)), (
            _INSERT_RECORD_OF_RUN.sql, _INSERT_RECORD_OF_RUN.bind(conn, row))])
        return int(got[0][0])
    return int(_INSERT_RECORD(conn, {**row, "ingest_id": _INSERT_RUN(conn, run)}))


def register(engine: Engine, raw: dict[str, Any], record: dict[str, str | None],
             matcher: Matcher, *,
             actor: Actor, config_dir: Path) -> Registered:
    """Register a standardised record (``api_input.parse_record(raw, ..., register=True)``)."""
    system, cid = record["source_system"], record["source_customer_id"]
    record_key = f"{system}:{cid}"
    ctype = record.get("customer_type") or "P"
    identity = _identity(record)
    with unit_of_work(engine, "registering a customer",
                      locks=_locks(record, ctype, record_key)) as conn:
        found = rowsql.fetch(conn, _EXISTING, (system, cid))
        if found:
            _id, existing_identity, existing_no = found[0]
            if existing_identity != identity or existing_no is None:
                raise Conflict(f"{record_key} is registered already with other identity "
                               "fields; send an update (PUT) instead")
            return Registered(existing_no, Decision.MATCH, None, False)
        outcome = matcher.check(conn, record)
        record_id = _new_record(conn, raw, record, identity, actor, config_dir)
        writes: list[tuple[str, tuple[Any, ...]]] = []
        number, created = _place_one(conn, record_id, ctype, identity, outcome, config_dir,
                                     writes)
        task_id = (_suspect_task(conn, outcome, record_id, number, ctype)
                   if outcome.decision == Decision.POSSIBLE else None)
        writes += index_statements(record_id, outcome.features, ctype, matcher.weak_index)
        writes.append(audit_statement(
            conn, actor, "api_register", "source_record", record_key,
            after={"customer_no": number, "decision": outcome.decision, "task_id": task_id}))
        rowsql.together(conn, writes)  # the golden record, keys and audit row: one round trip
    return Registered(number, outcome.decision, task_id, created)


def update_record(engine: Engine, raw: dict[str, Any], record: dict[str, str | None],
                  matcher: Matcher, *,
                  actor: Actor, config_dir: Path) -> Registered:
    """A new version of a stored source record (``PUT``)."""
    system, cid = record["source_system"], record["source_customer_id"]
    record_key = f"{system}:{cid}"
    ctype = record.get("customer_type") or "P"
    identity = _identity(record)
    with unit_of_work(engine, "updating a source record",
                      locks=_locks(record, ctype, record_key)) as conn:
        cur = conn.execute(
            select(SourceRecord, Link.customer_no, Link.link_type,
                   Link.identity_key.label("link_identity"))
            .join(Link, Link.record_id == SourceRecord.id)
            .where(SourceRecord.source_system == system,
                   SourceRecord.source_customer_id == cid)).first()
        if cur is None:
            raise NotFound(f"no registered source record {record_key}")
        if cur.customer_type != ctype:
            raise BadInput("a record cannot change its customer type",
                           fields={"customer_type": f"the record is {cur.customer_type}"})
        key = _updated_key(record)
        if key and cur.updated_key and key <= cur.updated_key:
            return Registered(cur.customer_no, Decision.MATCH, None, False, changed=False)
        ingest_id = _ingest_run(conn, actor, "updated")
        conn.execute(insert(SourceRecordVersion).values(
            record_id=cur.id, version=cur.version, updated_at=cur.updated_at, raw=cur.raw,
            ingest_id=cur.ingest_id))
        values = {f: record.get(f) for f in STD_FIELDS}
        conn.execute(update(SourceRecord).where(SourceRecord.id == cur.id).values(
            updated_at=record.get("updated_at"), updated_key=key, raw=dict(raw),
            version=cur.version + 1, ingest_id=ingest_id, std_version=std_version(config_dir),
            identity_key=identity, changed_at=utcnow(), **values))
        number, decision, task_id = cur.customer_no, Decision.MATCH, None
        if identity != cur.link_identity:
            if cur.link_type == LinkType.MANUAL:
                task_id = _open_task(conn, TaskType.IDENTITY_CHANGE, ctype,
                                     [(cur.id, cur.customer_no)])
                decision = Decision.POSSIBLE
            else:
                outcome = matcher.check(conn, record, exclude_key=record_key)
                decision = outcome.decision
                alone = len(records_of(conn, [cur.customer_no])) == 1
                moves = (outcome.decision == Decision.MATCH
                         and outcome.customer_no != cur.customer_no) or not alone
                if moves:
                    number, _ = _place(conn, cur.id, record_key, ctype, identity, outcome,
                                       actor, config_dir, current=cur.customer_no)
                else:
                    conn.execute(update(Link).where(Link.record_id == cur.id)
                                 .values(identity_key=identity))
                if outcome.decision == Decision.POSSIBLE:
                    task_id = _suspect_task(conn, outcome, cur.id, number, ctype)
        refresh_golden_of(conn, [number], config_dir)
        index_record(conn, cur.id, matcher.features(conn, record), ctype,
                     matcher.weak_index)
        audit(conn, actor, "api_update", "source_record", record_key,
              after={"customer_no": number, "decision": decision, "task_id": task_id,
                     "version": cur.version + 1})
    return Registered(number, decision, task_id, False)
