"""Engine Control over real HTTP against the local runner, as an engine or curl would call it."""

from __future__ import annotations

import httpx
import pytest

ADMIN_KEY = "pfk_e2e-admin-key-0123456789abcdefghijklmnopqrstuv"


@pytest.fixture(scope="module")
def http(plane):
    # Written for 2026-12-01's shapes (docs/api.md); tests/e2e/test_api_versions_http.py covers the others.
    with httpx.Client(base_url=plane.base_url, timeout=10, headers={"Puraify-Version": "2026-12-01"}) as client:
        yield client


def admin() -> dict[str, str]:
    return {"X-Engine-ID": "admin", "X-Engine-Key": ADMIN_KEY}


def test_health_is_public(http):
    reply = http.get("/health")
    assert reply.status_code == 200 and reply.json()["status"] == "ok"


def test_an_engine_registers_checks_and_logs_over_http(http):
    # Given an admin registers engine "mailer"
    registered = http.post(
        "/engines/register",
        headers=admin(),
        json={"engine_id": "mailer", "permissions": {"gmail": ["send_email"]}, "scopes": ["logs:write"]},
    )
    assert registered.status_code == 201, registered.text
    creds = {"X-Engine-ID": "mailer", "X-Engine-Key": registered.json()["engine_key"]}
    # When it validates, checks and logs
    assert http.post("/engines/validate", headers=creds).json()["valid"] is True
    check = http.post("/actions/check", headers=creds, json={"platform": "gmail", "action_type": "send_email"})
    denied = http.post("/actions/check", headers=creds, json={"platform": "slack", "action_type": "send_message"})
    logged = http.post(
        "/log/engine_event",
        headers=creds,
        json={"event_type": "execution", "platform": "gmail", "action_type": "send_email", "status": "success"},
    )
    # Then
    assert check.json()["allowed"] is True and check.json()["required_scopes"] == ["mail.send"]
    assert denied.json()["allowed"] is False and denied.json()["rule"] == "not_granted"
    assert logged.status_code == 202 and logged.json()["event_id"]


def test_seeded_catalog_and_global_config_are_served(http):
    platforms = http.get("/platforms/list", headers=admin()).json()["platforms"]
    assert {p["name"] for p in platforms} >= {"gmail", "slack", "notion", "google_calendar"}
    config = http.get("/config/global", headers=admin()).json()
    assert config["api_version"] == "v1" and "gmail" in config["api_versions"]


def test_errors_use_the_envelope_and_never_a_trace(http):
    bad = http.post("/engines/register", headers=admin(), content=b'{"engine_id": 5')
    assert bad.status_code == 400
    assert set(bad.json()) == {"error", "request_id"}
    unauth = http.get("/platforms/list")
    assert unauth.status_code == 401 and unauth.json()["error"]["code"] == "unauthorized"
    missing = http.get("/no/such/route", headers=admin())
    assert missing.status_code == 404
    huge = http.post("/actions/check", headers=admin(), content=b"x" * (300 * 1024))
    assert huge.status_code == 413
    for reply in (bad, unauth, missing, huge):
        assert "Traceback" not in reply.text


def test_json_sent_with_a_form_content_type_is_still_json(http):
    # curl -d sends application/x-www-form-urlencoded; the API speaks only JSON
    reply = http.post(
        "/actions/check",
        headers={**admin(), "Content-Type": "application/x-www-form-urlencoded"},
        content=b'{"platform": "gmail", "action_type": "send_email"}',
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["rule"] == "not_granted"


def test_concurrent_requests_from_different_engines_keep_their_identities(http, plane):
    from concurrent.futures import ThreadPoolExecutor

    creds = {}
    for name in ("twin-a", "twin-b"):
        reply = http.post("/engines/register", headers=admin(), json={"engine_id": name})
        creds[name] = {"X-Engine-ID": name, "X-Engine-Key": reply.json()["engine_key"]}

    def validate(name: str) -> tuple[str, str]:
        with httpx.Client(base_url=plane.base_url, timeout=10) as client:
            return name, client.post("/engines/validate", headers=creds[name]).json()["engine_id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(validate, ["twin-a", "twin-b"] * 20))
    assert all(sent == answered for sent, answered in results)
