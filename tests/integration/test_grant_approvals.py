"""Four-eyes on grants (``GrantChangesRequireApproval``): permission changes and admin registrations wait
for another admin. Real handlers, real boto3 on moto, real checks replayed by the simulation."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def admins(aws, admin_key, invoke):
    """The starter catalog; a second admin ``ops``; engine ``mailer`` (gmail send and read) with checks."""
    from local.runner import SEED
    from puraify import wiring
    from puraify.engine_control.bootstrap import seed_catalog

    seed_catalog(wiring.current().catalog, json.loads(SEED.read_text()))
    admin = ("admin", admin_key)
    keys = {"admin": admin}
    for body in (
        {"engine_id": "ops", "scopes": ["admin"], "projects": ["*"]},
        {"engine_id": "mailer", "permissions": {"gmail": ["send_email", "read_email"]}, "projects": ["*"]},
    ):
        reply = invoke("register/register", engine=admin, body=body)
        assert reply.status == 201, reply.body
        keys[body["engine_id"]] = (body["engine_id"], reply.body["engine_key"])
    for action in ("send_email", "read_email", "read_email"):
        check = {"platform": "gmail", "action_type": action}
        assert invoke("check/check", engine=keys["mailer"], body=check).status == 200
    return keys


@pytest.fixture
def four_eyes(admins):
    """Grant approvals switched on in this process (the template parameter's setting)."""
    from puraify import wiring

    control = wiring.current().engine_control
    control.grant_approvals = True
    yield admins
    control.grant_approvals = False


def _permissions(invoke, who, engine_id, body):
    return invoke("register/permissions", engine=who, body=body, path_params={"engine_id": engine_id})


def _approve(invoke, who, change_id):
    return invoke("register/approve_grant_change", engine=who, path_params={"change_id": change_id})


def _reject(invoke, who, change_id, reason="too broad"):
    body = {"reason": reason}
    return invoke("register/reject_grant_change", engine=who, body=body, path_params={"change_id": change_id})


def _engine(invoke, who, engine_id):
    return invoke("register/show", engine=who, path_params={"engine_id": engine_id})


def test_off_by_default_a_permission_change_applies_at_once(admins, invoke):
    reply = _permissions(invoke, admins["admin"], "mailer", {"permissions": {"gmail": ["send_email"]}})
    assert reply.status == 200, reply.body
    assert _engine(invoke, admins["admin"], "mailer").body["permissions"] == {"gmail": ["send_email"]}
    listed = invoke("register/list_grant_changes", engine=admins["admin"], query={})
    assert listed.status == 200 and listed.body["changes"] == []


def test_a_permission_change_waits_with_its_simulated_effect_and_another_admin_applies_it(four_eyes, invoke):
    admin, ops = four_eyes["admin"], four_eyes["ops"]
    reply = _permissions(invoke, admin, "mailer", {"permissions": {"gmail": ["send_email"]}})
    assert reply.status == 202, reply.body
    assert reply.body["status"] == "pending_approval"
    change = reply.body["change"]
    assert change["kind"] == "permissions" and change["target"] == "mailer" and change["status"] == "pending"
    # the two read_email checks of the last day would have been denied
    assert change["simulation"]["allow_to_deny"] == 2 and change["simulation"]["replayed"] == 3
    assert sorted(_engine(invoke, admin, "mailer").body["permissions"]["gmail"]) == ["read_email", "send_email"]

    own = _approve(invoke, admin, reply.body["change_id"])
    assert own.status == 403 and own.body["error"]["code"] == "self_approval"
    applied = _approve(invoke, ops, reply.body["change_id"])
    assert applied.status == 200, applied.body
    assert applied.body["status"] == "applied" and applied.body["approved_by"] == "ops"
    assert applied.body["result"]["permissions"] == {"gmail": ["send_email"]}
    assert [e["status"] for e in applied.body["events"]] == ["pending", "approved", "applied"]
    assert _engine(invoke, admin, "mailer").body["permissions"] == {"gmail": ["send_email"]}
    again = _approve(invoke, ops, reply.body["change_id"])
    assert again.status == 409 and again.body["error"]["code"] == "change_not_pending"


def test_no_admin_approves_a_change_of_its_own_grants(four_eyes, invoke):
    admin, ops = four_eyes["admin"], four_eyes["ops"]
    change_id = _permissions(invoke, admin, "ops", {"permissions": {"gmail": ["send_email"]}}).body["change_id"]
    refused = _approve(invoke, ops, change_id)
    assert refused.status == 403 and refused.body["error"]["code"] == "self_approval"
    assert "changes the grants of" in refused.body["error"]["message"]
    assert _engine(invoke, admin, "ops").body["permissions"] == {}


def test_a_registration_granting_admin_waits_and_its_approval_answers_the_key_once(four_eyes, invoke):
    admin, ops = four_eyes["admin"], four_eyes["ops"]
    body = {"engine_id": "root-2", "scopes": ["admin"], "projects": ["*"]}
    reply = invoke("register/register", engine=admin, body=body)
    assert reply.status == 202, reply.body
    assert _engine(invoke, admin, "root-2").status == 404
    applied = _approve(invoke, ops, reply.body["change_id"])
    assert applied.status == 200 and applied.body["status"] == "applied", applied.body
    key = applied.body["engine_key"]
    assert key.startswith("pfk_") and "engine_key" not in applied.body["result"]
    assert invoke("register/validate", engine=("root-2", key)).status == 200
    listed = invoke("register/list_grant_changes", engine=admin, query={"status": "applied"})
    assert [c["change_id"] for c in listed.body["changes"]] == [reply.body["change_id"]]
    assert listed.body["changes"][0]["engine_key"] is None  # never stored


def test_a_registration_without_admin_applies_at_once(four_eyes, invoke):
    reply = invoke("register/register", engine=four_eyes["admin"], body={"engine_id": "plain", "projects": ["*"]})
    assert reply.status == 201 and reply.body["engine_key"].startswith("pfk_")


def test_reject_ends_it_unapplied_and_each_step_is_audited(four_eyes, invoke):
    from puraify import wiring

    admin, ops = four_eyes["admin"], four_eyes["ops"]
    change_id = _permissions(invoke, admin, "mailer", {"permissions": {}, "scopes": ["admin"]}).body["change_id"]
    rejected = _reject(invoke, ops, change_id, reason="no second admin for a mailer")
    assert rejected.status == 200 and rejected.body["status"] == "rejected"
    assert rejected.body["reason"] == "no second admin for a mailer"
    assert rejected.body["events"][-1]["by"] == "ops"
    assert _engine(invoke, admin, "mailer").body["scopes"] == []
    late = _approve(invoke, ops, change_id)
    assert late.status == 409 and late.body["error"]["code"] == "change_not_pending"
    operations = [
        (r["engine_id"], r["details"]["operation"], r["status"])
        for r in wiring.current().audit_store.by_engine("admin") + wiring.current().audit_store.by_engine("ops")
        if r.get("kind") == "admin" and change_id in json.dumps(r.get("details"))
    ]
    assert ("admin", "request_grant_change", "allowed") in operations
    assert ("ops", "reject_grant_change", "allowed") in operations
    assert ("ops", "approve_grant_change", "denied") in operations


def test_pending_grant_changes_expire(four_eyes, invoke):
    from puraify import wiring

    admin, ops = four_eyes["admin"], four_eyes["ops"]
    control = wiring.current().engine_control
    control.clock = lambda: 1_800_000_000.0
    try:
        change_id = _permissions(invoke, admin, "mailer", {"permissions": {}}).body["change_id"]
        control.clock = lambda: 1_800_000_000.0 + 24 * 3600
        expired = invoke("register/list_grant_changes", engine=admin, query={"status": "expired"})
        assert [c["change_id"] for c in expired.body["changes"]] == [change_id]
        late = _approve(invoke, ops, change_id)
        assert late.status == 409 and late.body["error"]["code"] == "change_expired"
    finally:
        from puraify.clock import now

        control.clock = now
    assert sorted(_engine(invoke, admin, "mailer").body["permissions"]["gmail"]) == ["read_email", "send_email"]


def test_the_routes_need_admin(four_eyes, invoke):
    mailer = four_eyes["mailer"]
    for reply in (
        invoke("register/list_grant_changes", engine=mailer, query={}),
        _approve(invoke, mailer, "gch_17953164000001a2b3c4d5e"),
        _reject(invoke, mailer, "gch_17953164000001a2b3c4d5e"),
    ):
        assert reply.status == 403 and reply.body["error"]["code"] == "missing_scope", reply.body


def test_changes_is_no_engine_id(admins, invoke):
    reply = invoke("register/register", engine=admins["admin"], body={"engine_id": "changes"})
    assert reply.status == 422 and reply.body["error"]["details"][0]["field"] == "body.engine_id"


def test_the_only_admin_registers_a_second_admin_at_once(aws, admin_key, invoke):
    """Nobody else could ever approve it: with one admin, four-eyes starts with the second admin."""
    from puraify import wiring

    control = wiring.current().engine_control
    control.grant_approvals = True
    try:
        admin = ("admin", admin_key)
        first = invoke("register/register", engine=admin, body={"engine_id": "ops-1", "scopes": ["admin"]})
        assert first.status == 201, first.body
        second = invoke("register/register", engine=admin, body={"engine_id": "ops-2", "scopes": ["admin"]})
        assert second.status == 202 and second.body["status"] == "pending_approval"
    finally:
        control.grant_approvals = False
