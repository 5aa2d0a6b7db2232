"""In-memory planning service for unit tests: memory stores, static providers, recorded alerts."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from puraify.audit import AuditLog
from puraify.planning.bundles import publish_folder
from puraify.planning.service import PlanningService
from puraify.settings import Settings
from tests.fakes.engine_control import MemoryAuditStore
from tests.fakes.planning import MemoryBundleStore, MemoryDecisionStore, MemoryFactStore

GATE = Path(__file__).resolve().parents[3] / "policies" / "gate"
HEALTHY = {
    "version_health": {
        "version": "v2",
        "environment": "production",
        "window_seconds": 3600,
        "since": "2026-12-07T00:00:00Z",
        "events": 200,
        "errors": 2,
        "error_rate": 0.01,
        "latency_p95_ms": 120,
    },
    "open_critical_alerts": 0,
    "platforms_in_maintenance": [],
    "change_freeze": False,
    "versions_behind": 0,
}


class StaticProvider:
    """Returns ``values`` after ``delay`` seconds, or raises ``error``."""

    def __init__(self, name: str, values: dict[str, Any], *, scope: str = "project", delay: float = 0.0, error=None):
        self.name = name
        self.fact_ids = tuple(values)
        self.values = values
        self.scope = scope
        self.delay = delay
        self.error = error
        self.calls = 0

    def collect(self, context):
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        if self.error:
            raise self.error
        return dict(self.values)


@dataclass
class Harness:
    service: PlanningService
    providers: dict[str, StaticProvider]
    bundles: MemoryBundleStore
    alerts: list[dict[str, Any]] = field(default_factory=list)


def make_harness(publish: bool = True, **settings: Any) -> Harness:
    alerts: list[dict[str, Any]] = []
    providers = {
        "monitoring": StaticProvider("monitoring", {k: HEALTHY[k] for k in ("version_health", "open_critical_alerts")}),
        "catalog": StaticProvider(
            "catalog", {k: HEALTHY[k] for k in ("platforms_in_maintenance", "change_freeze")}, scope="global"
        ),
        "lag": StaticProvider("lag", {"versions_behind": 0}),
    }
    bundles = MemoryBundleStore()
    if publish:
        publish_folder(bundles, GATE, revision="gate-1")
    service = PlanningService(
        settings=Settings(**settings),
        facts=MemoryFactStore(),
        decisions=MemoryDecisionStore(),
        bundle_store=bundles,
        providers=list(providers.values()),
        audit=AuditLog(MemoryAuditStore(), 90),
        alert=lambda **fields: alerts.append(fields),
    )
    return Harness(service, providers, bundles, alerts)
