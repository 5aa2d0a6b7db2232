"""Rollbacks through the real Environment Manager and Planning gate: back only, even under a freeze."""

from __future__ import annotations

STATE = {"entities": ["User"], "flows": {"signup": {"steps": ["create_user"]}}, "feature_flags": []}


def _freeze(invoke, admin, on: bool) -> None:
    reply = invoke("config/put_flag", engine=admin, path_params={"name": "deployments"}, body={"enabled": not on})
    assert reply.status == 200, reply.body


def _rollback(invoke, who, version, **fields):
    body = {"project_id": "pf-777", "environment": "production", "version": version, **fields}
    return invoke("env/rollback", engine=who, body=body)


def test_under_a_freeze_a_rollback_goes_back_and_a_forward_one_is_409_naming_the_way_back(aws, admin, gate, invoke):
    from puraify import wiring
    from puraify.wiring import production_gate

    wiring.current().environments.gate = production_gate(wiring.current())
    # Given: production ran v1.0.0, then v1.1.0, and now runs v1.2.0
    for i, entities in enumerate((["User"], ["User", "Order"], ["User", "Order", "Invoice"])):
        body = {"project_id": "pf-777", "environment": "development", "state": {**STATE, "entities": entities}}
        assert invoke("env/publish", engine=admin, body=body).status == 201
        if i == 0:
            reply = invoke("env/create", engine=admin, body={"project_id": "pf-777", "new_environment": "production"})
            assert reply.status == 201, reply.body
        promote = {"project_id": "pf-777", "source_env": "development", "target_env": "production", "bake_seconds": 0}
        assert invoke("env/promote", engine=admin, body=promote).status == 200
    # and a change freeze with a critical alert open
    _freeze(invoke, admin, True)
    wiring.current().monitoring.raise_alert(
        project_id="pf-777", event_type="errors", severity="critical", message="50% errors", triggered_by="test"
    )
    # When: back to v1.1.0
    back = _rollback(invoke, admin, "v1.1.0")
    # Then: allowed by the gate's rollback phase, and on record as a decision
    assert back.status == 200, back.body
    decisions = invoke("plan/decisions", engine=admin, query={"project_id": "pf-777"}).body["decisions"]
    assert decisions[0]["phase"] == "rollback" and decisions[0]["allow"] is True
    assert decisions[0]["decision_id"] == back.body["gate"]["decision_id"]
    # When: "rolling back" to v1.2.0, which that rollback left
    forward = _rollback(invoke, admin, "v1.2.0")
    # Then
    assert forward.status == 409, forward.body
    assert forward.body["error"]["code"] == "not_a_rollback"
    assert forward.body["error"]["details"] == [{"version": "v1.0.0"}]
    # An admin forcing it is judged like a promotion: the freeze and the alert deny it
    forced = _rollback(invoke, admin, "v1.2.0", force=True, reason="v1.2.0 was fine after all")
    assert forced.status == 403, forced.body
    assert forced.body["error"]["code"] == "rollback_denied"
    reasons = [d["reason"] for d in forced.body["error"]["details"] if "reason" in d]
    assert "change freeze is active for production" in reasons
    history = invoke("env/history", engine=admin, path_params={"project_id": "pf-777", "environment": "production"})
    assert history.body["entries"][0]["version"] == "v1.1.0"
    assert history.body["rollback_versions"] == ["v1.0.0"]
