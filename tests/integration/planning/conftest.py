"""Fixtures for the Planning Engine's integration tests.

``system`` stands in for Monitoring and the Environment Manager through the Planning Engine's ports
(``puraify.planning.ports``: MonitoringFacts, EnvironmentFacts, Alert), handed to the real providers
for one test, so they run against state the test controls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

GATE = Path(__file__).resolve().parents[3] / "policies" / "gate"
ADMIN = "admin"


@dataclass
class System:
    error_rate: float | None = None  # set: every version's health (200 events at this rate), not Monitoring's
    critical_alerts: int = 0
    versions_behind: int | None = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)
    monitoring: Any = None


class FakeMonitoring:
    """Monitoring as the Planning Engine sees it; version health is the real Monitoring's."""

    def __init__(self, state: System):
        self.state = state

    def error_summary(self, project_id: str, since_epoch: float, environment: str | None = None) -> dict[str, Any]:
        return {"events": 200, "errors": 0, "error_rate": self.state.error_rate or 0.0}

    def open_critical_alerts(self, project_id: str) -> int:
        return self.state.critical_alerts

    def version_health(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if self.state.error_rate is not None:
            rate = self.state.error_rate
            return {"events": 200, "errors": round(200 * rate), "error_rate": rate, "latency_p95_ms": 100}
        from puraify import wiring

        return wiring.current().monitoring.version_health(*args, **kwargs)

    def raise_alert(self, **fields: Any) -> dict[str, Any]:
        self.state.alerts.append(fields)
        return fields


class FakeEnvironments:
    def __init__(self, state: System):
        self.state = state

    def versions_behind(self, project_id: str, environment: str = "production", ahead: str = "staging") -> int | None:
        return self.state.versions_behind


@pytest.fixture
def system(aws, monkeypatch) -> System:
    """Every Planning Engine this test builds (also after ``wiring.reset()``) reads the fakes."""
    from puraify import wiring
    from puraify.planning.providers import builtin_providers

    state = System()
    state.monitoring = FakeMonitoring(state)
    real = wiring.build_planning

    def build_planning(rt: Any) -> Any:
        planning = real(rt)
        planning.providers = builtin_providers(rt.settings, state.monitoring, FakeEnvironments(state), rt.catalog)
        planning.alert = lambda **fields: state.monitoring.raise_alert(**fields)
        return planning

    monkeypatch.setattr(wiring, "build_planning", build_planning)
    return state


@pytest.fixture
def admin(admin_key: str) -> tuple[str, str]:
    return (ADMIN, admin_key)


@pytest.fixture
def bucket(aws):
    from puraify.store.planning import S3BundleStore

    return S3BundleStore(aws.name("PolicyBucket"))


@pytest.fixture
def gate(bucket):
    """The shipped default gate, published to the bucket as revision gate-1."""
    from puraify.planning.bundles import publish_folder

    manifest, _ = publish_folder(bucket, GATE, revision="gate-1")
    return manifest


@pytest.fixture
def engine(aws, admin, invoke):
    """Register an engine with the given scopes; returns its (id, key)."""

    def register(engine_id: str, scopes: list[str]) -> tuple[str, str]:
        reply = invoke(
            "register/register", engine=admin, body={"engine_id": engine_id, "scopes": scopes, "projects": ["*"]}
        )
        assert reply.status == 201, reply.body
        return (engine_id, reply.body["engine_key"])

    return register
