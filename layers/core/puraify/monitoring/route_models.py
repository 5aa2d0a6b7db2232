"""The API contract of alert routes, silences and deliveries (``/monitoring/routes``, ``/monitoring/silences``)."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from puraify.contract import Request
from puraify.monitoring.models import Name, Query, Severity

MAX_ROUTES = 50
MAX_CHANNELS = 10
MAX_SILENCES = 200
ALL_PROJECTS = "*"
MASK = "****"

# A project's id, or ``*`` (every project: admin only).
RouteProject = Annotated[str, StringConstraints(pattern=r"^(\*|[A-Za-z0-9_.:-]{1,128})$")]
Url = Annotated[str, StringConstraints(min_length=8, max_length=2048, pattern=r"^https?://\S+$")]
Secretish = Annotated[str, StringConstraints(min_length=4, max_length=2048)]
Values = Annotated[list[Name], Field(min_length=1, max_length=20)]


def _values(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class RouteMatch(Request):
    """What an alert must carry for the route to take it; every named field must match (a list: any of it)."""

    severity: Annotated[list[Severity], Field(min_length=1, max_length=4)] | None = None
    platform: Values | None = None
    engine: Values | None = None
    environment: Values | None = None
    error_type: Values | None = None
    kind: Values | None = None  # the alert's event_type

    @model_validator(mode="before")
    @classmethod
    def _lists(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: _values(v) for k, v in data.items()}
        return data


class WebhookChannel(Request):
    """Standard Webhooks: signed with ``secret`` (``whsec_<base64>``)."""

    type: Literal["webhook"]
    url: Url
    secret: Secretish

    @field_validator("secret")
    @classmethod
    def _whsec(cls, value: str) -> str:
        if value.startswith(MASK):
            return value  # the masked value a GET showed: keep the stored secret
        if not value.startswith("whsec_"):
            raise ValueError("a webhook secret is whsec_ followed by base64 (24 to 64 random bytes)")
        try:
            raw = base64.b64decode(value.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValueError("the part after whsec_ is not base64") from error
        if not 24 <= len(raw) <= 64:
            raise ValueError("a webhook secret holds 24 to 64 bytes")
        return value


class PagerDutyChannel(Request):
    """PagerDuty Events v2 (``events_url`` overrides the endpoint, for tests and EU accounts)."""

    type: Literal["pagerduty"]
    routing_key: Annotated[str, StringConstraints(min_length=4, max_length=128, pattern=r"^[\x21-\x7e]+$")]
    events_url: Url | None = None


class SlackChannel(Request):
    type: Literal["slack"]
    webhook_url: Annotated[str, StringConstraints(min_length=4, max_length=2048)]

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(MASK) and not re.fullmatch(r"https?://\S+", value):
            raise ValueError("a Slack incoming-webhook URL")
        return value


class EmailChannel(Request):
    """Email through an SNS topic (the stack's alerts topic when none is named)."""

    type: Literal["email"]
    topic_arn: (
        Annotated[str, StringConstraints(pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")] | None
    ) = None


Channel = Annotated[WebhookChannel | PagerDutyChannel | SlackChannel | EmailChannel, Field(discriminator="type")]


class Route(Request):
    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 _.:-]{1,64}$")]
    match: RouteMatch = Field(default_factory=RouteMatch)
    channels: Annotated[list[Channel], Field(min_length=1, max_length=MAX_CHANNELS)]
    continue_: bool = Field(default=False, alias="continue")
    repeat_minutes: int | None = Field(default=None, ge=1, le=10080)


class RoutesRequest(Request):
    """``PUT /monitoring/routes/{project_id}``: the whole ordered list (replaces the previous one)."""

    routes: Annotated[list[Route], Field(max_length=MAX_ROUTES)]

    @field_validator("routes")
    @classmethod
    def _unique(cls, routes: list[Route]) -> list[Route]:
        names = [r.name for r in routes]
        if len(set(names)) != len(names):
            raise ValueError("route names must be unique")
        return routes


class RoutesResponse(BaseModel):
    project_id: str
    routes: list[dict[str, Any]]
    updated_at: str | None = None
    updated_by: str | None = None


class SilenceRequest(Request):
    """``POST /monitoring/silences``."""

    project_id: RouteProject
    match: RouteMatch = Field(default_factory=RouteMatch)
    starts_at: datetime | None = None
    ends_at: datetime
    reason: Annotated[str, StringConstraints(min_length=1, max_length=1024)]

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("a time with its offset (Z or +hh:mm)")
        if value is not None and not 2000 <= value.year <= 9998:
            raise ValueError("a time between the years 2000 and 9998")
        return value

    @model_validator(mode="after")
    def _order(self) -> SilenceRequest:
        if self.starts_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class SilenceResponse(BaseModel):
    silence_id: str
    project_id: str
    match: dict[str, Any]
    starts_at: str
    ends_at: str
    reason: str
    created_by: str
    created_at: str
    active: bool


class SilencesQuery(Query):
    project_id: RouteProject


class SilencesPage(BaseModel):
    project_id: str
    silences: list[SilenceResponse]


class RouteTestRequest(Request):
    """``POST /monitoring/routes/{project_id}/test``: which routes an alert like this would take."""

    severity: Severity
    kind: Name = "alert"
    platform: Name | None = None
    engine: Name | None = None
    environment: Name | None = None
    error_type: Name | None = None
