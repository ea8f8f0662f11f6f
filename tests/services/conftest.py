"""A small batched store for the service tests (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from ecif.ingest import ingest_files
from ecif.services.base import Actor
from ecif.services.policy import ReviewPolicy
from matching.config import DEFAULT_CONFIG_DIR
from matching.vocabulary import Role
from tests.store.helpers import batch, org, person, query, rid, write_csv

ZHANG = rid("11010119900307001")
WANG = rid("31010419851212002")

STEWARD = Actor("steward1", Role.STEWARD)
STEWARD2 = Actor("steward2", Role.STEWARD)
APPROVER = Actor("approver1", Role.APPROVER)
VIEWER = Actor("viewer1", Role.VIEWER)
CONFIG = DEFAULT_CONFIG_DIR
#: every action applies at once unless a test asks for approval
NO_APPROVAL = ReviewPolicy(approval={a: False for a in ReviewPolicy().approval})


def night(store: Engine, tmp_path: Path, name: str, rows: list[dict[str, str]]) -> None:
    ingest_files(store, [write_csv(tmp_path / f"{name}.csv", rows)], workers=1)


@pytest.fixture
def people(store: Engine, tmp_path: Path, sample_models: Path) -> Engine:
    """张伟 twice (one customer by a strong rule), 王芳 with an ID, 王芳 without."""
    night(store, tmp_path, "n1", [
        person("CORE", "C1", "张伟", ZHANG, mobile="13800138000"),
        person("CLAIM", "K1", "張偉", ZHANG),
        person("UW", "U1", "王芳", WANG),
        person("WEB", "W1", "王芳", mobile="13911112222"),
    ])
    batch(store, sample_models)
    return store


@pytest.fixture
def orgs(store: Engine, tmp_path: Path, sample_models: Path) -> Engine:
    """Two organisations sharing a landline: one open weak-rule review task."""
    night(store, tmp_path, "n1", [
        org("CORE", "G1", "上海远航贸易有限公司", phone="021-55551234"),
        org("UW", "G2", "远航国际物流（上海）有限公司", phone="021-55551234"),
    ])
    batch(store, sample_models)
    return store


def customer_of(store: Engine) -> Callable[[str], str]:
    def of(key: str) -> str:
        return str(query(store, "SELECT l.customer_no FROM link l JOIN source_record s "
                                "ON s.id = l.record_id WHERE s.record_key = :k",
                         {"k": key})["customer_no"].iloc[0])
    return of


def state(store: Engine) -> dict[str, object]:
    """What a round trip must give back: links, customers, golden fields."""
    links = query(store, "SELECT s.record_key, l.customer_no FROM link l JOIN source_record s "
                         "ON s.id = l.record_id ORDER BY s.record_key")
    customers = query(store, "SELECT customer_no, status, merged_into, records, name, "
                             "id_number, mobile FROM customer ORDER BY customer_no")
    return {"links": links.values.tolist(),
            "customers": customers.astype(object).where(customers.notna(), None)
            .values.tolist()}


def open_task(store: Engine) -> int:
    tasks = query(store, "SELECT id FROM review_task WHERE status = 'open' ORDER BY id")
    assert len(tasks) == 1, tasks
    return int(tasks["id"].iloc[0])


__all__ = ["ZHANG", "WANG", "STEWARD", "STEWARD2", "APPROVER", "VIEWER", "CONFIG",
           "NO_APPROVAL", "night", "customer_of", "state", "open_task", "pd"]
