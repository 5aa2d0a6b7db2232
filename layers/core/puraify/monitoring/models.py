"""Monitoring's API bodies and query parameters (field names are the public contract)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    field_validator,
    model_validator,
)

from puraify.clock import LATEST_EPOCH, now, parse_time
from puraify.contract import Model, Request, small_attributes, small_details, storable_number

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
ERROR_STATUSES = frozenset({"error", "failed", "failure"})
MAX_BATCH = 500
MAX_PAGE = 1000
FUTURE_TOLERANCE = timedelta(days=1)
DEFAULT_EVENT_TYPES = {"error": "error", "other": "action", "none": "event"}


def _finite_duration(value: float | None) -> float | None:
    if value is not None:
        storable_number(value)
    return value


Label = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class LogEvent(Request):
    """One event as engines send it to ``POST /monitoring/logs``.

    ``action_type`` is accepted for ``action`` (the name ``/actions/check`` uses); fields the
    model does not know are kept under ``attributes``.
    """

    project_id: Id
    event_type: Name | None = None
    flow_id: Id | None = None
    engine: Name | None = None
    platform: Name | None = None
    action: Name | None = None
    status: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    # The bounds on the float itself: on ``float | None`` pydantic compares None with 0 (a TypeError, not a 422).
    duration_ms: Annotated[
        Annotated[float, Field(ge=0, le=86_400_000, allow_inf_nan=False)] | None, AfterValidator(_finite_duration)
    ] = None
    retries: int | None = Field(default=None, ge=0, le=10_000)
    timestamp: datetime | None = None
    error_type: Name | None = None
    message: str | None = Field(default=None, max_length=4096)
    event_id: Id | None = None
    user_id: Label | None = None
    session_id: Label | None = None
    environment: Name | None = None
    version: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    request_id: Label | None = None
    details: Annotated[dict[str, Any] | None, AfterValidator(small_details)] = None
    attributes: Annotated[dict[str, Any] | None, AfterValidator(small_attributes)] = None

    @model_validator(mode="before")
    @classmethod
    def _accept_traffic(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        try:
            json.dumps(data, ensure_ascii=False, default=str).encode()
        except UnicodeEncodeError:
            raise ValueError("the event holds text that is not valid Unicode (a lone surrogate)") from None
        data = dict(data)
        if "action_type" in data:
            synonym = data.pop("action_type")
            if data.get("action") is not None and synonym is not None and data["action"] != synonym:
                raise ValueError("action and action_type (its synonym) disagree; send one of them")
            if data.get("action") is None:
                data["action"] = synonym
        unknown = {k: data.pop(k) for k in [k for k in data if k not in cls.model_fields]}
        if unknown:
            given = data.get("attributes")
            if given is not None and not isinstance(given, dict):
                return data  # the field's own validation reports it
            data["attributes"] = {**(given or {}), **unknown}
        if data.get("event_type") is None:
            status = data.get("status")
            if isinstance(status, str) and status.strip().lower() in ERROR_STATUSES:
                data["event_type"] = DEFAULT_EVENT_TYPES["error"]
            else:
                data["event_type"] = DEFAULT_EVENT_TYPES["other" if status is not None else "none"]
        return data

    @field_validator("timestamp")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if value > datetime.now(UTC) + FUTURE_TOLERANCE:
            raise ValueError("timestamp is more than a day in the future")
        return value

    @property
    def type(self) -> str:
        """The event type (always set: given, or derived from ``status``)."""
        return self.event_type or DEFAULT_EVENT_TYPES["none"]

    @property
    def is_error(self) -> bool:
        """An error: ``status`` error/failed/failure, or ``event_type`` error."""
        return (self.status or "").lower() in ERROR_STATUSES or self.type.lower() == "error"


class LogBatchRequest(BaseModel):
    """A batch for ``POST /monitoring/logs``: each event is checked on its own, bad ones rejected by index."""

    model_config = ConfigDict(extra="forbid")

    events: list[LogEvent] = Field(min_length=1, max_length=MAX_BATCH)


class LogIngestRequest(RootModel[LogEvent | LogBatchRequest]):
    """The body of ``POST /monitoring/logs``: one event, or ``{"events": [...]}`` (documents the contract)."""


class LogIngestResponse(BaseModel):
    accepted: int
    rejected: list[dict[str, Any]]


class AlertRequest(Request):
    """``POST /monitoring/alert``."""

    project_id: Id
    event_type: Name
    severity: Severity
    message: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    triggered_by: Name
    flow_id: Id | None = None
    details: Annotated[dict[str, Any] | None, AfterValidator(small_details)] = None


AlertStatus = Literal["open", "acknowledged", "resolved"]
ALERT_STATUSES: tuple[str, ...] = ("open", "acknowledged", "resolved")


class AlertResponse(BaseModel):
    alert_id: str
    project_id: str | None  # null: an engine-level alert (key_expiring, engine_anomaly), about engine_id
    engine_id: str | None = None  # the engine an engine-level alert is about
    event_type: str
    severity: str
    message: str
    triggered_by: str
    raised_by: str | None = None
    flow_id: str | None = None
    details: dict[str, Any] | None = None
    fingerprint: str | None = None
    regression: bool = False
    created_at: str
    status: str
    acknowledged_by: str | None = None
    acknowledged_at: str | None = None
    resolved_by: str | None = None
    resolved_at: str | None = None
    history: list[dict[str, Any]] = []
    notified: bool
    suppressed: bool = False
    delivery: dict[str, Any]
    silenced_by: str | None = None  # the silence that held the alert's notifications
    routes: list[str] | None = None  # the routes the alert took (none: the default channels)
    deliveries: list[dict[str, Any]] | None = None  # GET /monitoring/alerts/{alert_id} only


class AlertTransitionRequest(Request):
    """``POST /monitoring/alerts/{alert_id}/acknowledge|resolve``: an optional reason."""

    reason: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None


class AlertsPage(BaseModel):
    alerts: list[AlertResponse]
    next_cursor: str | None = None


def _time(value: Any) -> Any:
    return parse_time(value) if isinstance(value, str) else value


# NaN, infinities and times before 1970 or after 9999 are not times (and no store can range over them).
Epoch = Annotated[float, Field(ge=0, le=LATEST_EPOCH, allow_inf_nan=False)]
TimeParam = Annotated[Epoch | None, BeforeValidator(_time)]


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LogsQuery(Query):
    project_id: Id
    engine: Name | None = None
    platform: Name | None = None
    status: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    event_type: Name | None = None
    flow_id: Id | None = None
    user_id: Label | None = None
    session_id: Label | None = None
    environment: Name | None = None
    version: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    request_id: Label | None = None
    fingerprint: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")] | None = None
    since: TimeParam = None
    until: TimeParam = None
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> LogsQuery:
        if self.since is not None and self.until is not None and self.until < self.since:
            raise ValueError("until must not be before since")
        return self


class ErrorsQuery(Query):
    project_id: Id
    since: TimeParam = None
    engine: Name | None = None
    platform: Name | None = None


class StatsQuery(Query):
    """With ``version``: that version's health per environment, from the per-version counters."""

    project_id: Id
    since: TimeParam = None
    version: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    environment: Name | None = None

    @model_validator(mode="after")
    def _environment_needs_version(self) -> StatsQuery:
        if self.environment is not None and self.version is None:
            raise ValueError("environment applies only with version")
        return self


