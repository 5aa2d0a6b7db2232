"""The deployment watch over in-memory stores: a fake post_deploy judge, a recorded alert, a set clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from puraify.audit import AuditLog
from puraify.auth import Principal
from puraify.environments import models as m
from puraify.environments import records as r
from puraify.environments.gate import GateDecision
from puraify.environments.service import Environments
from puraify.environments.watch import UNDECIDED_GRACE_SECONDS, WATCH_ACTOR
from tests.fakes.engine_control import MemoryAuditStore
from tests.fakes.environments import MemoryDeploymentStore, MemoryEnvironmentStore, MemorySecretStore

ADMIN = Principal("admin", frozenset({"admin"}), projects=frozenset({"*"}))
V1 = {"entities": ["User"], "flows": {"signup": {"steps": ["create"]}}}
V2 = {"entities": ["User", "Order"], "flows": {"signup": {"steps": ["create", "mail"]}}}


class Clock:
    def __init__(self) -> None:
        self.at = 1_800_000_000.0

    def __call__(self) -> float:
        self.at += 0.001  # every change gets its own time, as on a real clock
        return self.at


@dataclass
class Judgement:
    verdict: str
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    decision_id: str = "dec"
    candidate: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None


@dataclass
class Judge:
    verdict: str = "continue"
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, **request: Any) -> Judgement:
        self.calls.append(request)
        return Judgement(self.verdict, list(self.reasons), list(self.notes), f"dec-{len(self.calls)}")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def judge() -> Judge:
    return Judge()


@pytest.fixture
def alerts() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def envs(clock, judge, alerts) -> Environments:
    def alert(**fields: Any) -> dict[str, Any]:
        alerts.append(fields)
        return {"alert_id": f"al-{len(alerts)}", **fields}

    return Environments(
        MemoryEnvironmentStore(),
        MemorySecretStore(),
        AuditLog(MemoryAuditStore(), 1),
        gate=lambda **_: GateDecision(allow=True, decision_id="gate-1"),
        url_base="https://preview.example/",
        clock=clock,
        deployments=MemoryDeploymentStore(),
        judge=judge,
        alert=alert,
        default_bake_seconds=600,
    )


def _publish(envs: Environments, state: dict) -> None:
    envs.publish(ADMIN, m.VersionPublishRequest(project_id="pf-1", state=state), "r")


def _promote(envs: Environments, source: str, target: str, **fields: Any) -> m.EnvPromoteResponse:
    body = m.EnvPromoteRequest(project_id="pf-1", source_env=source, target_env=target, **fields)
    return envs.promote(ADMIN, body, "r")


@pytest.fixture
def v2_baking(envs) -> m.EnvPromoteResponse:
    """Production on v1.0.0, then v1.1.0 promoted into it with a 20-second bake."""
    _publish(envs, V1)
    envs.create(ADMIN, m.EnvCreateRequest(project_id="pf-1", new_environment="production"), "r")
    _promote(envs, "development", "production")
    _publish(envs, V2)
    return _promote(envs, "development", "production", bake_seconds=20)


def _production(envs: Environments) -> r.EnvironmentRecord:
    return envs.store.load("pf-1", ["production"])[1]["production"]


def _deployment(envs: Environments) -> m.DeploymentView:
    return envs.deployment(ADMIN, "pf-1", "production")


def test_promotion_into_production_starts_a_bake_with_the_default_time(envs):
    _publish(envs, V1)
    envs.create(ADMIN, m.EnvCreateRequest(project_id="pf-1", new_environment="production"), "r")
    promoted = _promote(envs, "development", "production")
    assert promoted.bake is not None and promoted.bake.bake_seconds == 600
    assert _deployment(envs).state == "baking"


def test_promotion_elsewhere_bakes_only_when_asked(envs):
    _publish(envs, V1)
    envs.create(ADMIN, m.EnvCreateRequest(project_id="pf-1", new_environment="staging"), "r")
    assert _promote(envs, "development", "staging").bake is None
    assert envs.deployment(ADMIN, "pf-1", "staging").state == "deployed"
    _publish(envs, V2)
    assert _promote(envs, "development", "staging", bake_seconds=30).bake is not None


def test_watch_continues_while_the_judge_says_continue(envs, judge, v2_baking):
    summary = envs.watch()
    assert summary.judged == 1 and _deployment(envs).state == "baking"
    assert judge.calls[0]["version"] == "v1.1.0" and judge.calls[0]["baseline_version"] == "v1.0.0"
    assert judge.calls[0]["bake_seconds"] == 20
    assert [d.verdict for d in _deployment(envs).decisions] == ["continue"]


def test_watch_rolls_back_on_deny_with_alert_and_audited_rollback(envs, judge, alerts, v2_baking):
    # Given the post_deploy rule denies
    judge.verdict, judge.reasons = "rollback", ["error rate of v1.1.0 is 40% over 50 events"]
    # When the schedule ticks
    summary = envs.watch()
    # Then production is back on v1, by the watch, and the deployment says why
    assert summary.rolled_back == ["pf-1/production/v1.1.0"]
    head = _production(envs)
    assert head.version == "v1.0.0" and head.last_change.action == "rollback"
    assert head.last_change.created_by == WATCH_ACTOR
    marker = envs.deployments.recent("pf-1", "production")[0]
    assert marker.action == "rollback" and marker.rolled_back_from == v2_baking.deployment_id
    baked = _deployment(envs)  # the route shows the bake the watch undid, not its rollback marker
    assert baked.deployment_id == v2_baking.deployment_id and baked.state == "rolled_back"
    assert baked.reason == "error rate of v1.1.0 is 40% over 50 events"
    assert baked.rollback_deployment_id == marker.deployment_id and baked.alert_id == "al-1"
    assert alerts[0]["severity"] == "critical" and "v1.1.0" in alerts[0]["message"]
    assert "error rate of v1.1.0 is 40%" in alerts[0]["message"]
    audit = [r for r in envs.audit.store.records if r.get("action_type") == "rollback"]
    assert audit[-1]["engine_id"] == WATCH_ACTOR


def test_watch_marks_a_clean_bake_healthy(envs, judge, v2_baking):
    judge.verdict = "healthy"
    assert envs.watch().healthy == ["pf-1/production/v1.1.0"]
    deployment = _deployment(envs)
    assert deployment.state == "healthy" and deployment.finished_at is not None
    assert _production(envs).version == "v1.1.0" and envs.watch().judged == 0


def test_no_signal_keeps_the_version_and_is_not_healthy(envs, judge, alerts, v2_baking):
    judge.verdict, judge.notes = "no_signal", ["no signal: v1.1.0 served 0 event(s) during the bake"]
    envs.watch()
    deployment = _deployment(envs)
    assert deployment.state == "no_signal" and "0 event(s)" in (deployment.reason or "")
    assert _production(envs).version == "v1.1.0"
    assert alerts[0]["severity"] == "medium" and alerts[0]["event_type"] == "deployment_no_signal"


def test_undecided_is_never_acted_on_until_the_grace_after_the_bake(envs, judge, clock, v2_baking):
    judge.verdict, judge.reasons = "undecided", ["fact candidate_health is unavailable: timed out"]
    envs.watch()
    assert _deployment(envs).state == "baking" and _production(envs).version == "v1.1.0"
    clock.at += 20 + UNDECIDED_GRACE_SECONDS + 1
    envs.watch()
    deployment = _deployment(envs)
    assert deployment.state == "no_signal" and "could not be judged" in (deployment.reason or "")
    assert _production(envs).version == "v1.1.0"


def test_a_manual_change_during_the_bake_cancels_the_watch_and_says_so(envs, judge, v2_baking):
    # When an operator changes production's configuration during the bake
    body = m.EnvConfigRequest(env_variables={"REGION": "eu"})
    envs.update_config(ADMIN, "pf-1", "production", body, "r-manual")
    # Then the watch ended, saying why, and the next tick leaves production alone
    deployment = _deployment(envs)
    assert deployment.state == "cancelled"
    assert "production changed during the bake (config by admin" in (deployment.reason or "")
    judge.verdict = "rollback"
    assert envs.watch().judged == 0 and _production(envs).version == "v1.1.0"
    cancels = [r for r in envs.audit.store.records if r.get("action_type") == "watch_cancelled"]
    assert cancels[-1]["details"]["deployment_id"] == v2_baking.deployment_id


def test_a_tick_that_finds_the_environment_changed_cancels_the_watch(envs, judge, v2_baking):
    # Given the immediate cancel was lost (the head changed without the hook)
    head = _production(envs)
    moved = head.model_copy(deep=True)
    moved.revision += 1
    moved.last_change = moved.last_change.model_copy(update={"deployment_id": "someone-else", "action": "rollback"})
    envs.store.put_environment(moved, head.revision)
    # When the schedule ticks, even with a deny
    judge.verdict = "rollback"
    assert envs.watch().cancelled == ["pf-1/production/v1.1.0"]
    assert _production(envs).version == "v1.1.0" and judge.calls == []


def test_deny_without_a_previous_version_fails_and_alerts(envs, judge, alerts):
    _publish(envs, V1)
    envs.create(ADMIN, m.EnvCreateRequest(project_id="pf-1", new_environment="production"), "r")
    _promote(envs, "development", "production", bake_seconds=20)
    judge.verdict, judge.reasons = "rollback", ["error rate too high"]
    assert envs.watch().failed == ["pf-1/production/v1.0.0"]
    assert _deployment(envs).state == "failed" and alerts[0]["event_type"] == "deployment_failed"


def test_every_publish_promotion_and_rollback_writes_a_marker(envs, v2_baking):
    envs.rollback(ADMIN, m.EnvRollbackRequest(project_id="pf-1", environment="production", version="v1.0.0"), "r")
    markers = envs.deployments.recent("pf-1")
    assert [(d.environment, d.action, d.version) for d in reversed(markers)] == [
        ("development", "publish", "v1.0.0"),
        ("production", "promote", "v1.0.0"),
        ("development", "publish", "v1.1.0"),
        ("production", "promote", "v1.1.0"),
        ("production", "rollback", "v1.0.0"),
    ]
    assert markers[1].state == "cancelled"  # the manual rollback ended v1.1.0's bake


def test_bake_zero_promotes_without_a_watch(envs):
    _publish(envs, V1)
    envs.create(ADMIN, m.EnvCreateRequest(project_id="pf-1", new_environment="production"), "r")
    assert _promote(envs, "development", "production", bake_seconds=0).bake is None
    assert _deployment(envs).state == "deployed" and envs.deployments.baking() == []
