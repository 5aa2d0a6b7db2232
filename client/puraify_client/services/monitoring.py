"""``cp.monitoring``: what engines report (logs, alerts) and what operators read back.

Every event the SDK sends carries an ``event_id`` (a fresh one unless the caller gave one), so
the control plane stores a retried event once and ingest is safe to retry.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from pydantic import Field

from puraify_client.models import Request, Response
from puraify_client.services.alert_routes import AlertRouting
from puraify_client.services.base import paginate, register
from puraify_client.transport import IDEMPOTENT, SAFE
from puraify_client.types import (
    AlertMessage,
    DurationMs,
    Id,
    Label,
    Message,
    Name,
    Reason,
    Retries,
    Severity,
    Status,
    VersionText,
)


class LogEvent(Request):
    """One event as engines send it; ``event_id`` makes a retried send idempotent.

    ``event_type`` may be left out (the control plane derives it from ``status``); fields beyond
    these go in ``attributes``.
    """

    project_id: Id
    event_type: Name | None = None
    flow_id: Id | None = None
    user_id: Label | None = None
    session_id: Label | None = None
    environment: Name | None = None
    version: VersionText | None = None
    request_id: Label | None = None
    engine: Name | None = None
    platform: Name | None = None
    action: Name | None = None
    status: Status | None = None
    duration_ms: DurationMs | None = None
    retries: Retries | None = None
    timestamp: str | None = None
    error_type: Name | None = None
    message: Message | None = None
    details: dict[str, Any] | None = None
    attributes: dict[str, Any] | None = None
    event_id: Id = Field(default_factory=lambda: uuid.uuid4().hex)


class LogBatchRequest(Request):
    events: list[LogEvent] = Field(min_length=1, max_length=500)


class Rejected(Response):
    index: int
    error: Any = None


class LogIngestResponse(Response):
    accepted: int
    rejected: list[Rejected] = []


class AlertRequest(Request):
    project_id: Id
    event_type: Name
    severity: Severity
    message: AlertMessage
    triggered_by: Name
    flow_id: Id | None = None
    details: dict[str, Any] | None = None


class AlertResponse(Response):
    alert_id: str
    notified: bool = False
    project_id: str | None = None  # None: an engine-level alert, about engine_id
    engine_id: str | None = None
    event_type: str | None = None
    severity: str | None = None
    message: str | None = None
    status: str | None = None
    suppressed: bool = False
    created_at: str | None = None
    triggered_by: str | None = None
    raised_by: str | None = None
    fingerprint: str | None = None
    regression: bool = False
    acknowledged_by: str | None = None
    acknowledged_at: str | None = None
    resolved_by: str | None = None
    resolved_at: str | None = None
    history: list[dict[str, Any]] = []
    silenced_by: str | None = None
    routes: list[str] | None = None
    deliveries: list[dict[str, Any]] | None = None  # get_alert only


class AlertsPage(Response):
    alerts: list[AlertResponse]
    next_cursor: str | None = None


class AlertTransitionRequest(Request):
    reason: Reason | None = None


class LogRecord(Response):
    type: str | None = None
    event_type: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    environment: str | None = None
    version: str | None = None
    request_id: str | None = None
    attributes: dict[str, Any] | None = None
    duration_ms: float | None = None
    retries: int | None = None
    error_type: str | None = None
    project_id: str | None = None
    flow_id: str | None = None
    engine: str | None = None
    platform: str | None = None
    action: str | None = None
    status: str | None = None
    timestamp: str | None = None
    message: str | None = None
    event_id: str | None = None


class LogsPage(Response):
    logs: list[LogRecord]
    next_cursor: str | None = None


class ErrorGroup(Response):
    fingerprint: str
    count: int
    first_seen: str | None = None
    last_seen: str | None = None
    error_type: str | None = None
    platform: str | None = None
    engine: str | None = None
    severity: str | None = None
    sample_message: str | None = None


class ErrorsResponse(Response):
    project_id: str | None = None
    since: str | None = None
    errors: list[ErrorGroup]
    total: int = 0
    truncated: bool = False


class Durations(Response):
    p50: float
    p95: float
    max: float


class StatRow(Response):
    platform: str
    action: str
    count: int
    errors: int = 0
    error_rate: float = 0.0
    retries: int = 0
    duration_ms: Durations | None = None


class StatsResponse(Response):
    project_id: str | None = None
    since: str | None = None
    events: int = 0
    stats: list[StatRow]
    truncated: bool = False


class VersionHealth(Response):
    environment: str | None = None
    events: int = 0
    errors: int = 0
    error_rate: float = 0.0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None


class VersionStatsResponse(Response):
    """One version's health, in total and per environment, from the per-version counters."""

    project_id: str
    version: str
    environment: str | None = None
    since: str | None = None
    total: VersionHealth
    environments: list[VersionHealth] = []


