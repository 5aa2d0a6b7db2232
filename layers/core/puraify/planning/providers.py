"""The built-in fact providers: they read the control plane's own state, and external JSON over HTTP.

Monitoring, the Environment Manager and the catalog reach them through the ports in
``puraify.planning.ports``; a read that fails makes its facts unavailable (and the decision fails
safe), never a default value.
"""

from __future__ import annotations

import json
import math
from typing import Any

import httpx

from puraify.clock import iso, now, parse_iso
from puraify.contract import DEPLOYMENTS_FLAG
from puraify.planning.facts import FactContext, Provider, Scope
from puraify.planning.models import Fact
from puraify.planning.ports import CatalogReader, EnvironmentFacts, MonitoringFacts
from puraify.settings import Settings

MAX_HTTP_FACT_BYTES = 64 * 1024  # a fact is stored with every decision that uses it


class PromotedVersionProvider:
    """``version_health``: the health of the version a decision is about, in its source environment, over
    the policy data's window: ``{version, environment, window_seconds, since, events, errors, error_rate,
    latency_p95_ms}``, counting only engines entitled to report there (Monitoring's entitlement). The
    project's other versions do not count. No version named: the value says so (``version`` null, 0 events).
    """

    name = "monitoring.promoted_version"
    fact_ids: tuple[str, ...] = ("version_health",)
    scope: Scope = "project"

    def __init__(self, monitoring: MonitoringFacts):
        self.monitoring = monitoring

    def collect(self, context: FactContext) -> dict[str, Any]:
        environment = context.source_env or context.environment
        since = now() - context.window_seconds
        judged = {"version": context.version, "environment": environment, "window_seconds": context.window_seconds,
                  "since": iso(since)}  # fmt: skip
        if not context.version:
            return {"version_health": {**judged, "events": 0, "errors": 0, "error_rate": 0.0, "latency_p95_ms": None}}
        health = self.monitoring.version_health(context.project_id, context.version, environment, since)
        rate = health.get("error_rate", 0.0)
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1 or math.isnan(rate):
            raise ValueError(f"error_rate must be a number between 0 and 1, got {rate!r}")
        return {
            "version_health": {
                **judged,
                "events": int(health.get("events", 0)),
                "errors": int(health.get("errors", 0)),
                "error_rate": float(rate),
                "latency_p95_ms": health.get("latency_p95_ms"),
            }
        }


class CriticalAlertsProvider:
    """``open_critical_alerts``: how many critical alerts of the project are not resolved (open or acknowledged)."""

    name = "monitoring.critical_alerts"
    fact_ids: tuple[str, ...] = ("open_critical_alerts",)
    scope: Scope = "project"

    def __init__(self, monitoring: MonitoringFacts):
        self.monitoring = monitoring

    def collect(self, context: FactContext) -> dict[str, Any]:
        count = self.monitoring.open_critical_alerts(context.project_id)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"open_critical_alerts must be a non-negative integer, got {count!r}")
        return {"open_critical_alerts": count}


class CatalogProvider:
    """``platforms_in_maintenance`` and ``change_freeze``, from one consistent read of the catalog.

    A platform is in maintenance by its status or during one of its scheduled maintenance windows.

    ``change_freeze`` is true when the ``deployments`` flag is switched off (for every flag,
    enabled means what it targets may run). An absent flag means no freeze was declared: the
    catalog was read, so that is the system's real state, not a missing fact. A failed read makes
    both facts unavailable.
    """

    name = "engine_control.catalog"
    fact_ids: tuple[str, ...] = ("platforms_in_maintenance", "change_freeze")
    scope: Scope = "global"

    def __init__(self, catalog_store: CatalogReader):
        self.catalog_store = catalog_store

    def collect(self, context: FactContext) -> dict[str, Any]:
        catalog = self.catalog_store.load()
        at = now()
        deployments = catalog.flags.get(DEPLOYMENTS_FLAG)
        return {
            "platforms_in_maintenance": sorted(n for n, p in catalog.platforms.items() if p.in_maintenance(at)),
            "change_freeze": bool(deployments and not deployments.enabled_at(at)),
        }


