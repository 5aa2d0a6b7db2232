"""``cp.monitoring`` routes, silences and an alert's deliveries (mixed into the Monitoring service).

Routes decide where a project's alerts go (webhook, PagerDuty, Slack, email); silences hold them
back for a while; an alert's ``deliveries`` say what was sent where, and how it went.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pydantic import Field

from puraify_client.models import Request, Response
from puraify_client.services.base import Service, segment
from puraify_client.transport import IDEMPOTENT, SAFE, UNSAFE


class RoutesRequest(Request):
    routes: list[dict[str, Any]] = Field(max_length=50)


class RoutesResponse(Response):
    """A project's routes; every secret shown masked (``****`` and its last four characters)."""

    project_id: str
    routes: list[dict[str, Any]] = []
    updated_at: str | None = None
    updated_by: str | None = None


class SilenceRequest(Request):
    project_id: str
    match: dict[str, Any] = Field(default_factory=dict)
    starts_at: str | None = None
    ends_at: str
    reason: str


class Silence(Response):
    silence_id: str
    project_id: str
    match: dict[str, Any] = {}
    starts_at: str
    ends_at: str
    reason: str
    created_by: str | None = None
    created_at: str | None = None
    active: bool = False


class SilencesPage(Response):
    project_id: str
    silences: list[Silence] = []


class Delivery(Response):
    delivery_id: str
    event: str
    route: str | None = None
    channel: str | None = None
    target: str | None = None
    status: str
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: str | None = None
    next_attempt_at: float | None = None
    silenced_by: str | None = None


def _time(value: str | datetime | None) -> str | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a datetime with its timezone (e.g. datetime.now(UTC))")
        return value.isoformat()
    return value


def _project(project_id: str) -> str:
    return quote(str(project_id), safe="*")  # ``*`` (every project) stays as it is


class AlertRouting(Service):
    """Routes, silences and deliveries: needs ``alerts:manage`` and the project's grant (``*``: admin)."""

    async def routes(self, project_id: str) -> RoutesResponse:
        """The project's routes (``*``: those that follow every project's own), secrets masked."""
        return await self.transport.call(
            "GET", f"/monitoring/routes/{_project(project_id)}", RoutesResponse, safety=SAFE
        )

    async def set_routes(self, project_id: str, routes: Sequence[Mapping[str, Any]]) -> RoutesResponse:
        """Replace the project's routes (at most 50). A masked secret sent back as ``routes()`` showed it
        keeps the stored one; a refused URL or bad field is a ValidationError naming it."""
        body = RoutesRequest(routes=[dict(r) for r in routes])
        return await self.transport.call(
            "PUT", f"/monitoring/routes/{_project(project_id)}", RoutesResponse, safety=SAFE, body=body
        )

    async def silence(
        self,
        project_id: str,
        ends_at: str | datetime,
        reason: str,
        *,
        match: Mapping[str, Any] | None = None,
        starts_at: str | datetime | None = None,
    ) -> Silence:
        """Hold back the project's matching alerts until ``ends_at`` (they are still stored and counted)."""
        body = SilenceRequest(project_id=project_id, match=dict(match or {}), starts_at=_time(starts_at),
                              ends_at=_time(ends_at) or "", reason=reason)  # fmt: skip
        return await self.transport.call("POST", "/monitoring/silences", Silence, safety=IDEMPOTENT, body=body)

    async def silences(self, project_id: str) -> SilencesPage:
        """The project's silences, current and ended (until they expire)."""
        params = {"project_id": project_id}
        return await self.transport.call("GET", "/monitoring/silences", SilencesPage, safety=SAFE, params=params)

    async def unsilence(self, silence_id: str) -> None:
        """End a silence now (NotFoundError if there is none with this id)."""
        await self.transport.raw("DELETE", f"/monitoring/silences/{segment(silence_id)}", safety=UNSAFE)

    async def deliveries(self, alert_id: str) -> list[Delivery]:
        """Where an alert's notifications went: each channel, its status, attempts and last error."""
        data = await self.transport.raw("GET", f"/monitoring/alerts/{segment(alert_id)}", safety=SAFE)
        return [Delivery.model_validate(d) for d in (data or {}).get("deliveries") or []]
