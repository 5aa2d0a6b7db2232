"""``cp.platforms``: the platform catalog and each platform's status."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from puraify_client.errors import NotFoundError
from puraify_client.models import Request, Response
from puraify_client.services.base import Service, register, segment
from puraify_client.transport import IDEMPOTENT, SAFE
from puraify_client.types import ActionName, PlatformApiVersion

Scopes = list[str]  # named outside the class, where ``list`` is the method below
PlatformStatus = Literal["available", "maintenance", "disabled"]


class ActionSpec(Response):
    required_scopes: list[str] = []


class ActionSpecBody(Request):
    """An action of a platform: the scopes a check of it needs."""

    required_scopes: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] = Field(
        default_factory=list, max_length=32
    )


PlatformActions = Annotated[dict[ActionName, ActionSpecBody], Field(max_length=200)]


class PlatformPutRequest(Request):
    status: PlatformStatus = "available"
    api_version: PlatformApiVersion = "v1"
    actions: PlatformActions = Field(default_factory=dict)


class MaintenanceWindowRequest(Request):
    starts_at: str
    ends_at: str
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class MaintenanceWindow(Response):
    """A scheduled maintenance window: checks of the platform are denied from ``starts_at`` until ``ends_at``."""

    window_id: str
    platform: str
    starts_at: str
    ends_at: str
    reason: str
    created_by: str = ""
    created_at: str = ""
    active: bool = False


class MaintenanceWindowList(Response):
    platform: str
    windows: list[MaintenanceWindow]
    max_windows: int


class MaintenanceSummary(Response):
    current: MaintenanceWindow | None = None
    next: MaintenanceWindow | None = None
    scheduled: int = 0


class PlatformPatchRequest(Request):
    status: PlatformStatus | None = None
    api_version: PlatformApiVersion | None = None
    actions: PlatformActions | None = None


class PlatformView(Response):
    name: str
    status: str
    api_version: str
    actions: dict[str, ActionSpec] = {}
    updated_at: str = ""
    maintenance: MaintenanceSummary = MaintenanceSummary()


class PlatformListResponse(Response):
    platforms: list[PlatformView]


@register
class Platforms(Service):
    name = "platforms"

    async def list(self) -> list[PlatformView]:
        """Every platform with its status, API version and actions."""
        page = await self.transport.call("GET", "/platforms/list", PlatformListResponse, safety=SAFE)
        return page.platforms

    async def get(self, name: str) -> PlatformView:
        """One platform; ``NotFoundError`` when the catalog has no such platform."""
        for platform in await self.list():
            if platform.name == name:
                return platform
        raise NotFoundError(404, f"platform '{name}' not found", error_code="platform_not_found")

    async def put(
        self,
        name: str,
        *,
        status: PlatformStatus = "available",
        api_version: str = "v1",
        actions: dict[str, Scopes] | None = None,
    ) -> PlatformView:
        """Create or replace a platform (admin); ``actions`` maps each action to its required scopes."""
        body = PlatformPutRequest(
            status=status,
            api_version=api_version,
            actions={action: {"required_scopes": scopes} for action, scopes in (actions or {}).items()},
        )
        return await self.transport.call("PUT", f"/platforms/{segment(name)}", PlatformView, safety=SAFE, body=body)

    async def patch(
        self,
        name: str,
        *,
        status: PlatformStatus | None = None,
        api_version: str | None = None,
        actions: dict[str, Scopes] | None = None,
    ) -> PlatformView:
        """Change the given fields of an existing platform (admin, ``PATCH``); the others keep their
        values. ``NotFoundError`` (``platform_not_found``) when the catalog has no such platform."""
        body = PlatformPatchRequest(
            status=status,
            api_version=api_version,
            actions=None if actions is None else {a: {"required_scopes": s} for a, s in actions.items()},
        )
        return await self.transport.call("PATCH", f"/platforms/{segment(name)}", PlatformView, safety=SAFE, body=body)

    async def set_status(self, name: str, status: PlatformStatus) -> PlatformView:
        """Change only the status (admin), keeping the platform's API version and actions (one ``PATCH``)."""
        return await self.patch(name, status=status)

    async def add_window(self, name: str, starts_at: str, ends_at: str, reason: str) -> MaintenanceWindow:
        """Schedule a maintenance window (admin; ISO-8601 times with a zone): checks are denied during it."""
        body = MaintenanceWindowRequest(starts_at=starts_at, ends_at=ends_at, reason=reason)
        path = f"/platforms/{segment(name)}/maintenance"
        return await self.transport.call("POST", path, MaintenanceWindow, safety=IDEMPOTENT, body=body)

    async def windows(self, name: str) -> MaintenanceWindowList:
        """A platform's scheduled windows that have not ended, in start order, and how many are kept."""
        path = f"/platforms/{segment(name)}/maintenance"
        return await self.transport.call("GET", path, MaintenanceWindowList, safety=SAFE)

    async def cancel_window(self, name: str, window_id: str) -> MaintenanceWindow:
        """Cancel a scheduled (or running) maintenance window (admin)."""
        path = f"/platforms/{segment(name)}/maintenance/{segment(window_id)}"
        return await self.transport.call("DELETE", path, MaintenanceWindow, safety=SAFE)