class DeploymentsQuery(Query):
    """``GET /monitoring/deployments``: deployment markers, newest first."""

    project_id: Id
    environment: Name | None = None
    since: TimeParam = None
    limit: int = Field(default=100, ge=1, le=500)


class AuditQuery(Query):
    project_id: Id
    flow_id: Id | None = None
    user_id: Label | None = None
    session_id: Label | None = None
    since: TimeParam = None
    limit: int = Field(default=MAX_PAGE, ge=1, le=MAX_PAGE)

    @model_validator(mode="after")
    def _one_subject(self) -> AuditQuery:
        if sum(v is not None for v in (self.flow_id, self.user_id, self.session_id)) > 1:
            raise ValueError("give at most one of flow_id, user_id, session_id")
        return self


class AuditViewQuery(Query):
    """``GET /monitoring/audit?engine_id=`` (one engine's checks) or ``?kind=admin`` (the admin changes), newest first.

    ``project_id`` narrows the checks to one project; with ``kind=admin``, ``engine_id`` narrows the
    changes to those the engine made or that target it. ``cursor`` is a page's ``next_cursor``.
    """

    engine_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$")] | None = None
    kind: Literal["check", "admin"] = "check"
    project_id: Id | None = None
    since: TimeParam = None
    until: TimeParam = None
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=512)] | None = None

    @model_validator(mode="after")
    def _subject(self) -> AuditViewQuery:
        if self.kind == "check" and self.engine_id is None:
            raise ValueError("name engine_id (one engine's checks), or kind=admin")
        if self.kind == "admin" and self.project_id is not None:
            raise ValueError("admin changes carry no project")
        if self.since is not None and self.until is not None and self.until < self.since:
            raise ValueError("until must not be before since")
        return self


class AlertsQuery(Query):
    """``status=unresolved`` lists open and acknowledged alerts together (the console's default). Without
    ``project_id``: the engine-level alerts (of no project), for callers granted every project (``*``)."""

    project_id: Id | None = None
    status: AlertStatus | Literal["unresolved"] | None = None
    severity: Severity | None = None
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = None


def default_since(since: float | None, hours: int = 24) -> float:
    """A read's lower time bound: the caller's, else the last ``hours``."""
    return since if since is not None else now() - hours * 3600


# --- POST /log/engine_event (an engine's own event, the seed's route) ---


def _storable_details(value: dict[str, Any]) -> dict[str, Any]:
    """The size and DynamoDB number rules of details (a 422, not a failed write)."""
    return small_details(value) or {}


class EngineEventRequest(Request):
    event_type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    platform: Annotated[str, StringConstraints(max_length=64)] | None = None
    action_type: Annotated[str, StringConstraints(max_length=64)] | None = None
    status: Annotated[str, StringConstraints(max_length=32)] | None = None
    message: str | None = Field(default=None, max_length=4096)
    details: Annotated[dict[str, Any], AfterValidator(_storable_details)] = Field(default_factory=dict)
    event_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")] | None = None


class EngineEventResponse(Model):
    event_id: str
