"""Explained checks and an engine's capabilities, through the real handlers against the embedded endpoint."""

from __future__ import annotations

import json

import pytest

ADMIN = "admin"
STEPS = ["engine_active", "project_grant", "platform_known", "action_known", "permission", "platform_available",
         "flags"]  # fmt: skip


@pytest.fixture
def engine(aws, admin_key, invoke):
    """The starter catalog, engine ``action`` (gmail send_email, slack send_message, projects ``pf-1``)."""
    from local.runner import SEED
    from puraify import wiring
    from puraify.engine_control.bootstrap import seed_catalog

    seed_catalog(wiring.current().catalog, json.loads(SEED.read_text()))
    body = {"engine_id": "action", "permissions": {"gmail": ["send_email"], "slack": ["send_message"]},
            "projects": ["pf-1"]}  # fmt: skip
    reply = invoke("register/register", engine=(ADMIN, admin_key), body=body)
    assert reply.status == 201, reply.body
    return ("action", reply.body["engine_key"])


def _check(invoke, engine, **body):
    return invoke("check/check", engine=engine, body={"platform": "gmail", "action_type": "send_email", **body})


def test_allowed_check_with_explain_passes_every_step_in_order(engine, invoke):
    reply = _check(invoke, engine, explain=True, project_id="pf-1")
    assert reply.status == 200 and reply.body["allowed"] is True
    explanation = reply.body["explanation"]
    assert explanation["decided_by"] is None
    assert [s["rule"] for s in explanation["steps"]] == STEPS
    assert {s["outcome"] for s in explanation["steps"]} == {"pass"}
    assert explanation["engine_revision"] and explanation["catalog_revision"]


def test_denied_check_explains_the_deciding_rule_and_skips_the_rest(engine, admin_key, invoke):
    # Given gmail in maintenance
    body = {"status": "maintenance", "api_version": "v1", "actions": {"send_email": {"required_scopes": ["mail.send"]}}}
    assert invoke("config/put_platform", engine=(ADMIN, admin_key), body=body).status == 200
    # When
    reply = _check(invoke, engine, explain=True)
    # Then
    assert reply.body["allowed"] is False and reply.body["rule"] == "platform_maintenance"
    explanation = reply.body["explanation"]
    assert explanation["decided_by"] == reply.body["rule"]
    outcomes = {s["rule"]: s["outcome"] for s in explanation["steps"]}
    assert outcomes == {"engine_active": "pass", "project_grant": "not_evaluated", "platform_known": "pass",
                        "action_known": "pass", "permission": "pass", "platform_available": "fail",
                        "flags": "not_evaluated"}  # fmt: skip


def test_ungranted_action_and_flag_denials_are_explained(engine, admin_key, invoke):
    denied = _check(invoke, engine, explain=True, action_type="read_email").body
    assert denied["explanation"]["decided_by"] == "not_granted"
    failing = [s for s in denied["explanation"]["steps"] if s["outcome"] == "fail"]
    assert [s["rule"] for s in failing] == ["permission"] and "send_email" in failing[0]["detail"]
    flag = {"enabled": False, "platform": "gmail", "action_type": "send_email"}
    assert invoke("config/put_flag", engine=(ADMIN, admin_key), body=flag).status == 200
    flagged = _check(invoke, engine, explain=True).body
    assert flagged["explanation"]["decided_by"] == "flag_disabled"
    assert flagged["explanation"]["steps"][-1]["detail"].startswith("flag 'gmail_send' is off")


def test_check_without_explain_is_unchanged(engine, invoke):
    from puraify.engine_control.models import ActionCheckResponse

    reply = _check(invoke, engine).body
    assert list(reply) == list(ActionCheckResponse.model_fields)


def test_ungranted_project_is_403_and_its_explanation_is_not_leaked(engine, invoke):
    reply = _check(invoke, engine, explain=True, project_id="pf-2")
    assert reply.status == 403 and reply.body["error"]["code"] == "project_not_granted"


def test_batch_explains_each_item_that_asks(engine, invoke):
    checks = [
        {"platform": "gmail", "action_type": "send_email", "explain": True},
        {"platform": "gmail", "action_type": "read_email"},
        {"platform": "fax", "action_type": "send", "explain": True},
    ]
    results = invoke("check/check", engine=engine, body={"checks": checks}).body["results"]
    assert "explanation" in results[0] and "explanation" not in results[1]
    assert results[2]["explanation"]["decided_by"] == "unknown_platform"
    assert [s["outcome"] for s in results[2]["explanation"]["steps"]][2:4] == ["fail", "not_evaluated"]


def test_on_behalf_check_explains_the_callers_standing(engine, admin_key, invoke):
    body = {"engine_id": "action", "platform": "gmail", "action_type": "send_email", "explain": True}
    reply = invoke("check/check", engine=(ADMIN, admin_key), body=body)
    steps = reply.body["explanation"]["steps"]
    assert steps[0]["rule"] == "on_behalf" and steps[0]["outcome"] == "pass"


def _capabilities(invoke, engine, engine_id="action", **query):
    return invoke("register/capabilities", engine=engine, path_params={"engine_id": engine_id}, query=query)


def test_capabilities_lists_every_held_action_decided_now(engine, admin_key, invoke):
    body = {"status": "disabled", "api_version": "v1", "actions": {"send_message": {"required_scopes": ["chat:write"]}}}
    assert invoke("config/put_platform", engine=(ADMIN, admin_key), body=body,
                  path_params={"name": "slack"}).status == 200  # fmt: skip
    reply = _capabilities(invoke, engine)
    assert reply.status == 200, reply.body
    items = {(c["platform"], c["action_type"]): c for c in reply.body["capabilities"]}
    expected = {"platform": "gmail", "action_type": "send_email", "allowed": True, "rule": None, "reason": None,
                "required_scopes": ["mail.send"]}  # fmt: skip
    assert items[("gmail", "send_email")] == expected
    assert items[("slack", "send_message")]["allowed"] is False
    assert items[("slack", "send_message")]["rule"] == "platform_disabled"
    assert reply.body["truncated"] is False and reply.body["next_cursor"] is None


def test_capabilities_pages_and_says_when_truncated(engine, invoke):
    first = _capabilities(invoke, engine, limit="1").body
    assert first["truncated"] is True and len(first["capabilities"]) == 1
    second = _capabilities(invoke, engine, limit="1", cursor=first["next_cursor"]).body
    assert second["truncated"] is False
    seen = [(c["platform"], c["action_type"]) for c in first["capabilities"] + second["capabilities"]]
    assert seen == [("gmail", "send_email"), ("slack", "send_message")]


def test_capabilities_for_a_project_evaluate_the_engines_grant(engine, admin_key, invoke):
    mine = _capabilities(invoke, engine, project_id="pf-1").body["capabilities"]
    assert all(c["allowed"] for c in mine)
    # The admin holds every project; the engine holds pf-1 only.
    other = _capabilities(invoke, (ADMIN, admin_key), project_id="pf-2").body["capabilities"]
    assert {c["rule"] for c in other} == {"project_not_granted"}


def test_capabilities_of_another_engine_are_403_unless_admin(engine, admin_key, invoke):
    reply = _capabilities(invoke, engine, engine_id=ADMIN)
    assert reply.status == 403
    assert _capabilities(invoke, (ADMIN, admin_key)).status == 200
    assert _capabilities(invoke, (ADMIN, admin_key), engine_id="ghost").status == 404
    assert _capabilities(invoke, engine, project_id="pf-2").status == 403  # naming an ungranted project
