"""The console's Changes view: a promotion into an environment that needs approval waits for another
engine, which rejects one (with its reason) and approves the next in the browser; the environment then
runs the new version."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

PROJECT = "pf-console-changes"


def _register(api, engine_id, scopes):
    reply = api.post("/engines/register", json={"engine_id": engine_id, "scopes": scopes, "projects": ["*"]})
    assert reply.status_code == 201, reply.text
    return reply.json()["engine_key"]


def _promote(console_plane, releaser_key):
    body = {"project_id": PROJECT, "source_env": "development", "target_env": "staging"}
    headers = {"X-Engine-ID": "changes-releaser", "X-Engine-Key": releaser_key}
    reply = httpx.post(f"{console_plane.base_url}/env/promote", json=body, headers=headers, timeout=20)
    assert reply.status_code == 202, reply.text
    assert reply.json()["status"] == "pending_approval"
    return reply.json()["change_id"]


def _staging(api):
    found = api.get(f"/env/{PROJECT}").json()["items"]
    return {e["env"]: e for e in found}["staging"]


def test_a_second_engine_rejects_then_approves_a_promotion_in_the_console(page, api, console_plane):
    state = {"entities": ["Lead"], "flows": {"submit": {"steps": 1}}, "feature_flags": []}
    assert api.post("/env/versions", json={"project_id": PROJECT, "state": state}).status_code == 201
    assert api.post("/env/create", json={"project_id": PROJECT, "new_environment": "staging"}).status_code == 201
    configured = api.put(f"/env/{PROJECT}/staging/config", json={"approvals_required": 1})
    assert configured.status_code == 200 and configured.json()["environment"]["approvals_required"] == 1
    releaser_key = _register(api, "changes-releaser", ["env:read", "env:write"])
    approver_key = _register(api, "changes-approver", ["env:read", "env:approve"])
    first = _promote(console_plane, releaser_key)
    assert _staging(api)["version"] is None

    sign_in(page, "changes-approver", approver_key)
    page.get_by_label("Project").fill(PROJECT)
    page.get_by_role("button", name="Open").click()
    page.get_by_role("link", name="Changes").click()
    row = page.get_by_role("row").filter(has_text=first)
    expect(row).to_contain_text("pending")
    expect(row).to_contain_text("changes-releaser")
    row.get_by_role("button", name="Reject").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Reason").fill("not before the demo")
    dialog.get_by_role("button", name="Reject").click()
    expect(row).to_contain_text("rejected")
    expect(row).to_contain_text("not before the demo")
    rejected = api.get(f"/env/{PROJECT}/changes", params={"status": "rejected"}).json()["items"]
    assert [(c["change_id"], c["reason"]) for c in rejected] == [(first, "not before the demo")]
    assert rejected[0]["events"][-1]["by"] == "changes-approver"

    second = _promote(console_plane, releaser_key)
    page.get_by_role("link", name="Changes").click()
    page.reload()
    row = page.get_by_role("row").filter(has_text=second)
    expect(row).to_contain_text("pending")
    row.get_by_role("button", name="Approve").click()
    page.get_by_role("dialog").get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").filter(has_text=second)).to_contain_text("applied (staging runs v1.0.0)")
    expect(row).to_contain_text("applied")
    expect(row).to_contain_text("approved by changes-approver")
    assert _staging(api)["version"] == "v1.0.0"
