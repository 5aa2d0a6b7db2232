"""Environment Manager logic over in-memory stores: no sockets."""

from __future__ import annotations

import pytest

from puraify.audit import AuditLog
from puraify.auth import Principal
from puraify.environments import models as m
from puraify.environments.errors import RevisionConflict
from puraify.environments.gate import GateDecision
from puraify.environments.service import Environments
from puraify.errors import ConflictError, ForbiddenError, NotFoundError
from puraify.wiring import production_gate
from tests.fakes.engine_control import MemoryAuditStore
from tests.fakes.environments import MemoryDeploymentStore, MemoryEnvironmentStore, MemorySecretStore

ADMIN = Principal("admin", frozenset({"admin"}), projects=frozenset({"*"}))
STATE = {"entities": ["User"], "flows": {"signup": {"steps": ["create"]}}, "feature_flags": ["BETA_FORM"]}


class Clock:
    def __init__(self) -> None:
        self.at = 1_800_000_000.0

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gate_calls() -> list[dict]:
    return []


@pytest.fixture
def envs(clock, gate_calls) -> Environments:
    def gate(**request):
        gate_calls.append(request)
        return GateDecision(allow=True, decision_id="d1")

    return Environments(
        MemoryEnvironmentStore(),
        MemorySecretStore(),
        AuditLog(MemoryAuditStore(), 1),
        gate=gate,
        url_base="https://preview.example/",
        clock=clock,
        deployments=MemoryDeploymentStore(),
    )


def publish(envs: Environments, state: dict, env: str = "development", label: str | None = None):
    body = m.VersionPublishRequest(project_id="pf-1", environment=env, state=state, label=label)
    return envs.publish(ADMIN, body, "r")


def create(envs: Environments, name: str, **fields):
    return envs.create(ADMIN, m.EnvCreateRequest(project_id="pf-1", new_environment=name, **fields), "r")


def test_publish_sequence_bumps_minor_then_patch(envs):
    first = publish(envs, STATE)
    second = publish(envs, {**STATE, "entities": ["User", "Order"]})
    third = publish(envs, {**STATE, "entities": ["User", "Order"], "feature_flags": []})
    assert [first.version, second.version, third.version] == ["v1.0.0", "v1.1.0", "v1.1.1"]
    assert [second.bump, third.bump] == ["minor", "patch"]
    assert second.changes.entities_added == ["Order"]


def test_publish_retry_of_same_state_returns_same_version(envs):
    first = publish(envs, STATE)
    again = publish(envs, STATE)
    assert again.created is False and again.version == first.version and again.revision == first.revision


def test_publish_into_production_is_refused(envs):
    publish(envs, STATE)
    with pytest.raises(ConflictError) as error:
        publish(envs, STATE, env="production")
    assert error.value.code == "publish_into_production"


def test_promotion_keeps_target_config_and_reports_updated_variables(envs, gate_calls):
    publish(envs, STATE)
    create(envs, "staging", base_from="development", env_variables={"API_KEY": "stg", "BASE_URL": "s"})
    create(envs, "production", env_variables={"API_KEY": "prod-1", "BASE_URL": "p"})
    envs.update_config(ADMIN, "pf-1", "production", m.EnvConfigRequest(env_variables={"API_KEY": "prod-2"}), "r")
    promoted = envs.promote(
        ADMIN, m.EnvPromoteRequest(project_id="pf-1", source_env="staging", target_env="production"), "r"
    )
    assert promoted.status == "ready_for_deploy" and promoted.version == "v1.0.0"
    assert promoted.diff_from_previous.env_updated == ["API_KEY"]
    assert gate_calls == [
        {
            "project_id": "pf-1",
            "environment": "production",
            "version": "v1.0.0",
            "deployment_id": promoted.deployment_id,
            "source_env": "staging",
        }
    ]
    _, found = envs.store.load("pf-1", ["production"])
    production = found["production"]
    assert production.variables["BASE_URL"].value == "p"
    assert (
        envs.secrets.get(production.variables["API_KEY"].secret_id, production.variables["API_KEY"].secret_version)
        == "prod-2"
    )


def test_gate_denial_leaves_production_untouched(envs):
    envs.gate = lambda **_: GateDecision(allow=False, reasons=["error rate 7% > 5%"], decision_id="d9")
    publish(envs, STATE)
    create(envs, "production")
    with pytest.raises(ForbiddenError) as error:
        envs.promote(
            ADMIN, m.EnvPromoteRequest(project_id="pf-1", source_env="development", target_env="production"), "r"
        )
    assert error.value.code == "promotion_denied"
    assert {"reason": "error rate 7% > 5%"} in error.value.details
    _, found = envs.store.load("pf-1", ["production"])
    assert found["production"].version is None and found["production"].revision == 1


def test_gate_is_the_planning_engines_decision_unless_switched_off():
    from types import SimpleNamespace

    asked = []

    class Planning:
        def decide(self, body, *, engine_id, request_id):
            asked.append((body.project_id, body.version, engine_id))
            return SimpleNamespace(allow=False, deny_reasons=["error rate 7% > 5%"], decision_id="d1")

    rt = SimpleNamespace(settings=SimpleNamespace(production_gate="on"), planning=Planning())
    decision = production_gate(rt)(project_id="p", environment="production", version="v1.0.0", deployment_id="d")
    assert decision.allow is False and decision.reasons == ["error rate 7% > 5%"]
    assert asked == [("p", "v1.0.0", "environment-manager")]
    rt.settings.production_gate = "off"
    assert production_gate(rt)(project_id="p", environment="production", version="v1.0.0", deployment_id="d").allow
    assert len(asked) == 1


