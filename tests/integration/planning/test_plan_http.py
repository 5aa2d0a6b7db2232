"""End to end over HTTP: the local API, as a CI pipeline would call it, with the real Monitoring and
Environment Manager behind the fact providers (no events, no environments: a quiet project)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from puraify.planning.bundles import read_folder

GATE = Path(__file__).resolve().parents[3] / "policies" / "gate"


@pytest.fixture
def http(plane):
    headers = {"x-engine-id": "admin", "x-engine-key": plane.admin_key}
    with httpx.Client(base_url=plane.base_url, timeout=15, headers=headers) as client:
        yield client


def test_publish_then_decide_over_http(http):
    files = {name: body.decode() for name, body in read_folder(GATE)[0].items()}
    published = http.put("/plan/policy", json={"revision": "gate-http", "files": files})
    assert published.status_code in (200, 201), published.text

    decided = http.post(
        "/plan/decide", json={"deployment_id": "deployment-123", "environment": "production", "project_id": "pf-http"}
    )
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["policy"]["revision"] == "gate-http"
    assert (body["allow"], body["deny_reasons"], body["fail_safe"]) == (True, [], False), body
    assert body["facts"]["version_health"]["value"]["events"] == 0  # no version named: nothing judged
    assert body["facts"]["versions_behind"]["value"] is None  # no environments yet: nothing to compare

    listed = http.get("/plan/decisions", params={"deployment_id": "deployment-123"})
    assert listed.status_code == 200
    assert listed.json()["items"][0]["decision_id"] == body["decision_id"]
    status = http.get("/plan/policy").json()
    assert status["revision"] == "gate-http"


def test_decide_without_credentials_is_401_over_http(plane):
    reply = httpx.post(f"{plane.base_url}/plan/decide", json={}, timeout=10)
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "unauthorized"
