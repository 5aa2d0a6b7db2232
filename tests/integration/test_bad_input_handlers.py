"""Bad input through the real handlers (as Lambda calls them): 400/422 with the field named, never 5xx."""

from __future__ import annotations

import base64

import pytest


@pytest.fixture
def admin(admin_key: str) -> tuple[str, str]:
    return ("admin", admin_key)


def _base64(invoke, event: str, engine, raw: bytes):
    from tests.conftest import load_event

    message = load_event(event)
    message["body"] = base64.b64encode(raw).decode()
    message["isBase64Encoded"] = True
    return invoke(message, engine=engine)


@pytest.mark.parametrize("event", ["log/engine_event", "log/ingest", "env/publish", "register/register", "plan/decide"])
def test_non_utf8_body_is_400_invalid_encoding(aws, admin, invoke, event):
    reply = _base64(invoke, event, admin, b'{"a": "\xff\xfe"}')
    assert reply.status == 400 and reply.body["error"]["code"] == "invalid_encoding"


def test_utf8_body_sent_base64_is_decoded_and_served(aws, admin, invoke):
    reply = _base64(invoke, "log/engine_event", admin, '{"event_type": "execution", "message": "café"}'.encode())
    assert reply.status == 202, reply.body


def test_non_finite_number_in_engine_event_is_422_not_503(aws, admin, invoke):
    reply = invoke("log/engine_event", engine=admin, body='{"event_type": "x", "details": {"v": -Infinity}}')
    assert reply.status == 422
    assert reply.body["error"]["details"][0]["field"] == "body.details.v"


def test_monitoring_batch_with_nan_rejects_that_event_naming_the_field(aws, admin, invoke):
    # A batch is never failed by one event's value (docs/monitoring.md): that event is rejected by index.
    body = (
        '{"events": [{"project_id": "p1", "event_type": "x", "duration_ms": NaN},'
        ' {"project_id": "p1", "event_type": "x", "duration_ms": 12}]}'
    )
    reply = invoke("log/ingest", engine=admin, body=body)
    assert reply.status == 202
    assert reply.body["accepted"] == 1
    assert [r["index"] for r in reply.body["rejected"]] == [0]
    assert reply.body["rejected"][0]["error"].startswith("duration_ms")


def test_env_state_with_lone_surrogate_is_422(aws, admin, invoke):
    body = '{"project_id": "pf-1", "environment": "development", "state": {"flows": ["\\udfff"]}}'
    reply = invoke("env/publish", engine=admin, body=body)
    assert reply.status == 422 and reply.body["error"]["details"][0]["field"] == "body.state.flows.0"


def test_deep_json_is_400_before_parsing(aws, admin, invoke):
    reply = invoke("env/publish", engine=admin, body="[" * 5000 + "]" * 5000)
    assert reply.status == 400 and reply.body["error"]["code"] == "json_too_deep"


@pytest.mark.parametrize("since", ["nan", "inf", "1e308", "9999999999999"])
def test_plan_decisions_since_not_a_time_is_422(aws, admin, invoke, since):
    reply = invoke("plan/decisions", engine=admin, query={"project_id": "pf-1", "since": since})
    assert reply.status == 422 and reply.body["error"]["details"][0]["field"] == "query.since"
