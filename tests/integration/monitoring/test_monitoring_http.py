"""Over real HTTP through the local runner (gateway + handlers), as an engine and an operator would."""

from __future__ import annotations

import uuid

import httpx
import pytest

ADMIN_KEY = "pfk_e2e-admin-key-0123456789abcdefghijklmnopqrstuv"


@pytest.fixture(scope="module")
def http(plane):
    with httpx.Client(
        base_url=plane.base_url, headers={"X-Engine-ID": "admin", "X-Engine-Key": ADMIN_KEY}, timeout=30
    ) as client:
        yield client


@pytest.fixture
def project() -> str:
    return f"pf_http_{uuid.uuid4().hex[:8]}"


def test_engine_reports_a_batch_and_support_reads_it(http, project):
    events = [
        {"project_id": project, "event_type": "execution", "platform": "slack", "action": "send_message",
         "status": "success", "duration_ms": 100 * (i + 1), "event_id": f"ok-{i}"}
        for i in range(3)
    ] + [{"project_id": project, "event_type": "execution", "status": "error", "error_type": "api_timeout",
          "platform": "slack", "action": "send_message", "message": "timed out after 3000 ms", "event_id": "err-1"},
         {"project_id": project, "duration_ms": "slow"}]  # fmt: skip
    reply = http.post("/monitoring/logs", json={"events": events})
    assert reply.status_code == 202
    assert reply.json()["accepted"] == 4 and [r["index"] for r in reply.json()["rejected"]] == [4]

    page = http.get("/monitoring/logs", params={"project_id": project, "limit": 2})
    assert page.status_code == 200 and len(page.json()["items"]) == 2
    rest = http.get("/monitoring/logs", params={"project_id": project, "cursor": page.json()["next_cursor"]})
    ids = [e["event_id"] for e in page.json()["items"] + rest.json()["items"]]
    assert sorted(ids) == ["err-1", "ok-0", "ok-1", "ok-2"] and rest.json()["next_cursor"] is None

    errors = http.get("/monitoring/errors", params={"project_id": project}).json()["items"]
    assert [(e["error_type"], e["count"]) for e in errors] == [("api_timeout", 1)]
    (row,) = http.get("/monitoring/stats", params={"project_id": project}).json()["stats"]
    assert (row["count"], row["error_rate"], row["duration_ms"]["max"]) == (4, 0.25, 300)


def test_oversized_request_is_413_over_http(http, project):
    big = {"events": [{"project_id": project, "event_type": "x", "message": "m" * 4000}] * 400}
    reply = http.post("/monitoring/logs", json=big)
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "payload_too_large"


def test_missing_credentials_are_401(plane, project):
    reply = httpx.get(f"{plane.base_url}/monitoring/logs", params={"project_id": project})
    assert reply.status_code == 401


def test_alert_over_http_reaches_slack_through_the_ssm_parameter(plane, http, project, slack_receiver):
    import os

    import boto3

    from puraify import wiring

    receiver = slack_receiver
    ssm = boto3.session.Session().client("ssm", endpoint_url=plane.endpoint_url, region_name="us-east-1")
    name = os.environ["PURAIFY_SLACK_WEBHOOK_PARAMETER"]
    ssm.put_parameter(Name=name, Value=receiver.url, Type="SecureString", Overwrite=True)
    wiring.reset()
    try:
        body = {"project_id": project, "event_type": "error", "severity": "critical",
                "message": "Failed to send message - token expired", "triggered_by": "execution_engine"}  # fmt: skip
        reply = http.post("/monitoring/alert", json=body)
    finally:
        ssm.delete_parameter(Name=name)
        wiring.reset()
    assert reply.status_code == 201 and reply.json()["notified"] is True
    assert reply.json()["delivery"]["channels"] == {"sns": "sent", "slack": "sent"}
    assert [m["text"].splitlines()[0] for m in receiver.received] == [f"[CRITICAL] {project} - error"]
