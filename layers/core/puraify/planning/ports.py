"""What the Planning Engine needs from outside itself: its stores, and facts that other services own.

The wiring (``puraify.wiring``) passes an implementation of each: the DynamoDB and S3 adapters of
``puraify.store``, Monitoring and the Environment Manager themselves, and the catalog store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol


class FactStore(Protocol):
    def put_snapshot(self, snapshot: dict[str, Any]) -> None: ...
    def latest(self, scope: str) -> dict[str, Any] | None: ...


class DecisionStore(Protocol):
    def put(self, record: dict[str, Any]) -> None: ...
    def by_deployment(
        self, deployment_id: str, since: str, limit: int, before: str | None = None, project_id: str | None = None
    ) -> list[dict[str, Any]]: ...
    def by_project(
        self, project_id: str, since: str, limit: int, before: str | None = None
    ) -> list[dict[str, Any]]: ...


class BundleStore(Protocol):
    """A versioned object store (S3 with versioning): every put adds a version."""

    def put(self, key: str, body: bytes, content_type: str = ...) -> str | None: ...
    def get(self, key: str, version_id: str | None = None) -> bytes | None: ...
    def head(self, key: str) -> str | None: ...
    def versions(self, key: str, limit: int) -> list[str]: ...


class MonitoringFacts(Protocol):
    """Monitoring, as the fact providers read it."""

    def error_summary(self, project_id: str, since_epoch: float, environment: str | None = None) -> dict[str, Any]: ...
    def open_critical_alerts(self, project_id: str) -> int: ...
    def version_health(
        self, project_id: str, version: str, environment: str, since: float, until: float | None = None
    ) -> dict[str, Any]: ...


class EnvironmentFacts(Protocol):
    """The Environment Manager, as the fact providers read it."""

    def versions_behind(self, project_id: str, environment: str = ..., ahead: str = ...) -> int | None: ...


class PlatformState(Protocol):
    @property
    def status(self) -> str: ...
    def in_maintenance(self, at: float) -> bool: ...


class FlagState(Protocol):
    @property
    def enabled(self) -> bool: ...
    def enabled_at(self, at: float) -> bool: ...  # with its scheduled changes due by ``at``


class CatalogState(Protocol):
    @property
    def platforms(self) -> Mapping[str, PlatformState]: ...
    @property
    def flags(self) -> Mapping[str, FlagState]: ...


class CatalogReader(Protocol):
    """Engine Control's catalog store: platforms and feature flags, read in one consistent read."""

    def load(self) -> CatalogState: ...


Alert = Callable[..., Any]
"""Raise an alert in Monitoring (keyword fields: project_id, event_type, severity, message, triggered_by)."""


class EngineCounters(Protocol):
    """Engine Control's per-minute check counts (AggregatesTable ``pk = CHECKS``): one item a minute, with
    ``engine#<id>#checks``, ``engine#<id>#denied`` and ``engine#<id>#limited`` per calling engine."""

    def minutes(self, first: str, last: str) -> list[dict[str, Any]]: ...


EngineAlert = Callable[..., Any]
"""Raise an alert about one engine in Monitoring, once while unresolved (keyword fields: engine_id,
event_type, severity, message, details); returns the alert, or None when one is already open."""

Suspend = Callable[[str, str], Any]
"""Suspend an engine (engine id, reason) through Engine Control: audited, and refused (409 ``last_admin``)
for the last active admin."""

ExpiringKeys = Callable[[float], list[tuple[str, float]]]
"""Engine Control's registry: ``(engine_id, key_expires_at)`` of each active engine whose key expires
before the given time (epoch seconds); a bounded read of the registry, never of alerts."""
