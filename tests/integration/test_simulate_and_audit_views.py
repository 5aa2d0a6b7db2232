"""Simulate (audited checks replayed with a change) and the operator's audit views, against the embedded endpoint."""

from __future__ import annotations

import json

import pytest

ADMIN = "admin"


@pytest.fixture
def engines(aws, admin_key, invoke):
    """The starter catalog; engines ``action`` (pf-1) and ``reader`` (logs:read, pf-2); some audited checks."""
    from local.runner import SEED
    from puraify import wiring
    from puraify.engine_control.bootstrap import seed_catalog

    seed_catalog(wiring.current().catalog, json.loads(SEED.read_text()))
    admin = (ADMIN, admin_key)
    keys = {"admin": admin}
    for body in (
        {"engine_id": "action", "permissions": {"gmail": ["send_email", "read_email"], "slack": ["send_message"]},
         "projects": ["pf-1", "pf-2"]},
        {"engine_id": "reader", "scopes": ["logs:read"], "projects": ["pf-2"]},
        {"engine_id": "other", "permissions": {"gmail": ["send_email"]}, "projects": ["*"]},
    ):  # fmt: skip
        reply = invoke("register/register", engine=admin, body=body)
        assert reply.status == 201, reply.body
        keys[body["engine_id"]] = (body["engine_id"], reply.body["engine_key"])
    for engine, platform, action, project in [
        ("action", "gmail", "send_email", "pf-1"),
        ("action", "gmail", "send_email", "pf-2"),
        ("action", "gmail", "read_email", "pf-1"),
        ("action", "slack", "send_message", None),
        ("action", "gmail", "add_label", None),  # denied: not granted
        ("other", "gmail", "send_email", None),
    ]:
        body = {"platform": platform, "action_type": action} | ({"project_id": project} if project else {})
        assert invoke("check/check", engine=keys[engine], body=body).status == 200
    return keys


def _simulate(invoke, engine, change, **window):
    return invoke("register/simulate", engine=engine, body={"change": change, **window})


def test_revoking_an_action_flips_exactly_its_allowed_checks(engines, invoke, aws):
    # When: action loses gmail.read_email
    change = {"engine": {"engine_id": "action", "permissions": {"gmail": ["send_email"], "slack": ["send_message"]}}}
    before = aws.client("dynamodb").scan(TableName=aws.name("AuditTable"), Select="COUNT")["Count"]
    reply = _simulate(invoke, engines["admin"], change)
    # Then
    assert reply.status == 200, reply.body
    body = reply.body
    assert (body["replayed"], body["allow_to_deny"], body["deny_to_allow"], body["unchanged"]) == (5, 1, 0, 4)
    assert body["by_action"] == [{"platform": "gmail", "action_type": "read_email", "project_id": "pf-1",
                                  "allow_to_deny": 1, "deny_to_allow": 0}]  # fmt: skip
    (example,) = body["examples"]
    assert (example["before"], example["after"], example["rule"]) == ("allowed", "denied", "not_granted")
    assert body["truncated"] is False and body["records_read"] == 5
    # Nothing written but the simulation's own audit record; the engine keeps its permissions.
    after = aws.client("dynamodb").scan(TableName=aws.name("AuditTable"), Select="COUNT")["Count"]
    assert after == before + 1
    check = invoke("check/check", engine=engines["action"], body={"platform": "gmail", "action_type": "read_email"})
    assert check.body["allowed"] is True


def test_a_project_grant_and_a_new_permission_flip_both_ways(engines, invoke):
    permissions = {"gmail": ["send_email", "read_email", "add_label"], "slack": ["send_message"]}
    change = {"engine": {"engine_id": "action", "projects": ["pf-1"], "permissions": permissions}}
    body = _simulate(invoke, engines["admin"], change).body
    assert (body["allow_to_deny"], body["deny_to_allow"]) == (1, 1)
    rules = {(e["before"], e["after"]): e["rule"] for e in body["examples"]}
    assert rules == {("allowed", "denied"): "project_not_granted", ("denied", "allowed"): "not_granted"}


def test_a_platform_in_maintenance_replays_every_engines_checks_on_it(engines, invoke):
    body = _simulate(invoke, engines["admin"], {"platforms": {"gmail": {"status": "maintenance"}}}).body
    # gmail: action's 3 allowed + 1 denied (not_granted stays denied: permissions come first), other's 1 allowed
    assert (body["replayed"], body["allow_to_deny"], body["unchanged"]) == (5, 4, 1)
    assert {e["engine_id"] for e in body["examples"]} == {"action", "other"}
    assert {e["rule"] for e in body["examples"]} == {"platform_maintenance"}


def test_a_flag_switched_off_flips_the_checks_it_targets(engines, admin_key, invoke):
    flag = {"enabled": True, "platform": "gmail", "action_type": "send_email"}
    assert invoke("config/put_flag", engine=(ADMIN, admin_key), body=flag).status == 200
    body = _simulate(invoke, engines["admin"], {"flags": {"gmail_send": {"enabled": False}}}).body
    assert body["allow_to_deny"] == 3 and {e["action_type"] for e in body["examples"]} == {"send_email"}


