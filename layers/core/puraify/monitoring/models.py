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
    StringConstraints,
    field_validator,
    model_validator,
)

from puraify.clock import now, parse_iso
from puraify.engine_control.models import Request

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
ERROR_STATUSES = frozenset({"error", "failed", "failure"})
MAX_BATCH = 500
MAX_PAGE = 1000
MAX_DETAILS_BYTES = 8 * 1024
FUTURE_TOLERANCE = timedelta(days=1)


MAX_DETAILS_DEPTH = 8


def _storable(value: Any, depth: int = 0) -> None:
    """Reject what DynamoDB would refuse (so one bad event cannot fail a whole batch)."""
    if depth > MAX_DETAILS_DEPTH:
        raise ValueError(f"details may nest at most {MAX_DETAILS_DEPTH} levels")
    if isinstance(value, dict):
        for item in value.values():
            _storable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _storable(item, depth + 1)
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        return
    elif isinstance(value, int) and abs(value) >= 10**38:
        raise ValueError("details numbers must have at most 38 digits")
    elif isinstance(value, float) and not (value == 0 or 1e-125 < abs(value) < 1e125):
        raise ValueError("details numbers must be finite and within 1e-125..1e125")


def _small_details(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if len(json.dumps(value, default=str)) > MAX_DETAILS_BYTES:
        raise ValueError(f"details must serialize to at most {MAX_DETAILS_BYTES} bytes")
    _storable(value)
    return value


class LogEvent(Request):
    """One event as engines send it to ``POST /monitoring/logs``."""

    project_id: Id
    event_type: Name
    flow_id: Id | None = None
    engine: Name | None = None
    platform: Name | None = None
    action: Name | None = None
    status: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    duration_ms: float | None = Field(default=None, ge=0, le=86_400_000, allow_inf_nan=False)
    retries: int | None = Field(default=None, ge=0, le=10_000)
    timestamp: datetime | None = None
    error_type: Name | None = None
    message: str | None = Field(default=None, max_length=4096)
    event_id: Id | None = None
    details: Annotated[dict[str, Any] | None, AfterValidator(_small_details)] = None

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
    def is_error(self) -> bool:
        """An error: ``status`` error/failed/failure, or ``event_type`` error."""
        return (self.status or "").lower() in ERROR_STATUSES or self.event_type.lower() == "error"


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
    details: Annotated[dict[str, Any] | None, AfterValidator(_small_details)] = None


class AlertResponse(BaseModel):
    alert_id: str
    project_id: str
    event_type: str
    severity: str
    message: str
    triggered_by: str
    flow_id: str | None = None
    details: dict[str, Any] | None = None
    created_at: str
    status: str
    notified: bool
    suppressed: bool = False
    delivery: dict[str, Any]


def _epoch(value: str) -> float:
    """ISO-8601 or epoch seconds."""
    try:
        return float(value)
    except ValueError:
        return parse_iso(value)


def _time(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return _epoch(value)
    except (ValueError, OverflowError) as error:
        raise ValueError("expected an ISO-8601 timestamp or epoch seconds") from error


TimeParam = Annotated[float | None, BeforeValidator(_time)]


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LogsQuery(Query):
    project_id: Id
    engine: Name | None = None
    platform: Name | None = None
    status: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    event_type: Name | None = None
    flow_id: Id | None = None
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
    project_id: Id
    since: TimeParam = None


class AuditQuery(Query):
    project_id: Id
    flow_id: Id | None = None
    since: TimeParam = None
    limit: int = Field(default=MAX_PAGE, ge=1, le=MAX_PAGE)


def default_since(since: float | None, hours: int = 24) -> float:
    """A read's lower time bound: the caller's, else the last ``hours``."""
    return since if since is not None else now() - hours * 3600
