"""Rollbacks only go back: the 409 for a forward "rollback", the admin's forced one, and the gate's rollback phase."""

from __future__ import annotations

import pytest

from puraify.audit import AuditLog
from puraify.auth import Principal
from puraify.environments import models as m
from puraify.environments.gate import GateDecision
from puraify.environments.service import Environments
from puraify.errors import ConflictError, ForbiddenError
from tests.fakes.engine_control import MemoryAuditStore
from tests.fakes.environments import MemoryDeploymentStore, MemoryEnvironmentStore, MemorySecretStore

ADMIN = Principal("admin", frozenset({"admin"}), projects=frozenset({"*"}))
OPS = Principal("ops", frozenset({"env:write", "env:read", "env:production"}), projects=frozenset({"pf-1"}))
STATE = {"entities": ["User"], "flows": {"signup": {"steps": ["create"]}}}


@pytest.fixture
def gate_calls() -> list[dict]:
    return []


@pytest.fixture
def alerts() -> list[dict]:
    return []


@pytest.fixture
def envs(gate_calls, alerts) -> Environments:
    def gate(**request):
        gate_calls.append(request)
        return GateDecision(allow=True, decision_id=f"d{len(gate_calls)}")

    return Environments(
        MemoryEnvironmentStore(),
        MemorySecretStore(),
        AuditLog(MemoryAuditStore(), 1),
        gate=gate,
        url_base="https://preview.example/",
        deployments=MemoryDeploymentStore(),
        alert=lambda **fields: alerts.append(fields) or {"alert_id": "a1"},
    )


def _release(envs: Environments, entities: list[str]) -> str:
    """Publish a new version into development and promote it into production."""
    published = envs.publish(
        ADMIN,
        m.VersionPublishRequest(project_id="pf-1", environment="development", state={**STATE, "entities": entities}),
        "r",
    )
    envs.promote(
        ADMIN,
        m.EnvPromoteRequest(project_id="pf-1", source_env="development", target_env="production", bake_seconds=0),
        "r",
    )
    return published.version


def _rollback(envs: Environments, version: str, caller: Principal = OPS, **fields) -> m.EnvRollbackResponse:
    return envs.rollback(
        caller, m.EnvRollbackRequest(project_id="pf-1", environment="production", version=version, **fields), "r"
    )


@pytest.fixture
def production(envs) -> Environments:
    """Production ran v1.0.0, then v1.1.0, and runs v1.2.0."""
    envs.publish(ADMIN, m.VersionPublishRequest(project_id="pf-1", environment="development", state=STATE), "r")
    envs.create(ADMIN, m.EnvCreateRequest(project_id="pf-1", new_environment="production"), "r")
    envs.promote(
        ADMIN,
        m.EnvPromoteRequest(project_id="pf-1", source_env="development", target_env="production", bake_seconds=0),
        "r",
    )
    assert _release(envs, ["User", "Order"]) == "v1.1.0"
    assert _release(envs, ["User", "Order", "Invoice"]) == "v1.2.0"
    return envs


def test_rollback_to_an_earlier_release_goes_through_the_rollback_gate(production, gate_calls):
    rolled = _rollback(production, "v1.1.0")
    assert rolled.status == "rolled_back" and rolled.environment.version == "v1.1.0"
    assert gate_calls[-1]["phase"] == "rollback" and gate_calls[-1]["version"] == "v1.1.0"
    assert gate_calls[-1]["rollback"] == {"from_version": "v1.2.0", "known_good": True, "forced": False}
    assert rolled.gate is not None and rolled.gate.decision_id == f"d{len(gate_calls)}"
    history = production.history(OPS, "pf-1", "production")
    assert history.entries[0].action == "rollback" and history.entries[0].gate_decision_id == rolled.gate.decision_id


def test_the_version_a_rollback_left_is_not_a_rollback_target_and_the_409_names_those_that_are(production):
    _rollback(production, "v1.1.0")
    # When: "rolling back" to v1.2.0, which the rollback just left as bad
    with pytest.raises(ConflictError) as error:
        _rollback(production, "v1.2.0")
    # Then
    assert error.value.code == "not_a_rollback"
    assert error.value.details == [{"version": "v1.0.0"}]
    assert production.history(OPS, "pf-1", "production").rollback_versions == ["v1.0.0"]


def test_a_newer_version_the_environment_ran_is_not_a_rollback(production, envs):
    _rollback(production, "v1.0.0")
    # v1.1.0 ran before v1.0.0's latest release but is newer than it: going there is forward.
    with pytest.raises(ConflictError) as error:
        _rollback(production, "v1.1.0")
    assert error.value.code == "not_a_rollback" and error.value.details == []


def test_promoting_a_rolled_back_version_again_makes_it_a_way_back_once_more(production):
    _rollback(production, "v1.1.0")
    production.promote(
        ADMIN,
        m.EnvPromoteRequest(project_id="pf-1", source_env="development", target_env="production", bake_seconds=0),
        "r",
    )
    assert production.history(OPS, "pf-1", "production").rollback_versions == ["v1.1.0", "v1.0.0"]


def test_forcing_needs_admin_and_a_reason_and_is_audited_and_alerted(production, gate_calls, alerts):
    _rollback(production, "v1.1.0")
    with pytest.raises(ForbiddenError):
        _rollback(production, "v1.2.0", force=True, reason="the fix is in v1.2.0 after all")
    with pytest.raises(ValueError):
        m.EnvRollbackRequest(project_id="pf-1", environment="production", version="v1.2.0", force=True)
    forced = _rollback(production, "v1.2.0", ADMIN, force=True, reason="the fix is in v1.2.0 after all")
    assert forced.forced is True and forced.environment.version == "v1.2.0"
    assert gate_calls[-1]["rollback"] == {"from_version": "v1.1.0", "known_good": False, "forced": True}
    assert alerts[-1]["event_type"] == "rollback_forced" and "the fix is in v1.2.0" in alerts[-1]["message"]
    audited = [r for r in production.audit.store.records if r.get("action_type") == "rollback"]
    assert audited[-1]["details"]["forced"] is True and audited[-1]["details"]["reason"].startswith("the fix")


def test_a_rollback_the_gate_denies_changes_nothing(production, gate_calls):
    production.gate = lambda **_: GateDecision(
        allow=False, reasons=["change freeze is active for production"], decision_id="dx"
    )
    with pytest.raises(ForbiddenError) as error:
        _rollback(production, "v1.1.0")
    assert error.value.code == "rollback_denied"
    assert {"reason": "change freeze is active for production"} in error.value.details
    assert production.history(OPS, "pf-1", "production").entries[0].version == "v1.2.0"
