"""Each bad-input finding of the attack report, replayed over HTTP against the local runner: 400/422, never 5xx."""

from __future__ import annotations

import json

import httpx
import pytest

from local.template import Template

ADMIN_KEY = "pfk_e2e-admin-key-0123456789abcdefghijklmnopqrstuv"
ADMIN = {"X-Engine-ID": "admin", "X-Engine-Key": ADMIN_KEY}
BODY_ROUTES = sorted(
    {(r.method, r.path.replace("{", "").replace("}", "")) for r in Template().routes() if r.method in ("POST", "PUT")}
)
ALL_ROUTES = sorted({(r.method, r.path.replace("{", "").replace("}", "")) for r in Template().routes()})


@pytest.fixture(scope="module")
def http(plane):
    with httpx.Client(base_url=plane.base_url, timeout=30) as client:
        yield client


def _error(reply: httpx.Response) -> dict:
    assert reply.status_code < 500, (reply.status_code, reply.text)
    body = reply.json()
    assert set(body) == {"error", "request_id"} and "Traceback" not in reply.text
    return body["error"]


@pytest.mark.parametrize("raw", [b'{"a": "\xff"}', '{"a": "caf\u00e9"}'.encode("latin-1"), '{"a": 1}'.encode("utf-16")])
@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_undecodable_body_is_400_invalid_encoding(http, method, path, raw):
    reply = http.request(method, path, headers={**ADMIN, "Content-Type": "application/json"}, content=raw)
    assert reply.status_code == 400
    assert _error(reply)["code"] == "invalid_encoding"


@pytest.mark.parametrize(("method", "path"), ALL_ROUTES)
def test_json_nested_5000_deep_is_400_on_every_route(http, method, path):
    deep = "[" * 5000 + "]" * 5000
    reply = http.request(method, path, headers={**ADMIN, "Content-Type": "application/json"}, content=deep)
    _error(reply) if reply.status_code >= 400 else None
    assert reply.status_code < 500


@pytest.mark.parametrize("path", ["/log/engine_event", "/env/versions", "/monitoring/logs", "/actions/check"])
def test_json_nested_past_32_is_400_json_too_deep(http, path):
    body = '{"details": ' + '{"a": ' * 900 + "1" + "}" * 900 + "}"
    reply = http.post(path, headers=ADMIN, content=body)
    assert reply.status_code == 400 and _error(reply)["code"] == "json_too_deep"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "1" * 42])
def test_unstorable_number_in_engine_event_details_is_422_naming_it(http, number):
    body = '{"event_type": "execution", "details": {"latency": ' + number + "}}"
    reply = http.post("/log/engine_event", headers=ADMIN, content=body)
    assert reply.status_code == 422, reply.text
    assert [d["field"] for d in _error(reply)["details"]] == ["body.details.latency"]


@pytest.mark.parametrize("value", ['"\\ud800"', "NaN", "Infinity"])
def test_env_state_with_a_lone_surrogate_or_non_finite_number_is_422(http, value):
    body = '{"project_id": "pf-bad", "environment": "development", "state": {"entities": [{"name": ' + value + "}]}}"
    reply = http.post("/env/versions", headers=ADMIN, content=body)
    assert reply.status_code == 422, reply.text
    assert _error(reply)["details"][0]["field"] == "body.state.entities.0.name"


@pytest.mark.parametrize("since", ["nan", "inf", "-inf", "1e308", "9999999999999", "yesterday"])
@pytest.mark.parametrize("path", ["/monitoring/logs", "/monitoring/errors", "/monitoring/stats", "/monitoring/audit"])
def test_time_parameter_that_is_not_a_time_is_422(http, path, since):
    reply = http.get(path, headers=ADMIN, params={"project_id": "pf-bad", "since": since})
    assert reply.status_code == 422, reply.text
    assert "query.since" in json.dumps(_error(reply)["details"])


@pytest.mark.parametrize("since", ["9999999999999", "nan", "inf", "1e308"])
def test_plan_decisions_since_that_is_not_a_time_is_422(http, since):
    reply = http.get("/plan/decisions", headers=ADMIN, params={"project_id": "pf-bad", "since": since})
    assert reply.status_code == 422, reply.text
    assert _error(reply)["details"][0]["field"] == "query.since"


def test_valid_unicode_and_numbers_are_still_accepted(http):
    body = {"event_type": "execution", "message": "café 😀", "details": {"ratio": 0.25, "big": 10**37, "tiny": 1e-100}}
    reply = http.post("/log/engine_event", headers=ADMIN, content=json.dumps(body, ensure_ascii=False).encode())
    assert reply.status_code == 202, reply.text
