"""The registration's one-record path (no frames) writes what the batch's
frame-based path (``apply_clusters`` + ``refresh_golden``) writes for the same
record: the same customer, link, golden record, version and history row, the
same counter, no merge event; on SQLite and PostgreSQL. Each record is placed
both ways in a transaction that is rolled back, on the same store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Connection, text

from ecif import rowsql
from ecif.services import registration
from ecif.services.api_input import parse_record
from ecif.services.matchcheck import Decision, Matcher
from matching.config import DEFAULT_CONFIG_DIR, load_code_maps
from matching.engine.config import load_engine_config
from matching.exceptions import BadInput
from tests.review_app.api_helpers import OPERATOR, ApiStore, build_api_store

NIGHT2 = Path(__file__).parents[2] / "data" / "sample" / "nights" / "day_002.csv"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
        sample_models: Path) -> Iterator[ApiStore]:
    yield from build_api_store(request, tmp_path_factory.mktemp("regpath"), sample_models)


def _rows(conn: Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(text(sql), params).mappings()]


def _snapshot(conn: Connection, number: str) -> dict[str, Any]:
    """What a placement leaves for ``number`` (times left out: they differ by a few µs)."""
    return {
        "customer": _rows(conn, "SELECT customer_no, customer_type, status, merged_into, "
                                "version, records, created_run, updated_run, name, gender, "
                                "birth_date, id_type, id_number, mobile, email, phone, "
                                "address, legal_rep FROM customer WHERE customer_no = :n",
                          n=number),
        "links": _rows(conn, "SELECT record_id, customer_no, link_type, rule, model_version, "
                             "identity_key, run_id FROM link WHERE customer_no = :n "
                             "ORDER BY record_id", n=number),
        "history": [{**r, "fields": json.loads(r["fields"])}
                    for r in _rows(conn, "SELECT customer_no, version, run_id, fields "
                                         "FROM customer_history WHERE customer_no = :n "
                                         "ORDER BY version", n=number)],
        "events": _rows(conn, "SELECT count(*) AS n FROM merge_event"),
        "counter": _rows(conn, "SELECT value FROM counter"),
    }


def test_one_record_path_equals_the_batch_path(api: ApiStore) -> None:
    matcher = Matcher(load_engine_config(), load_code_maps())
    night = pd.read_csv(NIGHT2, dtype=str, keep_default_na=False)
    seen: dict[str, int] = {}
    changed_golden = 0
    for i, row in enumerate(night.head(120).to_dict("records")):
        raw = {k: v for k, v in row.items() if v} | {"source_system": "API",
                                                     "source_customer_id": f"P{i}"}
        try:
            record = parse_record(raw, matcher.codes, register=True)
        except BadInput:  # a row admission rejects (no name, ...)
            continue
        identity = registration._identity(record)
        ctype = record.get("customer_type") or "P"
        snaps = []
        for one in (False, True):
            with api.engine.connect() as conn:
                before = _rows(conn, "SELECT count(*) AS n, max(id) AS top FROM source_record")
                conn.rollback()  # (the read began a transaction)
                trans = conn.begin()
                outcome = matcher.check(conn, record)
                rid = registration._new_record(conn, raw, record, identity, OPERATOR,
                                               DEFAULT_CONFIG_DIR)
                if one:  # its golden record's writes in one round trip, as register's
                    writes: list[tuple[str, tuple[object, ...]]] = []
                    number, created = registration._place_one(
                        conn, rid, ctype, identity, outcome, DEFAULT_CONFIG_DIR, writes)
                    rowsql.together(conn, writes)
                else:
                    number, created = registration._place(
                        conn, rid, f"API:P{i}", ctype, identity, outcome, OPERATOR,
                        DEFAULT_CONFIG_DIR)
                snap = _snapshot(conn, number)
                for link in snap["links"]:  # (a PostgreSQL sequence is not rolled back)
                    link["record_id"] = -1 if link["record_id"] == rid else link["record_id"]
                snaps.append((number, created, outcome.decision, snap))
                trans.rollback()
                assert _rows(conn, "SELECT count(*) AS n, max(id) AS top "
                                   "FROM source_record") == before
        for k in snaps[0][3]:
            assert snaps[0][3][k] == snaps[1][3][k], (i, k, snaps[0][3][k], snaps[1][3][k])
        assert snaps[0] == snaps[1], (i, raw)
        decision = snaps[0][2]
        seen[decision] = seen.get(decision, 0) + 1
        history = snaps[0][3]["history"]
        if decision == Decision.MATCH and len(snaps[0][3]["links"]) > 1 and len(history) > 1:
            changed_golden += 1
    # the sample's second night holds resends, new people and people seen before
    assert seen.get(Decision.MATCH, 0) >= 20 and seen.get(Decision.NEW, 0) >= 5, seen
    assert changed_golden >= 1