class DeploymentMarker(Response):
    deployment_id: str
    environment: str
    action: str
    version: str
    previous_version: str | None = None
    actor: str | None = None
    created_at: str
    state: str
    finished_at: str | None = None
    reason: str | None = None


class DeploymentsResponse(Response):
    project_id: str
    environment: str | None = None
    deployments: list[DeploymentMarker]


class DenyRuleCount(Response):
    rule: str
    count: int


class CheckTotals(Response):
    allowed: int = 0
    denied: int = 0
    failed: int = 0


class CheckSeries(Response):
    """Checks allowed, denied and failed per step (the control plane's counters, every engine's)."""

    step_seconds: int
    t: list[int]
    allowed: list[int]
    denied: list[int]
    failed: list[int]
    totals: CheckTotals
    top_deny_rules: list[DenyRuleCount] = []
    flush_seconds: float | None = None  # how long a check may wait in a function instance before it is counted here
    loss_bound: str | None = None  # what an instance reclaimed while idle can still lose, in words


class ErrorGroupTrend(ErrorGroup):
    trend: list[int] = []


class ProjectTotals(Response):
    events: int = 0
    errors: int = 0


class ProjectSeries(Response):
    """A project's events and errors per aggregation window, and its top error groups with their trend."""

    window_seconds: int
    t: list[int]
    events: list[int]
    errors: list[int]
    totals: ProjectTotals
    error_groups: list[ErrorGroupTrend] = []
    error_groups_total: int = 0
    truncated: bool = False


class OverviewResponse(Response):
    """``GET /monitoring/overview``: what the console's overview charts, from stored counters."""

    project_id: str | None = None
    since: str
    until: str
    checks: CheckSeries | None = None  # every engine's checks: only for engines granted every project
    project: ProjectSeries | None = None


class AuditResponse(Response):
    project_id: str | None = None
    flow_id: str | None = None
    timeline: list[dict[str, Any]]
    counts: dict[str, int] = {}


class AuditViewResponse(Response):
    """One engine's checks (``decisions``) or the admin changes (``changes``), newest first."""

    engine_id: str | None = None
    kind: str | None = None
    decisions: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    next_cursor: str | None = None


class EngineEventRequest(Request):
    event_type: str
    platform: str | None = None
    action_type: str | None = None
    status: str | None = None
    message: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    event_id: Id = Field(default_factory=lambda: uuid.uuid4().hex)


class EngineEventResponse(Response):
    event_id: str


BATCH_LIMIT = 500


