"""``cp.config``: global configuration, API versions, feature flags, and health."""

from __future__ import annotations

from puraify_client.models import Request, Response
from puraify_client.services.base import Service, register, segment
from puraify_client.transport import IDEMPOTENT, SAFE
from puraify_client.types import ActionName, Description, PlatformName


class FlagPutRequest(Request):
    enabled: bool
    platform: PlatformName | None = None
    action_type: ActionName | None = None
    description: Description = ""


class FlagView(Response):
    name: str
    enabled: bool
    platform: str | None = None
    action_type: str | None = None
    description: str = ""
    updated_at: str = ""


class FlagScheduleRequest(Request):
    enabled: bool
    at: str


class ScheduledFlagChange(Response):
    """The flag switched ``enabled`` at ``at``: checks follow it from that second."""

    schedule_id: str
    flag: str
    enabled: bool
    at: str
    created_by: str = ""
    created_at: str = ""


class FlagSchedule(Response):
    flag: str
    enabled: bool
    changes: list[ScheduledFlagChange]
    max_scheduled: int


class GlobalConfigResponse(Response):
    api_version: str
    api_versions: dict[str, str] = {}
    feature_flags: dict[str, FlagView] = {}


class HealthResponse(Response):
    status: str
    version: str | None = None


@register
class Config(Service):
    name = "config"

    async def health(self) -> HealthResponse:
        """``GET /health``: answers without credentials once the control plane is ready."""
        return await self.transport.call("GET", "/health", HealthResponse, safety=SAFE)

    async def global_config(self) -> GlobalConfigResponse:
        """API versions and feature flags, as every engine sees them."""
        return await self.transport.call("GET", "/config/global", GlobalConfigResponse, safety=SAFE)

    async def flags(self) -> dict[str, FlagView]:
        """The feature flags by name."""
        return (await self.global_config()).feature_flags

    async def set_flag(
        self,
        name: str,
        enabled: bool,
        *,
        platform: str | None = None,
        action_type: str | None = None,
        description: str = "",
    ) -> FlagView:
        """Create or replace a feature flag (admin); a flag may target a platform or one action."""
        body = FlagPutRequest(enabled=enabled, platform=platform, action_type=action_type, description=description)
        return await self.transport.call("PUT", f"/config/flags/{segment(name)}", FlagView, safety=SAFE, body=body)

    async def schedule_flag(self, name: str, enabled: bool, at: str) -> ScheduledFlagChange:
        """Switch flag ``name`` on or off at ``at`` (admin; ISO-8601 with a zone, in the future)."""
        body = FlagScheduleRequest(enabled=enabled, at=at)
        path = f"/config/flags/{segment(name)}/schedule"
        return await self.transport.call("POST", path, ScheduledFlagChange, safety=IDEMPOTENT, body=body)

    async def flag_schedule(self, name: str) -> FlagSchedule:
        """The flag's state now and its pending scheduled changes, in time order."""
        path = f"/config/flags/{segment(name)}/schedule"
        return await self.transport.call("GET", path, FlagSchedule, safety=SAFE)

    async def cancel_flag_change(self, name: str, schedule_id: str) -> ScheduledFlagChange:
        """Cancel a scheduled flag change not yet due (admin)."""
        path = f"/config/flags/{segment(name)}/schedule/{segment(schedule_id)}"
        return await self.transport.call("DELETE", path, ScheduledFlagChange, safety=SAFE)
