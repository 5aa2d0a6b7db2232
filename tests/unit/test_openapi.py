"""The served contract documents exactly the template's routes, with credentials and the error envelope."""

from __future__ import annotations

import json

import pytest

from local.template import Template
from puraify import openapi
from puraify.http import PUBLIC_ROUTES

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


@pytest.fixture(scope="module")
def spec() -> dict:
    return openapi.build(openapi._load_apps(openapi.FUNCTIONS))


def operations(spec: dict) -> dict[tuple[str, str], dict]:
    return {(m.upper(), p): op for p, item in spec["paths"].items() for m, op in item.items()}


def test_spec_routes_are_exactly_the_template_routes(spec):
    template = {(r.method, r.path) for r in Template().routes()}
    documented = set(operations(spec))
    assert not template - documented, f"template routes missing from the spec: {sorted(template - documented)}"
    assert not documented - template, f"spec routes the template lacks: {sorted(documented - template)}"


def test_spec_is_openapi_3_1_with_engine_credentials_as_api_keys(spec):
    assert spec["openapi"].startswith("3.1")
    schemes = spec["components"]["securitySchemes"]
    assert {(s["in"], s["name"]) for s in schemes.values()} == {("header", "X-Engine-ID"), ("header", "X-Engine-Key")}
    for route, op in operations(spec).items():
        expected = [] if route in PUBLIC_ROUTES else None
        assert op.get("security") == expected, route
        if route not in PUBLIC_ROUTES:
            assert {"401", "403", "503"} <= set(op["responses"]), route


def test_every_error_status_is_the_project_envelope_never_powertools_shape(spec):
    text = json.dumps(spec)
    assert "HTTPValidationError" not in text
    for route, op in operations(spec).items():
        for status, answer in op["responses"].items():
            if int(status) >= 400:
                assert answer["content"]["application/json"]["schema"] == ERROR_REF, (route, status)
    envelope = spec["components"]["schemas"]["ErrorResponse"]
    assert set(envelope["required"]) == {"error", "request_id"}


def test_routes_with_bodies_and_queries_document_them(spec):
    ops = operations(spec)
    for route, op in ops.items():
        if route[0] in ("POST", "PUT") and route not in {("POST", "/engines/validate")}:
            if route[1].endswith(("/rotate", "/acknowledge", "/resolve", "/reinstate", "/approve")):
                continue  # optional bodies: rotate, alert transitions, reinstatement ({"reason"}); approve has none
            assert op.get("requestBody", {}).get("required"), route
    names = {p["name"] for p in ops[("GET", "/monitoring/logs")]["parameters"]}
    assert {"project_id", "since", "until", "limit", "cursor"} <= names
    body = ops[("POST", "/monitoring/logs")]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/LogIngestRequest"}
    assert {"LogEvent", "LogBatchRequest"} <= set(spec["components"]["schemas"])


def test_statuses_other_than_200_are_documented_where_routes_answer_them(spec):
    ops = operations(spec)
    assert "201" in ops[("POST", "/engines/register")]["responses"]
    assert "202" in ops[("POST", "/monitoring/logs")]["responses"]
    assert {"200", "201"} <= set(ops[("PUT", "/plan/policy")]["responses"])
    assert "409" in ops[("DELETE", "/engines/{engine_id}")]["responses"]
