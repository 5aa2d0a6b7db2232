"""The bodies the Monitoring read routes answer (logs, errors, stats, deployments, projects, overview, audit)."""

from __future__ import annotations

from typing import Any

from puraify_client.models import Response


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


class ProjectEntry(Response):
    project_id: str
    events: bool
    environments: bool


class ProjectsResponse(Response):
    projects: list[ProjectEntry]
    next_cursor: str | None = None


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
