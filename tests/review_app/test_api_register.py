"""Registration and update through the API (CONTRACT.md §4), SQLite and
PostgreSQL: attach or create, idempotent on the source key, 409 on another
identity, a review task on ``possible``, concurrent registrations of one
person make one customer, an update moves an identity change, the next
batch keeps the numbers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ecif.bulk import read_frame
from ecif.services.api_input import parse_record
from ecif.services.matchcheck import Matcher
from ecif.services.registration import register
from matching.config import DEFAULT_CONFIG_DIR, load_code_maps
from matching.engine.config import load_engine_config
from tests.review_app.api_helpers import OPERATOR, ApiStore, build_api_store
from tests.store.helpers import batch

CUSTOMERS = "/api/v1/customers"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
        sample_models: Path) -> Iterator[ApiStore]:
    yield from build_api_store(request, tmp_path_factory.mktemp("reg"), sample_models)


@pytest.fixture(scope="module")
def key(api: ApiStore) -> str:
    return api.key()


def _person(cid: str, **extra: str) -> dict[str, Any]:
    body = {"source_system": "API", "source_customer_id": cid, "customer_type": "P",
            "name": "司马相如", "gender": "M", "birth_date": "1979-06-15",
            "id_type": "RESIDENT_ID", "id_number": "11010519790615001X",
            "mobile": "13911112222", "updated_at": "2026-12-01T10:00:00+08:00"}
    body.update(extra)
    return body


def _customers_of(api: ApiStore, prefix: str) -> set[str]:
    with api.engine.connect() as conn:
        frame = read_frame(conn, "SELECT l.customer_no FROM link l JOIN source_record s "
                                 f"ON s.id = l.record_id WHERE s.record_key LIKE '{prefix}%'")
    return set(frame["customer_no"])


def test_register_attach_idempotent_conflict(api: ApiStore, key: str) -> None:
    first = api.post(CUSTOMERS, _person("R1"), key)
    assert first.status_code == 201 and first.get_json()["decision"] == "new"
    no = first.get_json()["customer_no"]
    again = api.post(CUSTOMERS, _person("R1"), key)
    assert again.status_code == 200 and again.get_json()["customer_no"] == no
    other = api.post(CUSTOMERS, _person("R2", mobile="", source_system="WEB",
                                        id_type="ID_CARD", gender="male"), key)
    assert other.status_code == 200
    assert other.get_json() == {"customer_no": no, "decision": "match", "task_id": None}
    conflict = api.post(CUSTOMERS, _person("R1", name="司马光"), key)
    assert conflict.status_code == 409 and conflict.get_json()["error"] == "conflict"
    body = api.client.get(f"{CUSTOMERS}/{no}", headers={"X-API-Key": key}).get_json()
    assert {r["source_customer_id"] for r in body["records"]} == {"R1", "R2"}
    with api.engine.connect() as conn:
        audit = read_frame(conn, "SELECT object_id FROM audit_log WHERE action = 'api_register'")
    assert {"API:R1", "WEB:R2"} <= set(audit["object_id"])
    match_only = api.key(("match",))
    assert api.post(CUSTOMERS, _person("R3"), match_only).status_code == 403
    bad = api.post(CUSTOMERS, {"customer_type": "P", "name": "张三"}, key)
    assert bad.status_code == 400
    assert set(bad.get_json()["fields"]) == {"source_system", "source_customer_id"}


def test_possible_opens_a_task(api: ApiStore, key: str) -> None:
    base = _person("T1", name="欧阳修文", id_number="", id_type="", birth_date="1965-02-03",
                   mobile="13700001111", address="北京市海淀区中关村大街27号")
    assert api.post(CUSTOMERS, base, key).status_code == 201
    near = dict(base, source_customer_id="T2", name="欧阳修", mobile="13700001112",
                birth_date="1965-03-02")
    check = api.post("/api/v1/match-check", {k: v for k, v in near.items()
                                             if k not in ("source_customer_id", "updated_at")},
                     key).get_json()
    got = api.post(CUSTOMERS, near, key).get_json()
    assert got["decision"] == check["decision"]
    if got["decision"] == "possible":
        assert got["task_id"] is not None
        with api.engine.connect() as conn:
            members = read_frame(conn, "SELECT customer_no FROM task_member "
                                       f"WHERE task_id = {int(got['task_id'])}")
        assert got["customer_no"] in set(members["customer_no"])
        assert len(set(members["customer_no"])) >= 2
    else:
        assert got["task_id"] is None


def test_concurrent_registrations_make_one_customer(api: ApiStore) -> None:
    matcher = Matcher(load_engine_config(), load_code_maps())
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def one(i: int) -> None:
        raw = _person(f"C{i}", name="诸葛亮明", id_number="110105198001010013",
                      birth_date="1980-01-01", mobile="13811110000")
        record = parse_record(raw, matcher.codes, register=True)
        start.wait()
        try:
            register(api.engine, raw, record, matcher, actor=OPERATOR,
                     config_dir=DEFAULT_CONFIG_DIR)
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(_customers_of(api, "API:C")) == 1


def test_update_moves_an_identity_change_and_batch_keeps_numbers(
        api: ApiStore, key: str, sample_models: Path) -> None:
    a = api.post(CUSTOMERS, _person("U1", name="上官婉儿", id_number="110105199201020022",
                                    birth_date="1992-01-02", gender="F", mobile="13600001111"),
                 key).get_json()["customer_no"]
    b_body = _person("U2", name="东方不败", id_number="110105198803040031",
                     birth_date="1988-03-04", mobile="13600002222")
    b = api.post(CUSTOMERS, b_body, key).get_json()["customer_no"]
    assert a != b
    older = api.client.put(f"{CUSTOMERS}/records/API/U1", headers={"X-API-Key": key},
                           json=_person("U1", updated_at="2020-01-01T00:00:00+08:00"))
    assert older.status_code == 200 and older.get_json()["updated"] is False
    moved = api.client.put(f"{CUSTOMERS}/records/API/U1", headers={"X-API-Key": key},
                           json=dict(b_body, source_customer_id="U1",
                                     updated_at="2026-12-03T10:00:00+08:00"))
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["customer_no"] == b and moved.get_json()["updated"] is True
    assert api.client.put(f"{CUSTOMERS}/records/API/nobody", headers={"X-API-Key": key},
                          json=_person("nobody")).status_code == 404
    with api.engine.connect() as conn:
        versions = read_frame(conn, "SELECT v.version FROM source_record_version v "
                                    "JOIN source_record s ON s.id = v.record_id "
                                    "WHERE s.record_key = 'API:U1'")
    assert list(versions["version"]) == [1]
    before = {k: _customers_of(api, k) for k in ("API:R1", "WEB:R2", "API:U1", "API:U2")}
    batch(api.engine, sample_models)
    after = {k: _customers_of(api, k) for k in before}
    assert after == before


def test_pool_keeps_every_thread_s_connections(api: ApiStore, key: str) -> None:
    """A server of 4 threads, each request holding up to two connections (its read
    connection and a registration's write transaction): with ``ECIF_POOL_SIZE`` 8
    (what ``ecif serve`` sets for 4 threads) no connection is opened beyond the 8,
    however many requests; a pool of SQLAlchemy's default 5 opened and closed one
    for most requests beyond it."""
    from sqlalchemy import event

    from review_app import create_app

    url = api.engine.url.render_as_string(hide_password=False)
    app = create_app({"ECIF_DATABASE_URL": url, "TESTING": True,
                      "ECIF_CONFIG_DIR": str(DEFAULT_CONFIG_DIR), "ECIF_POOL_SIZE": 8})
    engine = app.extensions["ecif_engine"]
    opened: list[int] = []
    event.listen(engine, "connect", lambda *_: opened.append(1))
    start = threading.Barrier(4)
    statuses: list[int] = []

    def one(t: int) -> None:
        client = app.test_client()
        start.wait()
        for i in range(12):
            body = _person(f"POOL{t}-{i}", name=f"欧阳{'一二三四'[t]}{'甲乙丙丁戊己庚辛壬癸子丑'[i]}",
                           mobile=f"1390000{t}{i:03d}")
            del body["id_type"], body["id_number"]
            got = client.post(CUSTOMERS, json=body, headers={"X-API-Key": key})
            statuses.append(got.status_code)
            probe = {k: v for k, v in body.items()
                     if k not in ("source_customer_id", "updated_at")}
            check = client.post("/api/v1/match-check", json=probe, headers={"X-API-Key": key})
            statuses.append(check.status_code)

    threads = [threading.Thread(target=one, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == 96 and set(statuses) <= {200, 201}, statuses
    assert 1 <= len(opened) <= 8
    # all 8 at once, given back, then 8 again: the same 8 connections
    for _ in range(2):
        held = [engine.connect() for _ in range(8)]
        for conn in held:
            conn.close()
    engine.dispose()
    assert len(opened) <= 8


def test_registration_waits_for_no_batch(api: ApiStore, key: str) -> None:
    """While the nightly batch holds the store a registration is refused (503 with
    Retry-After) and writes nothing; once it ends the same call registers. On
    PostgreSQL the job check and the record's key locks are one statement."""
    from models.lock import job_lock

    body = _person("BUSY1", name="卓文君", gender="F", birth_date="1985-02-14",
                   id_number="110105198502140025", mobile="13922223333")
    with job_lock(api.engine, "batch"):
        refused = api.post(CUSTOMERS, body, key)
        assert refused.status_code == 503, refused.get_json()
        assert refused.headers["Retry-After"] == "60"
        assert refused.get_json()["error"] == "busy"
    assert _customers_of(api, "API:BUSY1") == set()
    done = api.post(CUSTOMERS, body, key)
    assert done.status_code == 201, done.get_json()
    assert len(_customers_of(api, "API:BUSY1")) == 1