def test_rollback_restores_pointer_and_the_config_of_that_version(envs):
    publish(envs, STATE)
    create(envs, "staging", base_from="development", env_variables={"BASE_URL": "one", "API_KEY": "k1"})
    publish(envs, {**STATE, "entities": ["User", "Order"]})
    envs.promote(ADMIN, m.EnvPromoteRequest(project_id="pf-1", source_env="development", target_env="staging"), "r")
    patch = m.EnvConfigRequest(env_variables={"BASE_URL": "two", "API_KEY": "k2"}, feature_flags={"BETA_FORM": False})
    envs.update_config(ADMIN, "pf-1", "staging", patch, "r")
    rolled = envs.rollback(ADMIN, m.EnvRollbackRequest(project_id="pf-1", environment="staging", version="v1.0.0"), "r")
    assert rolled.status == "rolled_back"
    assert rolled.environment.version == "v1.0.0"
    assert rolled.environment.variables["BASE_URL"].value == "one"
    assert rolled.environment.feature_flags["BETA_FORM"] is True
    _, found = envs.store.load("pf-1", ["staging"])
    key = found["staging"].variables["API_KEY"]
    assert envs.secrets.get(key.secret_id, key.secret_version) == "k1"


def test_rollback_to_a_version_the_environment_never_ran_is_409(envs):
    publish(envs, STATE)
    create(envs, "staging", base_from="development")
    publish(envs, {**STATE, "entities": ["Other"]})
    with pytest.raises(ConflictError) as error:
        envs.rollback(ADMIN, m.EnvRollbackRequest(project_id="pf-1", environment="staging", version="v1.1.0"), "r")
    assert error.value.code == "version_never_deployed"
    with pytest.raises(NotFoundError):
        envs.rollback(ADMIN, m.EnvRollbackRequest(project_id="pf-1", environment="staging", version="v9.0.0"), "r")


def test_stale_expected_revision_is_409_with_current_revision(envs):
    publish(envs, STATE)
    with pytest.raises(RevisionConflict) as error:
        envs.update_config(
            ADMIN, "pf-1", "development", m.EnvConfigRequest(feature_flags={"X": True}, expected_revision=7), "r"
        )
    assert error.value.current_revision == 1


def test_history_entry_lost_to_a_failed_write_is_repaired_by_the_next_change(envs):
    publish(envs, STATE)
    envs.store.fail_history_writes = 1
    envs.update_config(ADMIN, "pf-1", "development", m.EnvConfigRequest(feature_flags={"A": True}), "r")
    # the entry of revision 2 is not stored yet, but reads derive it from the head
    assert [e.revision for e in envs.history(ADMIN, "pf-1", "development").entries] == [2, 1]
    envs.update_config(ADMIN, "pf-1", "development", m.EnvConfigRequest(feature_flags={"B": True}), "r")
    assert sorted(r for (_, _, r) in envs.store.entries) == [1, 2, 3]


def test_expired_preview_vanishes_from_reads_and_sweep_deletes_its_secrets(envs, clock):
    publish(envs, STATE)
    create(envs, "pr-42", base_from="development", preview=True, ttl_hours=2, env_variables={"API_KEY": "x"})
    assert [e.env for e in envs.list_environments(ADMIN, "pf-1").environments] == ["development", "pr-42"]
    clock.at += 2 * 3600 + 1
    assert [e.env for e in envs.list_environments(ADMIN, "pf-1").environments] == ["development"]
    with pytest.raises(NotFoundError):
        envs.history(ADMIN, "pf-1", "pr-42")
    result = envs.sweep()
    assert result.removed == ["pf-1/pr-42"] and result.secrets_deleted == 1
    assert envs.secrets.values == {} and ("pf-1", "pr-42") not in envs.store.heads
    assert envs.sweep().removed == []


def test_config_patch_with_same_values_is_unchanged(envs):
    publish(envs, STATE)
    patch = m.EnvConfigRequest(env_variables={"API_KEY": "k", "BASE_URL": "u"})
    assert envs.update_config(ADMIN, "pf-1", "development", patch, "r").status == "updated"
    writes = envs.secrets.writes
    again = envs.update_config(ADMIN, "pf-1", "development", patch, "r")
    assert again.status == "unchanged" and envs.secrets.writes == writes


def test_create_over_an_expired_preview_replaces_it_cleanly(envs, clock):
    publish(envs, STATE)
    create(envs, "pr-1", base_from="development", preview=True, ttl_hours=1, env_variables={"OLD_TOKEN": "t"})
    envs.update_config(ADMIN, "pf-1", "pr-1", m.EnvConfigRequest(feature_flags={"X": True}), "r")
    clock.at += 3601
    again = create(envs, "pr-1", base_from="development", preview=True)
    assert again.revision == 1 and again.variables == {}
    assert [e.revision for e in envs.history(ADMIN, "pf-1", "pr-1").entries] == [1]
    assert not any("/pr-1/OLD_TOKEN" in name for name in envs.secrets.values)


def test_compare_is_not_a_valid_project_id():
    with pytest.raises(ValueError, match="reserved"):
        m.VersionPublishRequest(project_id="compare", state={})