@register
class Monitoring(AlertRouting):
    name = "monitoring"

    async def log(self, event: LogEvent | Mapping[str, Any] | None = None, **fields: Any) -> LogIngestResponse:
        """Send one event (a ``LogEvent``, a dict, or its fields as keywords)."""
        one = event if isinstance(event, LogEvent) else LogEvent.model_validate({**(event or {}), **fields})
        return await self.transport.call("POST", "/monitoring/logs", LogIngestResponse, safety=SAFE, body=one)

    async def log_batch(self, events: Iterable[LogEvent | Mapping[str, Any]]) -> LogIngestResponse:
        """Send up to 500 events in one request; a bad event is reported by index in ``rejected``."""
        batch = LogBatchRequest(events=[e if isinstance(e, LogEvent) else LogEvent.model_validate(e) for e in events])
        return await self.transport.call("POST", "/monitoring/logs", LogIngestResponse, safety=SAFE, body=batch)

    async def alert(
        self,
        project_id: str,
        message: str,
        *,
        severity: str = "high",
        event_type: str = "error",
        triggered_by: str | None = None,
        flow_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AlertResponse:
        """Raise an alert (``triggered_by`` defaults to this engine); retried with its ``Idempotency-Key``,
        so a retry never raises it twice."""
        body = AlertRequest(
            project_id=project_id,
            event_type=event_type,
            severity=severity,
            message=message,
            triggered_by=triggered_by or self.transport.settings.engine_id or "sdk",
            flow_id=flow_id,
            details=details,
        )
        return await self.transport.call("POST", "/monitoring/alert", AlertResponse, safety=IDEMPOTENT, body=body)

    async def alerts(
        self,
        project_id: str | None = None,
        *,
        status: str | None = None,
        severity: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> AlertsPage:
        """One page of a project's alerts, newest first (``status`` open/acknowledged/resolved). Without
        ``project_id``: the engine-level alerts (``key_expiring``, ``engine_anomaly``), for an engine granted
        every project (``*``); others get ForbiddenError."""
        params = {"project_id": project_id, "status": status, "severity": severity, "limit": limit, "cursor": cursor}
        return await self.transport.call("GET", "/monitoring/alerts", AlertsPage, safety=SAFE, params=params)

    def iter_alerts(
        self,
        project_id: str | None = None,
        *,
        status: str | None = None,
        severity: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[AlertResponse]:
        """Every matching alert, newest first, page after page."""
        return paginate(
            lambda cursor: self.alerts(project_id, status=status, severity=severity, limit=page_size, cursor=cursor),
            "alerts",
        )

    async def get_alert(self, alert_id: str) -> AlertResponse:
        """One alert with its ``deliveries`` (needs logs:read and the alert's project)."""
        return await self.transport.call(
            "GET", f"/monitoring/alerts/{quote(alert_id, safe='')}", AlertResponse, safety=SAFE
        )

    async def acknowledge_alert(self, alert_id: str, reason: str | None = None) -> AlertResponse:
        """Acknowledge an open alert (needs alerts:manage); a ConflictError carries the current state."""
        return await self._transition(alert_id, "acknowledge", reason)

    async def resolve_alert(self, alert_id: str, reason: str | None = None) -> AlertResponse:
        """Resolve an open or acknowledged alert (needs alerts:manage): the plan gate stops counting it."""
        return await self._transition(alert_id, "resolve", reason)

    async def _transition(self, alert_id: str, action: str, reason: str | None) -> AlertResponse:
        # Safe to retry: a repeated transition answers 409 with the state the first one set.
        return await self.transport.call(
            "POST",
            f"/monitoring/alerts/{quote(alert_id, safe='')}/{action}",
            AlertResponse,
            safety=SAFE,
            body=AlertTransitionRequest(reason=reason),
        )

    async def logs(
        self, project_id: str, *, limit: int | None = None, cursor: str | None = None, **filters: str | None
    ) -> LogsPage:
        """One page of a project's logs, newest first (at most 1,000). Filters: engine, platform (both
        ignore case), status, event_type, flow_id, user_id, session_id, environment, version, request_id,
        since, until (ISO 8601 or epoch seconds)."""
        params = {"project_id": project_id, **filters, "limit": limit, "cursor": cursor}
        return await self.transport.call("GET", "/monitoring/logs", LogsPage, safety=SAFE, params=params)

    def iter_logs(
        self, project_id: str, *, page_size: int | None = None, **filters: str | None
    ) -> AsyncIterator[LogRecord]:
        """Every matching log, newest first, page after page (``async for log in cp.monitoring.iter_logs(...)``)."""
        return paginate(lambda cursor: self.logs(project_id, limit=page_size, cursor=cursor, **filters), "logs")

    async def errors(
        self, project_id: str, *, since: str | None = None, engine: str | None = None, platform: str | None = None
    ) -> ErrorsResponse:
        """Errors grouped by fingerprint, most frequent first (default: the last 24 hours)."""
        params = {"project_id": project_id, "since": since, "engine": engine, "platform": platform}
        return await self.transport.call("GET", "/monitoring/errors", ErrorsResponse, safety=SAFE, params=params)

    async def stats(self, project_id: str, *, since: str | None = None) -> StatsResponse:
        """Per platform and action: count, error rate, retries, duration p50/p95/max."""
        params = {"project_id": project_id, "since": since}
        return await self.transport.call("GET", "/monitoring/stats", StatsResponse, safety=SAFE, params=params)

    async def version_stats(
        self, project_id: str, version: str, *, environment: str | None = None, since: str | None = None
    ) -> VersionStatsResponse:
        """A version's events, error rate and latency percentiles (from stored per-version aggregates)."""
        params = {"project_id": project_id, "version": version, "environment": environment, "since": since}
        return await self.transport.call("GET", "/monitoring/stats", VersionStatsResponse, safety=SAFE, params=params)

    async def deployments(
        self, project_id: str, *, environment: str | None = None, since: str | None = None, limit: int | None = None
    ) -> DeploymentsResponse:
        """Deployment markers (publish, promotion, rollback), newest first, with each bake's outcome."""
        params = {"project_id": project_id, "environment": environment, "since": since, "limit": limit}
        return await self.transport.call(
            "GET", "/monitoring/deployments", DeploymentsResponse, safety=SAFE, params=params
        )

    async def overview(
        self,
        project_id: str | None = None,
        *,
        since: str | None = None,
        until: str | None = None,
        top: int | None = None,
    ) -> OverviewResponse:
        """Checks per minute and the top deny rules (control-plane wide), and with ``project_id`` that
        project's events, errors and top ``top`` error groups with their trend. The range is at most
        24 hours; the default is the last hour."""
        params = {"project_id": project_id, "since": since, "until": until, "top": top}
        return await self.transport.call("GET", "/monitoring/overview", OverviewResponse, safety=SAFE, params=params)

    async def audit(
        self,
        project_id: str,
        *,
        flow_id: str | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        since: str | None = None,
    ) -> AuditResponse:
        """The ordered timeline of a project, or of one flow, user or session: events, alerts and
        their transitions, control-plane decisions."""
        params = {"project_id": project_id, "flow_id": flow_id, "user_id": user_id, "session_id": session_id,
                  "since": since}  # fmt: skip
        return await self.transport.call("GET", "/monitoring/audit", AuditResponse, safety=SAFE, params=params)

    async def engine_audit(
        self,
        engine_id: str,
        *,
        project_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> AuditViewResponse:
        """One engine's check decisions, newest first (a page; ``next_cursor`` continues)."""
        params = {"engine_id": engine_id, "project_id": project_id, "since": since, "until": until, "limit": limit,
                  "cursor": cursor}  # fmt: skip
        return await self.transport.call("GET", "/monitoring/audit", AuditViewResponse, safety=SAFE, params=params)

    async def admin_audit(
        self,
        *,
        engine_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> AuditViewResponse:
        """The admin changes (who, what, target, before and after), newest first; ``engine_id``: by or about it."""
        params = {"kind": "admin", "engine_id": engine_id, "since": since, "until": until, "limit": limit,
                  "cursor": cursor}  # fmt: skip
        return await self.transport.call("GET", "/monitoring/audit", AuditViewResponse, safety=SAFE, params=params)

    async def engine_event(self, event_type: str, **fields: Any) -> EngineEventResponse:
        """``POST /log/engine_event``: an engine's own lifecycle event (started, degraded, ...)."""
        body = EngineEventRequest(event_type=event_type, **fields)
        return await self.transport.call("POST", "/log/engine_event", EngineEventResponse, safety=SAFE, body=body)
