"""A promotion into production through the real Environment Manager consults this gate first."""

from __future__ import annotations

STATE = {"entities": ["User"], "flows": {"signup": {"steps": ["create_user"]}}, "feature_flags": []}


def _promote(invoke, who):
    body = {"project_id": "pf-777", "source_env": "staging", "target_env": "production"}
    return invoke("env/promote", engine=who, body=body)


def test_change_freeze_blocks_a_promotion_with_the_reason_then_lifting_it_lets_it_through(aws, admin, gate, invoke):
    from puraify import wiring
    from puraify.wiring import production_gate

    wiring.current().environments.gate = production_gate(wiring.current())
    body = {"project_id": "pf-777", "environment": "development", "state": STATE}
    assert invoke("env/publish", engine=admin, body=body).status == 201
    for name, base in (("staging", {"base_from": "development"}), ("production", {})):
        reply = invoke("env/create", engine=admin, body={"project_id": "pf-777", "new_environment": name, **base})
        assert reply.status == 201, reply.body
    # Given: a change freeze, declared the way an operator does
    assert invoke("config/put_flag", engine=admin, path_params={"name": "deployments"},
                  body={"enabled": False}).status == 200  # fmt: skip
    # When / Then: the promotion is refused with the gate's reason, and the decision is on record
    denied = _promote(invoke, admin)
    assert denied.status == 403, denied.body
    assert {"reason": "change freeze is active for production"} in denied.body["error"]["details"]
    audit = invoke("plan/decisions", engine=admin, query={"project_id": "pf-777"}).body["decisions"]
    assert audit[0]["deny_reasons"] == ["change freeze is active for production"]
    assert audit[0]["environment"] == "production"
    # When the freeze is lifted, the same promotion passes the gate
    assert invoke("config/put_flag", engine=admin, path_params={"name": "deployments"},
                  body={"enabled": True}).status == 200  # fmt: skip
    allowed = _promote(invoke, admin)
    assert allowed.status == 200, allowed.body
    assert (
        allowed.body["gate"]["decision_id"]
        == invoke("plan/decisions", engine=admin, query={"project_id": "pf-777"}).body["decisions"][0]["decision_id"]
    )
