"""The routes of the integrators' API: parse, call one service, answer."""

from __future__ import annotations

from typing import Any

from flask import current_app, g
from flask.typing import ResponseReturnValue

from ecif.services.api_customer import customer_answer
from ecif.services.api_input import parse_record
from ecif.services.base import Actor
from ecif.services.matchcheck import Matcher
from ecif.services.registration import register, update_record
from matching.config import load_code_maps
from matching.engine.config import load_engine_config
from matching.exceptions import BadInput
from matching.vocabulary import ApiScope
from review_app.api import answer, bp, engine, json_body, require_scope
from review_app.api.openapi import openapi_document
from review_app.db import config_dir, read_conn

_MATCHER = "ecif_matcher"


def matcher() -> Matcher:
    found: Matcher | None = current_app.extensions.get(_MATCHER)
    if found is None:
        found = Matcher(load_engine_config(config_dir()), load_code_maps(config_dir()))
        current_app.extensions[_MATCHER] = found
    return found


@bp.post("/match-check")
def match_check() -> ResponseReturnValue:
    require_scope(ApiScope.MATCH)
    m = matcher()
    record = parse_record(json_body(), m.codes, register=False)
    outcome = m.check(read_conn(), record)
    g.api_decision = outcome.decision
    return answer(outcome.as_json())


@bp.get("/customers/<customer_no>")
def customer(customer_no: str) -> ResponseReturnValue:
    key = require_scope(ApiScope.READ)
    body: dict[str, Any] = customer_answer(read_conn(), customer_no[:40],
                                           pii=key.has(ApiScope.PII))
    return answer(body)


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return answer(openapi_document())


def _actor() -> Actor:
    return Actor(f"api:{g.api_key.name}", system=True)


@bp.post("/customers")
def register_customer() -> ResponseReturnValue:
    require_scope(ApiScope.REGISTER)
    m = matcher()
    raw = json_body()
    record = parse_record(raw, m.codes, register=True)
    done = register(engine(), raw, record, m, actor=_actor(), config_dir=config_dir())
    g.api_decision = done.decision
    return answer(done.as_json(), 201 if done.created else 200)


@bp.put("/customers/records/<source_system>/<source_customer_id>")
def update_customer_record(source_system: str, source_customer_id: str) -> ResponseReturnValue:
    require_scope(ApiScope.REGISTER)
    m = matcher()
    raw = json_body()
    if isinstance(raw, dict):
        for name, value in (("source_system", source_system),
                            ("source_customer_id", source_customer_id)):
            if raw.get(name) not in (None, value):
                raise BadInput(f"{name} in the body differs from the path",
                               fields={name: "differs from the path"})
        raw = {**raw, "source_system": source_system, "source_customer_id": source_customer_id}
    record = parse_record(raw, m.codes, register=True)
    done = update_record(engine(), raw, record, m, actor=_actor(), config_dir=config_dir())
    g.api_decision = done.decision
    return answer({**done.as_json(), "updated": done.changed})