class VersionLagProvider:
    """``versions_behind``: by how many versions production lags staging (None: nothing to compare)."""

    name = "environments.version_lag"
    fact_ids: tuple[str, ...] = ("versions_behind",)
    scope: Scope = "project"

    def __init__(self, environments: EnvironmentFacts):
        self.environments = environments

    def collect(self, context: FactContext) -> dict[str, Any]:
        lag = self.environments.versions_behind(context.project_id, environment="production", ahead="staging")
        if lag is not None and (isinstance(lag, bool) or not isinstance(lag, int) or lag < 0):
            raise ValueError(f"versions_behind must be a non-negative integer or null, got {lag!r}")
        return {"versions_behind": lag}


class VersionHealthProvider:
    """``candidate_health`` and ``baseline_health`` for post_deploy decisions: the deployed version's
    events, errors, error rate and latency in that environment since the deployment started, and the
    previous version's over the ``baseline_seconds`` before it (null when there is no previous version)."""

    name = "monitoring.version_health"
    fact_ids: tuple[str, ...] = ("candidate_health", "baseline_health")
    scope: Scope = "deployment"

    def __init__(self, monitoring: MonitoringFacts, baseline_seconds: int):
        self.monitoring = monitoring
        self.baseline_seconds = baseline_seconds

    def collect(self, context: FactContext) -> dict[str, Any]:
        if not context.version or context.since is None:
            raise ValueError("a post_deploy decision names the version and when its deployment started")
        health = self.monitoring.version_health
        candidate = health(context.project_id, context.version, context.environment, context.since)
        baseline = None
        if context.baseline_version:
            baseline = health(
                context.project_id,
                context.baseline_version,
                context.environment,
                context.since - self.baseline_seconds,
                context.since,
            )
        return {"candidate_health": candidate, "baseline_health": baseline}


class HttpProvider:
    """An external metric: JSON from a URL. ``{"value": v, "timestamp": t}`` carries its own time
    (ISO-8601 or epoch seconds), so an old measurement is seen as stale; any other JSON is the value."""

    scope: Scope = "global"

    def __init__(self, fact_id: str, url: str, timeout: float, client: httpx.Client | None = None):
        self.name = f"http.{fact_id}"
        self.fact_ids: tuple[str, ...] = (fact_id,)
        self.url = url
        # One client per provider for the process: its connections are reused across decisions.
        self.client = client or httpx.Client(timeout=timeout, follow_redirects=False)

    def collect(self, context: FactContext) -> dict[str, Any]:
        reply = self.client.get(self.url, headers={"Accept": "application/json"})
        if reply.status_code != 200:
            raise ValueError(f"{self.url} answered HTTP {reply.status_code}")
        if len(reply.content) > MAX_HTTP_FACT_BYTES:
            raise ValueError(f"{self.url} answered more than {MAX_HTTP_FACT_BYTES} bytes")
        body = json.loads(reply.content, parse_constant=_reject_constant)
        fact_id = self.fact_ids[0]
        if isinstance(body, dict) and "value" in body:
            stamp = body.get("timestamp")
            observed = parse_iso(stamp) if isinstance(stamp, str) else float(stamp) if stamp is not None else now()
            return {fact_id: Fact(id=fact_id, value=body["value"], timestamp=observed)}
        return {fact_id: body}


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def http_providers(config: str, timeout: float) -> list[Provider]:
    """Providers from ``PURAIFY_PLAN_HTTP_FACTS``: a JSON object of fact id -> URL."""
    if not config.strip():
        return []
    mapping = json.loads(config)
    if not isinstance(mapping, dict) or not all(isinstance(u, str) for u in mapping.values()):
        raise ValueError("PURAIFY_PLAN_HTTP_FACTS must be a JSON object of fact id -> URL")
    return [HttpProvider(fact_id, url, timeout) for fact_id, url in sorted(mapping.items())]


def builtin_providers(
    settings: Settings, monitoring: MonitoringFacts, environments: EnvironmentFacts, catalog: CatalogReader
) -> list[Provider]:
    """Every provider this deployment runs: the control plane's own state plus configured URLs."""
    return [
        PromotedVersionProvider(monitoring),
        CriticalAlertsProvider(monitoring),
        CatalogProvider(catalog),
        VersionLagProvider(environments),
        VersionHealthProvider(monitoring, settings.bake_baseline_seconds),
        *http_providers(settings.plan_http_facts, settings.plan_provider_timeout_seconds),
    ]
