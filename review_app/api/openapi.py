"""The OpenAPI 3 description of the integrators' API (served at
``/api/v1/openapi.json``; the tests check real answers against it)."""

from __future__ import annotations

from typing import Any

from ecif.services.api_input import MATCH_FIELDS, REGISTER_FIELDS
from matching.standardise.columns import FIELD_LIMITS

__all__ = ["openapi_document"]

_ERROR = {
    "type": "object", "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                   "fields": {"type": "object", "additionalProperties": {"type": "string"}}},
}
_EXPLAIN = {"type": "object", "required": ["field", "level", "weight"],
            "properties": {"field": {"type": "string"}, "level": {"type": "string"},
                           "weight": {"type": "number"}}}
_CANDIDATE = {
    "type": "object",
    "required": ["customer_no", "match_probability", "match_weight", "rule", "explanation"],
    "properties": {"customer_no": {"type": "string"},
                   "match_probability": {"type": "number", "minimum": 0, "maximum": 1},
                   "match_weight": {"type": "number"},
                   "rule": {"type": ["string", "null"]},
                   "explanation": {"type": "array", "items": _EXPLAIN}},
}
_MATCH = {
    "type": "object",
    "required": ["decision", "customer_no", "match_probability", "candidates", "issues"],
    "properties": {"decision": {"enum": ["match", "possible", "new"]},
                   "customer_no": {"type": ["string", "null"]},
                   "match_probability": {"type": "number", "minimum": 0, "maximum": 1},
                   "candidates": {"type": "array", "items": _CANDIDATE},
                   "issues": {"type": "array", "items": {"type": "string"}}},
}
_REGISTERED = {
    "type": "object", "required": ["customer_no", "decision", "task_id"],
    "properties": {"customer_no": {"type": "string"},
                   "decision": {"enum": ["match", "possible", "new"]},
                   "task_id": {"type": ["integer", "null"]}},
}
_CUSTOMER = {
    "type": "object", "required": ["customer_no", "status", "merged_into", "records"],
    "properties": {"customer_no": {"type": "string"}, "customer_type": {"type": "string"},
                   "status": {"type": "string"}, "merged_into": {"type": ["string", "null"]},
                   "golden": {"type": ["object", "null"]}, "version": {"type": "integer"},
                   "records": {"type": "array", "items": {"type": "object"}}},
}


def _body(fields: tuple[str, ...], required: list[str]) -> dict[str, Any]:
    props: dict[str, Any] = {f: {"type": ["string", "null"],
                                 "maxLength": FIELD_LIMITS.get(f, 1000)} for f in fields}
    for f in required:
        props[f] = {"type": "string", "minLength": 1, "maxLength": FIELD_LIMITS.get(f, 1000)}
    props["customer_type"] = {"type": "string", "enum": ["P", "G"]}
    return {"type": "object", "additionalProperties": False, "required": required,
            "properties": props}


def _errors(*codes: int) -> dict[str, Any]:
    why = {400: "bad body (each bad field named)", 401: "missing or wrong X-API-Key",
           403: "the key lacks the scope", 404: "no such customer or record",
           409: "conflict", 413: "body too large", 429: "rate limit (Retry-After)",
           503: "the nightly batch holds the store; retry later"}
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {str(c): {"description": why[c], "content": error} for c in codes}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def openapi_document() -> dict[str, Any]:
    record = {"required": True, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Record"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "ECIF customer API", "version": "1",
                 "description": "Match-check and customer registration at policy entry "
                                "(CONTRACT.md §4)."},
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "paths": {
            "/api/v1/match-check": {"post": {
                "operationId": "matchCheck", "summary": "Is this an existing customer? (read-only)",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Probe"}}}},
                "responses": {"200": _json("MatchCheck", "the decision and candidates"),
                              **_errors(400, 401, 403, 413, 429)}}},
            "/api/v1/customers": {"post": {
                "operationId": "registerCustomer",
                "summary": "Register a source record now: attach or create",
                "requestBody": record,
                "responses": {"200": _json("Registered", "attached to an existing customer"),
                              "201": _json("Registered", "a new customer"),
                              **_errors(400, 401, 403, 409, 413, 429, 503)}}},
            "/api/v1/customers/{customer_no}": {"get": {
                "operationId": "getCustomer", "summary": "The golden record and its records",
                "parameters": [{"name": "customer_no", "in": "path", "required": True,
                                "schema": {"type": "string", "maxLength": 40}}],
                "responses": {"200": _json("Customer", "the customer (merged_into when a "
                                                       "tombstone)"),
                              **_errors(401, 403, 404, 429)}}},
            "/api/v1/customers/records/{source_system}/{source_customer_id}": {"put": {
                "operationId": "updateRecord",
                "summary": "A new version of a source record (newest updated_at wins)",
                "parameters": [
                    {"name": "source_system", "in": "path", "required": True,
                     "schema": {"type": "string", "maxLength": 40}},
                    {"name": "source_customer_id", "in": "path", "required": True,
                     "schema": {"type": "string", "maxLength": 150}}],
                "requestBody": record,
                "responses": {"200": _json("Registered", "the record's customer after the update"),
                              **_errors(400, 401, 403, 404, 409, 413, 429, 503)}}},
            "/api/v1/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This document", "security": [],
                "responses": {"200": {"description": "OpenAPI 3",
                                      "content": {"application/json": {"schema": {
                                          "type": "object"}}}}}}},
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header",
                                           "name": "X-API-Key"}},
            "schemas": {"Probe": _body(MATCH_FIELDS, ["customer_type", "name"]),
                        "Record": _body(REGISTER_FIELDS, ["source_system", "source_customer_id",
                                                          "customer_type", "name"]),
                        "MatchCheck": _MATCH, "Registered": _REGISTERED,
                        "Customer": _CUSTOMER, "Error": _ERROR},
        },
    }
