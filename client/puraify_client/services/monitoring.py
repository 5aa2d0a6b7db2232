"""``cp.monitoring``: what engines report (logs, alerts) and what operators read back.

Every event the SDK sends carries an ``event_id`` (a fresh one unless the caller gave one), so
the control plane stores a retried event once and ingest is safe to retry.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from pydantic import Field

from puraify_client.models import Request, Response
from puraify_client.services.base import Service, paginate, register
from puraify_client.transport import SAFE, UNSAFE


class LogEvent(Request):
    """One event as engines send it; ``event_id`` makes a retried send idempotent."""

    event_type: str
    project_id: str | None = None
    flow_id: str | None = None
    engine: str | None = None
    platform: str | None = None
    action: str | None = None
    status: str | None = None
    duration_ms: float | None = None
    retries: int | None = None
    timestamp: str | None = None
    error_type: str | None = None
    message: str | None = None
    event_id: str = Field(default_factory=lambda: uuid.uuid4().hex)


class LogBatchRequest(Request):
    events: list[LogEvent] = Field(max_length=500)


class Rejected(Response):
    index: int
    error: Any = None


class LogIngestResponse(Response):
    accepted: int
    rejected: list[Rejected] = []


class AlertRequest(Request):
    project_id: str | None = None
    event_type: str
    severity: str
    message: str
    triggered_by: str | None = None


class AlertResponse(Response):
    alert_id: str
    notified: bool = False
    project_id: str | None = None
    event_type: str | None = None
    severity: str | None = None
    message: str | None = None


class LogRecord(Response):
    event_type: str | None = None
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
    fingerprint: str | None = None
    count: int = 0
    first_seen: str | None = None
    last_seen: str | None = None
    error_type: str | None = None
    platform: str | None = None
    engine: str | None = None


class ErrorsResponse(Response):
    errors: list[ErrorGroup] = []


class StatsResponse(Response):
    stats: list[dict[str, Any]] = []


class AuditResponse(Response):
    timeline: list[dict[str, Any]] = []


class EngineEventRequest(Request):
    event_type: str
    platform: str | None = None
    action_type: str | None = None
    status: str | None = None
    message: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    event_id: str = Field(default_factory=lambda: uuid.uuid4().hex)


class EngineEventResponse(Response):
    event_id: str


BATCH_LIMIT = 500


@register
class Monitoring(Service):
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
        message: str,
        *,
        severity: str = "high",
        event_type: str = "error",
        project_id: str | None = None,
        triggered_by: str | None = None,
    ) -> AlertResponse:
        """Raise an alert; not retried once sent (it carries no id to deduplicate on)."""
        body = AlertRequest(
            project_id=project_id, event_type=event_type, severity=severity, message=message, triggered_by=triggered_by
        )
        return await self.transport.call("POST", "/monitoring/alert", AlertResponse, safety=UNSAFE, body=body)

    async def logs(self, *, limit: int | None = None, cursor: str | None = None, **filters: str | None) -> LogsPage:
        """One page of logs, newest first. Filters: project_id, engine, platform, status, event_type,
        flow_id, since, until."""
        params = {**filters, "limit": limit, "cursor": cursor}
        return await self.transport.call("GET", "/monitoring/logs", LogsPage, safety=SAFE, params=params)

    def iter_logs(self, *, page_size: int | None = None, **filters: str | None) -> AsyncIterator[LogRecord]:
        """Every matching log, newest first, page after page."""
        return paginate(lambda cursor: self.logs(limit=page_size, cursor=cursor, **filters), "logs")

    async def errors(self, **filters: str | None) -> ErrorsResponse:
        """Errors grouped by fingerprint, most frequent first. Filters: project_id, since, engine, platform."""
        return await self.transport.call("GET", "/monitoring/errors", ErrorsResponse, safety=SAFE, params=filters)

    async def stats(self, **filters: str | None) -> StatsResponse:
        """Per platform and action: count, error rate, retries, durations. Filters: project_id, since."""
        return await self.transport.call("GET", "/monitoring/stats", StatsResponse, safety=SAFE, params=filters)

    async def audit(self, **filters: str | None) -> AuditResponse:
        """The ordered timeline of a project or flow. Filters: project_id, flow_id."""
        return await self.transport.call("GET", "/monitoring/audit", AuditResponse, safety=SAFE, params=filters)

    async def engine_event(self, event_type: str, **fields: Any) -> EngineEventResponse:
        """``POST /log/engine_event``: an engine's own lifecycle event (started, degraded, ...)."""
        body = EngineEventRequest(event_type=event_type, **fields)
        return await self.transport.call("POST", "/log/engine_event", EngineEventResponse, safety=SAFE, body=body)
