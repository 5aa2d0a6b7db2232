"""API versions over real HTTP against the local runner: the header, the pin, and the list envelope."""

from __future__ import annotations

import httpx
import pytest

ADMIN = {"X-Engine-ID": "admin", "X-Engine-Key": "pfk_e2e-admin-key-0123456789abcdefghijklmnopqrstuv"}
OLD, NEW = "2026-12-01", "2026-12-07"


@pytest.fixture(scope="module")
def http(plane):
    with httpx.Client(base_url=plane.base_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def reader(http):
    """An engine registered now (so pinned to the newest version) that may read every project's logs."""
    reply = http.post(
        "/engines/register",
        headers=ADMIN,
        json={"engine_id": "version-reader", "scopes": ["logs:read", "logs:write"], "projects": ["*"]},
    )
    assert reply.status_code == 201, reply.text
    return {"X-Engine-ID": "version-reader", "X-Engine-Key": reply.json()["engine_key"]}


def test_global_config_lists_the_supported_versions_oldest_first(http):
    reply = http.get("/config/global", headers=ADMIN)
    assert reply.json()["supported_versions"] == [OLD, NEW]
    assert reply.headers["Puraify-Version"] == NEW  # the bootstrap admin is pinned to the newest


def test_every_answer_says_its_version_even_an_error_and_a_public_route(http, reader):
    assert http.get("/health").headers["Puraify-Version"] == NEW
    assert http.get("/health", headers={"Puraify-Version": OLD}).headers["Puraify-Version"] == OLD
    denied = http.get("/engines", headers={**reader, "Puraify-Version": OLD})
    assert denied.status_code == 403 and denied.headers["Puraify-Version"] == OLD
    check = http.post("/actions/check", headers=reader, json={"platform": "gmail", "action_type": "send_email"})
    assert check.status_code == 200 and check.headers["Puraify-Version"] == NEW


def test_an_unknown_version_is_400_unsupported_version(http, reader):
    for path in ("/monitoring/logs?project_id=pf_v", "/health"):
        reply = http.get(path, headers={**reader, "Puraify-Version": "2020-01-01"})
        assert reply.status_code == 400
        assert reply.json()["error"]["code"] == "unsupported_version"
        assert reply.json()["error"]["details"][0]["supported"] == [OLD, NEW]
    check = http.post(
        "/actions/check",
        headers={**reader, "Puraify-Version": "v2"},
        json={"platform": "gmail", "action_type": "send_email"},
    )
    assert check.status_code == 400 and check.json()["error"]["code"] == "unsupported_version"


def test_an_old_version_gets_the_old_list_shape_and_the_new_one_the_envelope(http, reader):
    # Given: two events of one project
    batch = [
        {"project_id": "pf_v", "engine": "e", "event_type": "execution", "status": "success", "event_id": f"v-{i}"}
        for i in range(2)
    ]
    assert http.post("/monitoring/logs", headers=reader, json={"events": batch}).status_code == 202
    query = {"project_id": "pf_v", "limit": "1"}
    # When: the same page in each version
    old = http.get("/monitoring/logs", headers={**reader, "Puraify-Version": OLD}, params=query).json()
    new = http.get("/monitoring/logs", headers=reader, params=query).json()  # the pin: the newest
    # Then: today's field in the old version, one envelope in the new, the same events and cursor
    assert set(old) == {"logs", "next_cursor"} and set(new) == {"items", "next_cursor"}
    assert old["logs"] == new["items"] and len(new["items"]) == 1
    assert old["next_cursor"] == new["next_cursor"] is not None
    errors = http.get("/monitoring/errors", headers=reader, params={"project_id": "pf_v"}).json()
    assert errors["items"] == [] and errors["next_cursor"] is None and errors["project_id"] == "pf_v"


def test_an_admin_changes_the_pin_and_the_header_still_overrides_it(http, reader):
    pinned = http.put("/engines/version-reader/api-version", headers=ADMIN, json={"api_version": OLD})
    assert pinned.status_code == 200 and pinned.json()["api_version"] == OLD
    try:
        params = {"project_id": "pf_v"}
        assert "alerts" in http.get("/monitoring/alerts", headers=reader, params=params).json()
        overridden = http.get("/monitoring/alerts", headers={**reader, "Puraify-Version": NEW}, params=params)
        assert overridden.headers["Puraify-Version"] == NEW and "items" in overridden.json()
        unknown = http.put("/engines/version-reader/api-version", headers=ADMIN, json={"api_version": "2027-01-01"})
        assert unknown.status_code == 422
        refused = http.put("/engines/version-reader/api-version", headers=reader, json={"api_version": NEW})
        assert refused.status_code == 403
    finally:
        http.put("/engines/version-reader/api-version", headers=ADMIN, json={"api_version": NEW})
