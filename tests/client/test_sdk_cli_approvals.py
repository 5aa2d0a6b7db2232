"""Approvals through the SDK and the real ``puraify`` command, against the local runner over HTTP.

Staging is the environment that needs approvals here (production's real gate needs a policy bundle).
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

import puraify_client as pc
from tests.client.mockplane import E2E_ADMIN_KEY
from tests.client.test_sdk_cli import PURAIFY, puraify

ADMIN = ("admin", E2E_ADMIN_KEY)


def _register(url: str, engine_id: str, scopes: list[str]) -> tuple[str, str]:
    with pc.SyncControlPlane(url, *ADMIN) as cp:
        created = cp.engines.register(engine_id, scopes=scopes, projects=["*"], description="approvals test")
    return engine_id, created.engine_key.get_secret_value()


@pytest.fixture(scope="module")
def people(plane) -> tuple[tuple[str, str], tuple[str, str]]:
    releaser = _register(plane.base_url, "approvals-releaser", ["env:read", "env:write"])
    approver = _register(plane.base_url, "approvals-approver", ["env:read", "env:approve"])
    return releaser, approver


def _project(url: str, project: str) -> None:
    """``project`` with v1.0.0 in development and an empty staging that needs one approval."""
    with pc.SyncControlPlane(url, *ADMIN) as cp:
        cp.env.publish_version(project, {"entities": ["Lead"], "flows": {"submit": {"steps": 1}}})
        cp.env.create(project, "staging")
        configured = cp.env.set_config(project, "staging", approvals_required=1)
        assert configured.environment.approvals_required == 1


async def test_the_sdk_asks_approves_rejects_lists_and_waits(plane, people):
    project = "pf-sdk-approvals"
    _project(plane.base_url, project)
    (releaser_id, releaser_key), (approver_id, approver_key) = people
    async with (
        pc.ControlPlane(plane.base_url, releaser_id, releaser_key) as releaser,
        pc.ControlPlane(plane.base_url, approver_id, approver_key) as approver,
    ):
        asked = await releaser.env.promote(project, "development", "staging")
        assert asked.status == "pending_approval" and asked.change_id and asked.change.status == "pending"
        assert asked.diff_from_previous.entities_added == ["Lead"]
        with pytest.raises(pc.ConflictError) as pending:
            await releaser.env.promote(project, "development", "staging")
        assert pending.value.error_code == "change_pending" and asked.change_id in str(pending.value)
        with pytest.raises(pc.PermissionDenied) as scope:
            await releaser.env.approve_change(project, asked.change_id)
        assert scope.value.error_code == "missing_scope"

        rejected = await approver.env.reject_change(project, asked.change_id, "not yet")
        assert rejected.status == "rejected" and rejected.reason == "not yet" and rejected.ended
        again = await releaser.env.promote(project, "development", "staging")
        listed = await approver.env.list_changes(project, status="pending")
        assert [c.change_id for c in listed.changes] == [again.change_id]
        every = [c.change_id async for c in approver.env.iter_changes(project, page_size=1)]
        assert every == [again.change_id, asked.change_id]

        applied = await approver.env.approve_change(project, again.change_id)
        assert applied.status == "applied" and applied.result["version"] == "v1.0.0"
        waited = await releaser.env.wait_for_change(project, "staging", again.change_id, timeout=5)
        assert waited.status == "applied" and [a.engine_id for a in waited.approvals] == [approver_id]
        history = await releaser.env.history(project, "staging")
        assert history.entries[0].change_id == again.change_id and history.entries[0].approved_by == [approver_id]


def test_the_cli_prints_the_pending_change_and_waits_for_its_outcome(plane, people):
    project = "pf-cli-approvals"
    _project(plane.base_url, project)
    releaser, approver = people
    url = plane.base_url

    asked = puraify("env", "promote", project, "development", "staging", url=url, engine=releaser)
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.startswith("staging: - -> v1.0.0 (pending_approval: 1 approval(s) needed, change chg_")
    change_id = asked.stdout.split("change ")[1].split(",")[0]
    assert f"puraify env changes approve {project} {change_id}" in asked.stdout
    second = puraify("env", "promote", project, "development", "staging", url=url, engine=releaser)
    assert second.returncode == 6 and "change_pending" in second.stderr and change_id in second.stderr

    listed = puraify("env", "changes", "list", project, "--status", "pending", url=url, engine=approver)
    assert listed.returncode == 0 and change_id in listed.stdout and "0/1" in listed.stdout
    refused = puraify("env", "changes", "approve", project, change_id, url=url, engine=releaser)
    assert refused.returncode == 4 and "missing_scope" in refused.stderr
    rejected = puraify("env", "changes", "reject", project, change_id, "--reason", "freeze", url=url, engine=approver)
    assert rejected.returncode == 0 and "rejected" in rejected.stdout and "reason: freeze" in rejected.stdout

    # --wait runs out while nobody approves: exit 8, the change still pending
    unanswered = puraify("env", "promote", project, "development", "staging", "--wait", "1", url=url, engine=releaser)
    assert unanswered.returncode == 8, unanswered.stderr
    waiting_id = unanswered.stdout.split("change ")[1].split(",")[0]
    assert f"{waiting_id}: staging - -> v1.0.0 pending" in unanswered.stdout
    assert puraify("env", "changes", "reject", project, waiting_id, "--reason", "later", url=url,
                   engine=approver).returncode == 0  # fmt: skip

    # --wait while another engine approves: exit 0 once applied
    env = {"PURAIFY_URL": url, "PURAIFY_ENGINE_ID": releaser[0], "PURAIFY_ENGINE_KEY": releaser[1]}
    waiting = subprocess.Popen(
        [PURAIFY, "--json", "env", "promote", project, "development", "staging", "--wait", "60"],
        env={**_base_env(), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pending_id = _first_pending(url, project, approver)
        approved = puraify("env", "changes", "approve", project, pending_id, url=url, engine=approver)
        assert approved.returncode == 0 and "applied" in approved.stdout, approved.stderr
        out, err = waiting.communicate(timeout=60)
    finally:
        waiting.kill()
    assert waiting.returncode == 0, err
    assert json.loads(out)["status"] == "applied" and json.loads(out)["change_id"] == pending_id
    shown = json.loads(puraify("--json", "env", "list", project, url=url, engine=releaser).stdout)
    assert {e["env"]: e["version"] for e in shown["environments"]}["staging"] == "v1.0.0"


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("PURAIFY_")}


def _first_pending(url: str, project: str, approver: tuple[str, str]) -> str:
    deadline = time.monotonic() + 30
    with pc.SyncControlPlane(url, *approver) as cp:
        while time.monotonic() < deadline:
            found = cp.env.list_changes(project, status="pending").changes
            if found:
                return found[0].change_id
            time.sleep(0.2)
    raise AssertionError("the promotion never asked for approval")