@pytest.mark.parametrize(
    ("change", "window", "status", "field"),
    [
        ({"engine": {"engine_id": "action", "permissions": {"gmail": ["fly"]}}}, {}, 422,
         "body.change.engine.permissions.gmail.fly"),
        ({"flags": {"new_flag": {"enabled": False}}}, {}, 422, "body.change.flags.new_flag.platform"),
        ({"platforms": {"gmail": {"status": "broken"}}}, {}, 422, "body.change.platforms.gmail.status"),
        ({}, {}, 422, "body.change"),
        ({"platforms": {"gmail": {"status": "disabled"}}}, {"since": "2026-01-01T00:00:00Z",
                                                            "until": "2026-01-09T00:00:00Z"}, 422, "body"),
        ({"engine": {"engine_id": "ghost"}}, {}, 404, None),
    ],
)  # fmt: skip
def test_simulate_validates_the_change_like_the_real_one(engines, invoke, change, window, status, field):
    reply = _simulate(invoke, engines["admin"], change, **window)
    assert reply.status == status, reply.body
    if field:
        fields = [d["field"] for d in reply.body["error"]["details"]]
        assert any(f.startswith(field) for f in fields), fields


def test_simulate_is_for_admins(engines, invoke):
    reply = _simulate(invoke, engines["action"], {"platforms": {"gmail": {"status": "disabled"}}})
    assert reply.status == 403


def test_simulate_outside_the_window_replays_nothing(engines, invoke):
    body = _simulate(invoke, engines["admin"], {"platforms": {"gmail": {"status": "disabled"}}},
                     since="2026-01-01T00:00:00Z", until="2026-01-02T00:00:00Z").body  # fmt: skip
    assert body["replayed"] == 0 and body["since"].startswith("2026-01-01")


def _audit(invoke, engine, **query):
    return invoke("log/audit", engine=engine, query=query)


def test_engine_view_is_its_checks_newest_first_with_rule_and_reason(engines, invoke):
    reply = _audit(invoke, engines["action"], engine_id="action")
    assert reply.status == 200, reply.body
    decisions = reply.body["decisions"]
    assert len(decisions) == 5
    assert [d["timestamp"] for d in decisions] == sorted((d["timestamp"] for d in decisions), reverse=True)
    denied = decisions[0]
    assert (denied["action_type"], denied["allowed"], denied["rule"]) == ("add_label", False, "not_granted")
    assert denied["reason"] and denied["request_id"]


def test_engine_view_pages_with_a_cursor(engines, invoke):
    first = _audit(invoke, engines["admin"], engine_id="action", limit="3").body
    assert len(first["decisions"]) == 3 and first["next_cursor"]
    rest = _audit(invoke, engines["admin"], engine_id="action", limit="3", cursor=first["next_cursor"]).body
    assert len(rest["decisions"]) == 2 and rest["next_cursor"] is None
    seen = [(d["timestamp"], d["action_type"]) for d in first["decisions"] + rest["decisions"]]
    assert len(set(seen)) == 5 and seen == sorted(seen, reverse=True)


def test_logs_readers_see_only_the_checks_of_projects_they_hold(engines, invoke):
    reply = _audit(invoke, engines["reader"], engine_id="action")
    assert reply.status == 200
    assert [d["project_id"] for d in reply.body["decisions"]] == ["pf-2"]
    assert _audit(invoke, engines["reader"], engine_id="action", project_id="pf-1").status == 403
    assert _audit(invoke, engines["other"], engine_id="action").status == 403  # no logs:read, not itself


def test_admin_view_lists_who_changed_what_with_before_and_after_and_no_key(engines, invoke):
    change = {"permissions": {"gmail": ["send_email"]}, "projects": ["pf-1"]}
    path = {"engine_id": "action"}
    assert invoke("register/permissions", engine=engines["admin"], body=change, path_params=path).status == 200
    assert invoke("register/rotate", engine=engines["action"], path_params=path).status == 200
    reply = _audit(invoke, engines["admin"], kind="admin")
    assert reply.status == 200, reply.body
    changes = reply.body["changes"]
    rotate, permissions = changes[0], changes[1]
    assert (rotate["operation"], rotate["by"], rotate["target"]) == ("rotate_key", "action", "action")
    assert (permissions["operation"], permissions["by"]) == ("set_permissions", "admin")
    assert permissions["before"]["projects"] == ["pf-1", "pf-2"] and permissions["after"]["projects"] == ["pf-1"]
    assert {c["operation"] for c in changes} >= {"register_engine"}
    text = json.dumps(reply.body)
    assert "pfk_" not in text and "key_hash" not in text
    # A non-admin sees only the changes it made or that target it.
    own = _audit(invoke, engines["action"], kind="admin").body["changes"]
    assert own and all("action" in (c["by"], c["target"]) for c in own)
    assert _audit(invoke, engines["action"], kind="admin", engine_id="other").status == 403


def test_audit_view_query_errors_are_422(engines, invoke):
    assert _audit(invoke, engines["admin"], kind="admin", project_id="pf-1").status == 422
    assert _audit(invoke, engines["admin"], kind="check").status == 422
    assert _audit(invoke, engines["admin"], engine_id="Not An Id").status == 422
