"""Fixtures for the Planning Engine's integration tests.

``system`` stands in for Monitoring and the Environment Manager through the agreed interfaces
(``puraify.monitoring.queries``, ``puraify.monitoring.alerts``, ``puraify.environments.queries``),
installed as modules for one test, so the real providers run against state the test controls.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

GATE = Path(__file__).resolve().parents[3] / "policies" / "gate"
ADMIN = "admin"


@dataclass
class System:
    error_rate: float = 0.01
    critical_alerts: int = 0
    versions_behind: int | None = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def system(monkeypatch) -> System:
    state = System()
    queries = types.ModuleType("puraify.monitoring.queries")
    queries.error_summary = lambda rt, project_id, since, **_: {
        "events": 200,
        "errors": 0,
        "error_rate": state.error_rate,
    }
    queries.open_critical_alerts = lambda rt, project_id: state.critical_alerts
    alerts = types.ModuleType("puraify.monitoring.alerts")
    alerts.raise_alert = lambda rt, **fields: state.alerts.append(fields)
    environments = types.ModuleType("puraify.environments.queries")
    environments.versions_behind = lambda rt, project_id, environment="production", ahead="staging": (
        state.versions_behind
    )
    monkeypatch.setitem(sys.modules, "puraify.monitoring.queries", queries)
    monkeypatch.setitem(sys.modules, "puraify.monitoring.alerts", alerts)
    monkeypatch.setitem(sys.modules, "puraify.environments.queries", environments)
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
