"""The integrators' API (CONTRACT.md §4) on a store after the sample's first night,
SQLite and PostgreSQL: shapes checked against the served OpenAPI document,
errors, keys and scopes, masking, rate limit; match-check against the batch
(the same customer for what it auto-merged, the same probability for every
pair it kept)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecif.bulk import read_frame
from ecif.services import customers
from ecif.services.apikeys import revoke_key
from ecif.services.base import unit_of_work
from ecif.services.matchcheck import Matcher
from matching.config import DEFAULT_CONFIG_DIR, load_code_maps
from matching.engine.config import load_engine_config
from matching.standardise.record import standardise_record
from tests.review_app.api_helpers import NIGHT, OPERATOR, ApiStore, build_api_store

MATCH = "/api/v1/match-check"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
        sample_models: Path) -> Iterator[ApiStore]:
    yield from build_api_store(request, tmp_path_factory.mktemp("api"), sample_models)


@pytest.fixture(scope="module")
def key(api: ApiStore) -> str:
    return api.key()


def _schema(api: ApiStore, name: str) -> Any:
    doc = api.client.get("/api/v1/openapi.json").get_json()
    return jsonschema_rs.validator_for({"$ref": f"#/components/schemas/{name}",
                                        "components": doc["components"]})


def _rows(n: int | None = None) -> list[dict[str, str]]:
    frame = pd.read_csv(NIGHT, dtype=str, keep_default_na=False)
    return frame.head(n).to_dict("records") if n else frame.to_dict("records")


def _probe(row: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in row.items() if k not in ("source_customer_id", "updated_at") and v}


def test_match_check_answers_as_documented(api: ApiStore, key: str) -> None:
    check, error = _schema(api, "MatchCheck"), _schema(api, "Error")
    decisions = set()
    for row in _rows(60):
        resp = api.post(MATCH, _probe(row), key)
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        check.validate(body)
        decisions.add(body["decision"])
        if body["decision"] == "match":
            assert body["customer_no"] == body["candidates"][0]["customer_no"]
    assert "match" in decisions
    resp = api.post(MATCH, {"customer_type": "P", "name": "欧阳娜娜", "birth_date": "1931-02-03"},
                    key)
    assert resp.get_json()["decision"] == "new" and resp.get_json()["customer_no"] is None
    error.validate(api.post(MATCH, {}, key).get_json())


def test_match_check_agrees_with_the_batch(api: ApiStore) -> None:
    """Each record of the night, asked about as if new (itself left out): a record the
    batch auto-merged with others is ``match`` with the same customer, and every
    scored pair the batch kept gets its probability to 1e-6."""
    matcher = Matcher(load_engine_config(), load_code_maps())
    with api.engine.connect() as conn:
        links = read_frame(conn, "SELECT s.record_key, l.customer_no, l.link_type, "
                                 "count(*) OVER (PARTITION BY l.customer_no) AS n "
                                 "FROM link l JOIN source_record s ON s.id = l.record_id")
        pairs = read_frame(conn, "SELECT left_key, right_key, match_probability "
                                 "FROM match_pair WHERE match_probability IS NOT NULL")
        by_key = links.set_index("record_key")
        scored: dict[tuple[str, str], float] = {}
        merged_ok = merged = 0
        for row in _rows():
            rk = f"{row['source_system']}:{row['source_customer_id']}"
            if rk not in by_key.index:
                continue
            record = standardise_record(row, matcher.codes).record
            out = matcher.check(conn, record, exclude_key=rk)
            for c in out.scored:
                scored[(rk, c.record_key)] = c.score.match_probability
            link = by_key.loc[rk]
            if link["link_type"] in ("auto_rule", "auto_model") and link["n"] > 1:
                merged += 1
                merged_ok += out.decision == "match" and out.customer_no == link["customer_no"]
    assert merged > 300
    assert merged_ok / merged >= 0.99, (merged_ok, merged)
    checked = 0
    for p in pairs.itertuples():
        got = scored.get((p.left_key, p.right_key), scored.get((p.right_key, p.left_key)))
        if got is None:
            continue
        checked += 1
        assert abs(got - p.match_probability) < 1e-6, (p.left_key, p.right_key)
    assert checked > 0.9 * len(pairs) and checked > 100


def test_keys_scopes_and_masking(api: ApiStore, key: str) -> None:
    row = _rows(1)[0]
    assert api.post(MATCH, _probe(row), "").status_code == 401
    assert api.post(MATCH, _probe(row), "ecif_wrong").status_code == 401
    body = api.post(MATCH, _probe(row), "nope").get_json()
    assert body["error"] == "unauthorized"
    read_only = api.key(("read",))
    assert api.post(MATCH, _probe(row), read_only).status_code == 403
    no = api.post(MATCH, _probe(row), key).get_json()["customer_no"]
    full = api.client.get(f"/api/v1/customers/{no}", headers={"X-API-Key": key}).get_json()
    masked = api.client.get(f"/api/v1/customers/{no}",
                            headers={"X-API-Key": read_only}).get_json()
    _schema(api, "Customer").validate(full)
    _schema(api, "Customer").validate(masked)
    assert full["records"] and "name" in full["records"][0]
    assert set(masked["records"][0]) == {"source_system", "source_customer_id", "link_type"}
    ids = [v for v in (full["golden"]["id_number"], full["golden"]["mobile"]) if v]
    assert ids and not any(v in json.dumps(masked, ensure_ascii=False) for v in ids)
    assert api.client.get("/api/v1/customers/C9999999999",
                          headers={"X-API-Key": key}).status_code == 404
    revoked = api.key()
    assert api.post(MATCH, _probe(row), revoked).status_code == 200
    with unit_of_work(api.engine) as conn:
        revoke_key(conn, revoked[:12], actor=OPERATOR)
    assert api.post(MATCH, _probe(row), revoked).status_code == 401


def test_bad_bodies_name_each_field(api: ApiStore, key: str) -> None:
    error = _schema(api, "Error")
    resp = api.post(MATCH, {"customer_type": "X", "name": 5, "birth_date": "2020-13-45",
                            "shoe_size": "9"}, key)
    assert resp.status_code == 400
    body = resp.get_json()
    error.validate(body)
    assert set(body["fields"]) == {"customer_type", "name", "shoe_size"}
    resp = api.post(MATCH, {"customer_type": "P", "name": "张三", "birth_date": "1985年13月"}, key)
    assert resp.status_code == 400 and set(resp.get_json()["fields"]) == {"birth_date"}
    for bad in ([1, 2], "text", 3, None):
        resp = api.post(MATCH, bad, key)
        assert resp.status_code == 400 and resp.get_json()["error"] == "bad_request"
    resp = api.client.post(MATCH, data=b"{not json", headers={"X-API-Key": key,
                                                             "Content-Type": "application/json"})
    assert resp.status_code == 400
    big = {"customer_type": "P", "name": "张三", "address": "路" * 70_000}
    assert api.post(MATCH, big, key).status_code == 413


def test_rate_limit_per_key(api: ApiStore) -> None:
    slow, other = api.key(rate_limit=3), api.key()
    body = {"customer_type": "P", "name": "张三"}
    answers = [api.post(MATCH, body, slow) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    # the headers Flask-Limiter sent; no session cookie for a key-only call
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert "Set-Cookie" not in answers[0].headers and "Cookie" not in answers[0].vary
    resp = api.post(MATCH, body, slow)
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    assert resp.get_json()["error"] == "too_many_requests"
    assert api.post(MATCH, body, other).status_code == 200


_FIELDS = ["source_system", "customer_type", "name", "gender", "birth_date", "id_type",
           "id_number", "mobile", "phone", "email", "address", "legal_rep", "junk"]
_VALUES = st.one_of(st.none(), st.text(max_size=30), st.integers(), st.floats(),
                    st.booleans(), st.lists(st.text(max_size=3), max_size=2),
                    st.sampled_from(["P", "G", "", "1985-03-07", "19850307", "110101199003077777",
                                     "+86 138 0013 8000", "张伟", "RESIDENT_ID", "USCC"]))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.dictionaries(st.sampled_from(_FIELDS), _VALUES, max_size=8),
                      _VALUES))
def test_fuzzed_bodies_never_fail_the_server(api: ApiStore, key: str, body: Any) -> None:
    resp = api.post(MATCH, body, key)
    assert resp.status_code in (200, 400), resp.get_data(as_text=True)
    (_schema(api, "MatchCheck") if resp.status_code == 200 else _schema(api, "Error")
     ).validate(resp.get_json())


def test_schemathesis_from_the_openapi_document(api: ApiStore, key: str) -> None:
    """Schemathesis drives every operation from the served document: no server
    error, and every answer (status, content type, body) as documented."""
    import schemathesis
    from hypothesis import given
    from schemathesis import checks

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api.app)
    wanted = [checks.not_a_server_error, checks.status_code_conformance,
              checks.content_type_conformance, checks.response_schema_conformance]
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            case.headers = {**(case.headers or {}), "X-API-Key": key}
            case.validate_response(case.call(), checks=wanted)

        run()
    assert calls >= 25


def test_tombstone_names_the_survivor(api: ApiStore, key: str) -> None:
    # last in the module: it changes the shared store
    # a steward's merge of two customers now makes a tombstone of one of them
    with api.engine.connect() as conn:
        pair = read_frame(conn, "SELECT customer_no FROM customer WHERE merged_into IS NULL "
                                "AND customer_type = 'P' ORDER BY customer_no LIMIT 2")
    nos = pair["customer_no"].tolist()
    assert len(nos) == 2
    with unit_of_work(api.engine) as conn:
        survivor = customers.merge(conn, nos, actor=OPERATOR, config_dir=DEFAULT_CONFIG_DIR,
                                   reason="test").customer_no
    (gone,) = set(nos) - {survivor}
    body = api.client.get(f"/api/v1/customers/{gone}", headers={"X-API-Key": key}).get_json()
    assert body["merged_into"] == survivor
    alive = api.client.get(f"/api/v1/customers/{survivor}",
                           headers={"X-API-Key": key}).get_json()
    assert alive["merged_into"] is None
