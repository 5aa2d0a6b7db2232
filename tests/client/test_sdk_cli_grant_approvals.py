"""Four-eyes on grants through the SDK and the real ``puraify`` command, against the local runner.

The runner serves in this process: the test switches the setting on in its Engine Control (as the
template parameter ``GrantChangesRequireApproval`` does) and off again.
"""

from __future__ import annotations

import json

import pytest

import puraify_client as pc
from tests.client.mockplane import E2E_ADMIN_KEY
from tests.client.test_sdk_cli import puraify

ADMIN = ("admin", E2E_ADMIN_KEY)


@pytest.fixture(scope="module")
def second_admin(plane) -> tuple[str, str]:
    with pc.SyncControlPlane(plane.base_url, *ADMIN) as cp:
        created = cp.engines.register("grants-ops", scopes=["admin"], projects=["*"], description="second admin")
        cp.engines.register("grants-target", permissions={}, projects=["*"], description="its grants change")
    return "grants-ops", created.engine_key.get_secret_value()


@pytest.fixture
def four_eyes(plane, second_admin):
    from puraify import wiring

    control = wiring.current().engine_control
    control.grant_approvals = True
    yield second_admin
    control.grant_approvals = False


def test_the_sdk_raises_approval_pending_and_another_admin_applies(plane, four_eyes):
    with pc.SyncControlPlane(plane.base_url, *ADMIN) as admin, pc.SyncControlPlane(plane.base_url, *four_eyes) as ops:
        with pytest.raises(pc.ApprovalPending) as pending:
            admin.engines.set_permissions("grants-target", {}, scopes=["logs:read"])
        change = pending.value.change
        assert change.kind == "permissions" and change.target == "grants-target" and change.status == "pending"
        assert "replayed" in change.simulation
        assert admin.engines.get("grants-target").scopes == []
        with pytest.raises(pc.PermissionDenied) as own:
            admin.engines.approve_grant_change(pending.value.change_id)
        assert own.value.error_code == "self_approval"
        applied = ops.engines.approve_grant_change(pending.value.change_id)
        assert applied.status == "applied" and applied.approved_by == "grants-ops"
        assert admin.engines.get("grants-target").scopes == ["logs:read"]
        listed = [c.change_id for c in ops.engines.list_grant_changes(status="applied").changes]
        assert pending.value.change_id in listed


def test_the_cli_prints_the_pending_grant_change_and_the_key_on_approval(plane, four_eyes):
    url = plane.base_url
    asked = puraify("engines", "register", "grants-root", "-s", "admin", "--project", "*", url=url, engine=ADMIN)
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.startswith("pending_approval: another admin must approve this grant change")
    change_id = asked.stdout.split("puraify engines changes approve ")[1].strip()
    listed = puraify("engines", "changes", "list", "--status", "pending", url=url, engine=four_eyes)
    assert listed.returncode == 0 and change_id in listed.stdout and "grants-root" in listed.stdout
    own = puraify("engines", "changes", "approve", change_id, url=url, engine=ADMIN)
    assert own.returncode == 4 and "self_approval" in own.stderr
    approved = puraify("--json", "engines", "changes", "approve", change_id, url=url, engine=four_eyes)
    assert approved.returncode == 0, approved.stderr
    key = json.loads(approved.stdout)["engine_key"]
    assert puraify("engines", "whoami", url=url, engine=("grants-root", key)).returncode == 0

    waiting = puraify("--json", "engines", "permissions", "grants-target", "-p", "gmail:send_email",
                      url=url, engine=ADMIN)  # fmt: skip
    assert waiting.returncode == 0, waiting.stderr
    pending = json.loads(waiting.stdout)["change"]
    rejected = puraify("engines", "changes", "reject", pending["change_id"], "--reason", "not now", url=url,
                       engine=four_eyes)  # fmt: skip
    assert rejected.returncode == 0 and "rejected" in rejected.stdout and "reason: not now" in rejected.stdout
