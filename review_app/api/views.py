"""The routes of the integrators' API: parse, call one service, answer."""

from __future__ import annotations

from typing import Any

from flask import current_app, g
from flask.typing import ResponseReturnValue

from ecif.services.api_customer import customer_answer
from ecif.services.api_input import parse_record
from ecif.services.matchcheck import Matcher
from matching.config import load_code_maps
from matching.engine.config import load_engine_config
from matching.vocabulary import ApiScope
from review_app.api import answer, bp, json_body, require_scope
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
