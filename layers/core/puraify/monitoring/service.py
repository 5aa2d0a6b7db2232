"""The Monitoring service: its stores, alerts and ingest configuration, and what other services ask of it.

``create`` builds it from the settings over the stores and channels it is given (the wiring gives the
DynamoDB/SNS/SSM adapters, unit tests the fakes of ``tests/fakes``). The Planning Engine reads its facts
(``error_summary``, ``open_critical_alerts``, ``version_health``) and the Planning Engine and the
Environment Manager raise alerts through it (``raise_alert``): the ports they declare.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from puraify import clock
from puraify.auth import Principal
from puraify.errors import ConflictError, NotFoundError, UnavailableError
from puraify.monitoring import metrics, otlp, overview, queries
from puraify.monitoring import models as mm
from puraify.monitoring import projects as project_list
from puraify.monitoring.alerts import AlertPolicy, Alerts, Dispatcher, view
from puraify.monitoring.audit_views import audit_view
from puraify.monitoring.deliveries import Deliveries
from puraify.monitoring.engine_events import record_engine_event
from puraify.monitoring.entitlement import WRITE_SCOPE, Entitled, entitlement, nobody
from puraify.monitoring.fingerprint import parse_rules
from puraify.monitoring.ingest import IngestConfig, IngestResult, ParsedBatch, ingest, repair_counts
from puraify.monitoring.outbound import AddressGuard, HttpSender
from puraify.monitoring.ports import (
    ENGINE_ALERTS,
    AuditReader,
    ChannelSecrets,
    CheckCounts,
    DeploymentStates,
    EventStore,
    MonitoringStore,
    Parameters,
    PolicyBundle,
    ProjectMarks,
    RouteStore,
    Sender,
    Topic,
    VersionCounterStore,
)
from puraify.monitoring.queries import summarize
from puraify.monitoring.routing import Routing
from puraify.monitoring.versions import health, reported
from puraify.observability import logger
from puraify.settings import Settings

READ_SCOPE = "logs:read"
MANAGE_SCOPE = "alerts:manage"
ALERT_SCOPE = "alerts:write"
ENGINE_ALERTS_HINT = " (the engine-level alerts, listed without project_id, need '*'; name a project_id)"

# The Environment Manager's deployment markers of a project (environment, since, limit), for the reads.
Markers = Callable[[str, str | None, str, int], list[dict[str, Any]]]


@dataclass
class Monitoring:
    """The monitoring service of one runtime: its store, alerts and ingest configuration."""

    store: MonitoringStore
    alerts: Alerts
    config: IngestConfig
    versions: VersionCounterStore  # per-version counters: the watch's and the gate's facts
    check_counts: CheckCounts  # Engine Control's per-minute check counts (the overview)
    engine_events: EventStore  # POST /log/engine_event
    routing: Routing  # alert routes and silences (/monitoring/routes, /monitoring/silences)
    deliveries: Deliveries  # routed notifications, delivered by the schedule
    deployment_states: DeploymentStates | None = None  # the Environment Manager's, for GET /metrics
    policy_bundle: PolicyBundle | None = None  # the Planning Engine's, for GET /metrics
    check_count_flush_seconds: float = 5.0  # how long check counts may wait in an instance (the overview's bound)
    project_marks: ProjectMarks | None = None  # projects with events: marked at ingest (GET /monitoring/projects)
    environment_marks: ProjectMarks | None = None  # the Environment Manager's: projects with environments

    @property
    def window_seconds(self) -> int:
        """The aggregation window (the error threshold's window)."""
        return self.config.window_seconds

    def error_summary(self, project_id: str, since_epoch: float, environment: str | None = None) -> dict[str, Any]:
        """``{"events", "errors", "error_rate"}`` of a project since ``since_epoch``. For the Planning Engine.

        With ``environment`` (the pre-deploy gate): only the events of engines entitled to report for
        it, by the minute (``monitoring.entitlement``). Without: every event, rounded down to the
        aggregation window (5 minutes by default).
        """
        if environment is not None:
            return reported(self.versions, project_id, environment, since_epoch)
        return summarize(self.store, self.window_seconds, project_id, since_epoch)

    def open_critical_alerts(self, project_id: str) -> int:
        """How many critical alerts the project raised within the open period (24 h by default)."""
        return self.alerts.open_critical(project_id)

    def version_health(
        self, project_id: str, version: str, environment: str, since: float, until: float | None = None
    ) -> dict[str, Any]:
        """A version's health in an environment: for the Planning Engine's post_deploy facts."""
        return health(self.versions, project_id, version, environment, since, until)

    def raise_alert(
        self,
        *,
        project_id: str,
        event_type: str,
        severity: str,
        message: str,
        triggered_by: str,
        raised_by: str = "monitoring",
    ) -> dict[str, Any]:
        """Raise an alert from another service in-process (e.g. the Planning Engine's fail-safe decisions).

        Returns the stored alert with ``alert_id`` and ``notified``; store failures raise UnavailableError.
        """
        found = self.alerts.raise_alert(
            project_id=project_id,
            event_type=event_type,
            severity=severity,
            message=message,
            triggered_by=triggered_by,
            raised_by=raised_by,
        )
        assert found is not None
        return found

    def raise_engine_alert(
        self, *, engine_id: str, event_type: str, severity: str, message: str, details: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Raise an engine-level alert (``engine_anomaly``, ``key_expiring``): it belongs to no project, and
        at most one is unresolved per engine and type: the fingerprint ``<event_type>:<engine_id>`` is
        claimed first, and None is returned while an earlier one is still unresolved. Resolving it lets the
        next one be raised. Routed by the ``*`` routes (no project's routes can name it)."""
        fp = f"{event_type}:{engine_id}"
        store = self.store
        return self.alerts.raise_alert(
            project_id=ENGINE_ALERTS,
            event_type=event_type,
            severity=severity,
            message=message,
            triggered_by="planning",
            raised_by="planning",
            details={"engine_id": engine_id, **details},
            fingerprint=fp,
            gate_key=f"AL#{fp}",  # flood control per engine: the messages of two engines' alerts look alike
            claim=lambda alert: store.claim_fingerprint(ENGINE_ALERTS, fp, alert),
        )

    def resolve_engine_alert(self, engine_id: str, event_type: str, *, by: str, reason: str) -> dict[str, Any] | None:
        """Resolve the engine's unresolved ``event_type`` alert, if it has one (a key rotation clears its
        ``key_expiring``): one read of its fingerprint, never a scan. Returns the resolved alert, or None."""
        fp = f"{event_type}:{engine_id}"
        state = self.store.fingerprint_states([(ENGINE_ALERTS, fp)]).get((ENGINE_ALERTS, fp)) or {}
        if not state.get("alert_id"):
            return None
        try:
            return self.alerts.transition(state["alert_id"], "resolved", by=by, reason=reason)
        except (ConflictError, NotFoundError):  # resolved meanwhile, or expired
            return None

    def ingest(self, reporter: str, batch: ParsedBatch, entitled: Entitled = nobody) -> IngestResult:
        """Store a parsed batch reported by engine ``reporter`` (``entitled``: see ``monitoring.entitlement``),
        and mark its projects as having events (the project picker's registry)."""
        result = ingest(self.store, self.alerts, self.config, reporter, batch, self.versions, entitled)
        if self.project_marks is not None and result.accepted:
            try:
                self.project_marks.mark(event.project_id for event in batch.events)
            except UnavailableError:  # the events are stored; the project's next batch marks it
                logger.exception("marking the batch's projects failed")
        return result

    # --- what an engine may ask (every access check of the Monitoring routes) -----------------

    def _reader(self, caller: Principal, project_id: str | None) -> None:
        """``logs:read``, and the grant of the project the read names (the overview may name none)."""
        caller.require(READ_SCOPE)
        if project_id is not None:
            caller.require_project(project_id)

    def ingest_for(self, caller: Principal, batch: ParsedBatch) -> IngestResult:
        """``POST /monitoring/logs``: ``logs:write`` and every event's project (all or nothing)."""
        caller.require(WRITE_SCOPE)
        caller.require_projects([event.project_id for event in batch.events])
        return self.ingest(caller.engine_id, batch, entitlement(caller))

    def engine_event_for(self, caller: Principal, body: mm.EngineEventRequest) -> mm.EngineEventResponse:
        """``POST /log/engine_event``: ``logs:write``."""
        caller.require(WRITE_SCOPE)
        return record_engine_event(self.engine_events, caller, body, self.config.event_retention_days)

    def raise_alert_for(self, caller: Principal, body: mm.AlertRequest) -> dict[str, Any]:
        """``POST /monitoring/alert``: ``alerts:write`` and the project's grant."""
        caller.require(ALERT_SCOPE)
        caller.require_project(body.project_id)
        alert = self.alerts.raise_alert(**body.model_dump(), raised_by=caller.engine_id)
        assert alert is not None
        return alert

    def transition_for(self, caller: Principal, alert_id: str, to: str, reason: str | None) -> dict[str, Any]:
        """Acknowledge or resolve: ``alerts:manage`` and the grant of the alert's project (``*`` for an
        engine-level alert)."""
        caller.require(MANAGE_SCOPE)
        return self.alerts.transition(
            alert_id, to, by=caller.engine_id, reason=reason, authorize=lambda p: _may_see(caller, p)
        )

    def alert_detail(self, caller: Principal, alert_id: str) -> dict[str, Any]:
        """``GET /monitoring/alerts/{alert_id}``: one alert with its deliveries (``logs:read`` and a grant
        of its project, ``*`` for an engine-level alert; 404 if unknown)."""
        caller.require(READ_SCOPE)
        alert = self.store.find_alert(alert_id)
        if alert is None:
            raise NotFoundError(f"no alert {alert_id!r}", code="alert_not_found")
        _may_see(caller, alert["project_id"])
        return {**view(alert), "deliveries": self.deliveries.of_alert(alert_id)}

    def alerts_for(self, caller: Principal, q: mm.AlertsQuery) -> dict[str, Any]:
        """``GET /monitoring/alerts``: a project's alerts; without ``project_id`` the engine-level alerts
        (``key_expiring``, ``engine_anomaly``), only for a caller granted every project (``*``), else 403."""
        caller.require(READ_SCOPE)
        if q.project_id is None:
            caller.require_all_projects(ENGINE_ALERTS_HINT)
        else:
            caller.require_project(q.project_id)
        project = ENGINE_ALERTS if q.project_id is None else q.project_id
        return self.alerts.list_alerts(project, q.status, q.severity, q.limit, q.cursor)

    def logs_for(self, caller: Principal, q: mm.LogsQuery) -> dict[str, Any]:
        self._reader(caller, q.project_id)
        return queries.logs(self.store, q)

    def errors_for(self, caller: Principal, q: mm.ErrorsQuery) -> dict[str, Any]:
        self._reader(caller, q.project_id)
        return queries.errors(self.store, self.window_seconds, q)

    def stats_for(self, caller: Principal, q: mm.StatsQuery) -> dict[str, Any]:
        self._reader(caller, q.project_id)
        return queries.stats(self.store, q, self.versions)

    def audit_for(self, caller: Principal, q: mm.AuditQuery, audit: AuditReader, markers: Markers) -> dict[str, Any]:
        """The timeline: events, alerts, decisions (``audit``) and deployments (``markers``)."""
        self._reader(caller, q.project_id)
        since = clock.iso(q.since) if q.since is not None else ""
        return queries.audit(self.store, audit, q, markers(q.project_id, None, since, 500))

    def audit_view_for(self, caller: Principal, q: mm.AuditViewQuery, audit: AuditReader) -> dict[str, Any]:
        """One engine's checks, or the admin changes (``audit_views``: who may see which)."""
        return audit_view(caller, audit, q)

    def deployments_for(self, caller: Principal, q: mm.DeploymentsQuery, markers: Markers) -> dict[str, Any]:
        self._reader(caller, q.project_id)
        since = clock.iso(q.since) if q.since is not None else ""
        found = markers(q.project_id, q.environment, since, q.limit)
        return {"project_id": q.project_id, "environment": q.environment, "deployments": found}

    def overview_for(self, caller: Principal, q: overview.OverviewQuery) -> dict[str, Any]:
        """The console's charts; a project's series need its grant, the every-project checks need ``*``."""
        self._reader(caller, q.project_id)
        return overview.overview(
            self.store,
            self.window_seconds,
            self.check_counts,
            q,
            every_project=caller.has_all_projects,
            flush_seconds=self.check_count_flush_seconds,
        )

    def projects_for(self, caller: Principal, q: project_list.ProjectsQuery) -> dict[str, Any]:
        """``GET /monitoring/projects``: ``logs:read``; every marked project for ``*``, else the granted ones."""
        caller.require(READ_SCOPE)
        if self.project_marks is None or self.environment_marks is None:
            raise UnavailableError("the project registry is not configured")
        return project_list.projects(caller, q, self.project_marks, self.environment_marks)

    def export_logs_for(
        self, caller: Principal, body: bytes, content_type: str | None, content_encoding: str | None, max_bytes: int
    ) -> otlp.Export:
        """``POST /v1/logs``: as ``POST /monitoring/logs``, ``logs:write`` and every record's project (all or
        nothing, before anything is written); the scope is checked before the body is read."""
        caller.require(WRITE_SCOPE)
        kind, mapped = otlp.decode(body, content_type, content_encoding, max_bytes)
        caller.require_projects([event.project_id for event in mapped.events])
        return otlp.store(self.ingest, caller.engine_id, entitlement(caller), kind, mapped)

    def metrics_for(self, caller: Principal, q: metrics.MetricsQuery) -> str:
        """``GET /metrics``: ``metrics:read``; the series of the caller's granted (or named and granted) projects."""
        caller.require(metrics.SCOPE)
        projects = metrics.projects_for(caller, q)
        sources = metrics.Sources(
            self.store, self.window_seconds, self.check_counts, self.deployment_states, self.policy_bundle
        )
        return metrics.exposition(sources, projects, every_project=caller.has_all_projects)

    def scheduled(self) -> dict[str, int]:
        """The schedule's pass: retry owed notifications, deliver routed ones, count left-behind ledgers,
        resolve quiet alerts, and a page of the project marks' one-time backfill."""
        summary: dict[str, int] = {}
        steps = {
            "retry": lambda: summary.update(self.alerts.retry_due()),
            "deliver": lambda: summary.update(self.deliveries.deliver_due()),
            "repair": lambda: summary.update(ledgers_repaired=repair_counts(self.store, self.alerts, self.config)),
            "auto_resolve": lambda: summary.update(auto_resolved=self.alerts.auto_resolve()),
            "backfill_marks": lambda: summary.update(projects_backfilled=self._backfill_marks()),
        }
        for name, step in steps.items():
            try:
                step()
            except UnavailableError:
                logger.exception("scheduled monitoring step failed", extra={"step": name})  # the next run retries
        return summary

    def _backfill_marks(self) -> int:
        """A page of each registry's one-time backfill (the projects written before marks existed)."""
        marks = [m for m in (self.project_marks, self.environment_marks) if m is not None]
        return sum(m.backfill() for m in marks)


def create(
    settings: Settings,
    store: MonitoringStore,
    parameters: Parameters,
    topic: Topic,
    *,
    versions: VersionCounterStore,
    check_counts: CheckCounts,
    engine_events: EventStore,
    route_store: RouteStore,
    channel_secrets: ChannelSecrets,
    sender: Sender | None = None,
    deployment_states: DeploymentStates | None = None,
    policy_bundle: PolicyBundle | None = None,
    project_marks: ProjectMarks | None = None,
    environment_marks: ProjectMarks | None = None,
) -> Monitoring:
    """A Monitoring service over the given store and channels (DynamoDB/SNS/SSM, or fakes).

    ``sender`` (outbound notification HTTP) defaults to httpx behind the address guard of
    ``settings.allow_private_webhooks``.
    """
    dispatcher = Dispatcher(
        topic_arn=settings.alerts_topic_arn,
        slack_parameter=settings.slack_webhook_parameter,
        parameters=parameters,
        topic=topic,
        timeout=settings.dispatch_timeout_seconds,
        parameter_ttl=min(settings.cache_ttl_seconds, 60.0),
    )
    policy = AlertPolicy(
        notify_min_severity=settings.alert_notify_min_severity,
        flood_window_seconds=settings.alert_flood_window_seconds,
        retention_days=settings.alert_retention_days,
        open_hours=settings.alert_open_hours,
        max_attempts=settings.dispatch_max_attempts,
        grace_seconds=max(30.0, settings.dispatch_timeout_seconds * 4),
        auto_resolve_minutes=settings.alert_auto_resolve_minutes,
        window_seconds=settings.alert_threshold_window_seconds,
    )
    config = IngestConfig(
        event_retention_days=settings.event_retention_days,
        aggregate_retention_days=settings.aggregate_retention_days,
        window_seconds=settings.alert_threshold_window_seconds,
        threshold_count=settings.alert_threshold_count,
        notify_min_severity=settings.alert_notify_min_severity,
        rules=parse_rules(settings.alert_severity_rules),
        alerts_per_minute_project=settings.alerts_per_minute_per_project,
        alerts_per_minute_engine=settings.alerts_per_minute_per_engine,
    )
    guard = AddressGuard(settings.allow_private_webhooks)
    routing = Routing(route_store, channel_secrets, guard, settings.alert_retention_days)
    deliveries = Deliveries(
        route_store,
        store.find_alert,
        routing,
        sender or HttpSender(guard, settings.dispatch_timeout_seconds),
        topic,
        default_topic_arn=settings.alerts_topic_arn,
        max_attempts=settings.dispatch_max_attempts,
        grace_seconds=policy.grace_seconds,
    )
    alerts = Alerts(store, dispatcher, policy, deliveries)
    deliveries.alarm = alerts.raise_alert
    return Monitoring(
        store,
        alerts,
        config,
        versions,
        check_counts,
        engine_events,
        routing,
        deliveries,
        deployment_states,
        policy_bundle,
        check_count_flush_seconds=settings.check_count_flush_seconds,
        project_marks=project_marks,
        environment_marks=environment_marks,
    )


def _may_see(caller: Principal, project_id: str) -> None:
    """403 unless the caller holds the alert's project (``*`` for an engine-level alert)."""
    if project_id == ENGINE_ALERTS:
        caller.require_all_projects(ENGINE_ALERTS_HINT)
    else:
        caller.require_project(project_id)
