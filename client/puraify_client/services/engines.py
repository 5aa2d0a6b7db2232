"""``cp.engines``: engine identities (register, list, get, validate, rotate, revoke, suspend, reinstate,
permissions and rate limits)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, SecretStr, StringConstraints

from puraify_client.models import Request, Response
from puraify_client.services.base import register, segment
from puraify_client.services.grant_changes import GrantChangeRequests
from puraify_client.transport import IDEMPOTENT, SAFE, UNSAFE

EngineId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$")]
Permissions = dict[str, list[str]]
Scopes = list[str]  # named outside the class, where ``list`` is the method below


class RateLimit(Request):
    """An engine's own rate limit: ``per_second`` refills a bucket of ``burst`` requests (a batch of N checks
    counts N); ``events_per_second`` limits the log events it ingests (None: the stack default)."""

    per_second: float = Field(gt=0)
    burst: int = Field(ge=1)
    events_per_second: float | None = Field(default=None, gt=0)


class RateLimitView(Response):
    per_second: float
    burst: int
    events_per_second: float | None = None


class Suspension(Response):
    reason: str
    by: str
    at: str


class EngineRegisterRequest(Request):
    engine_id: EngineId
    permissions: Permissions = Field(default_factory=dict)
    scopes: list[str] = Field(default_factory=list)
    projects: list[str] = Field(default_factory=list)
    description: str = ""
    rate_limit: RateLimit | None = None
    expires_at: datetime | None = None


class EngineRegisterResponse(Response):
    engine_id: str
    engine_key: SecretStr
    permissions: Permissions
    scopes: list[str]
    projects: list[str] = Field(default_factory=list)
    created_at: str
    rate_limit: RateLimitView | None = None
    expires_at: str | None = None


class EngineValidateResponse(Response):
    valid: bool
    engine_id: str
    permissions: Permissions
    scopes: list[str]
    projects: list[str] = Field(default_factory=list)


class EngineRotateRequest(Request):
    grace_seconds: int | None = Field(default=None, ge=0)
    expires_at: datetime | None = None


class EngineRotateResponse(Response):
    engine_id: str
    engine_key: SecretStr
    previous_key_valid_until: str | None = None
    expires_at: str | None = None


class EngineSuspendRequest(Request):
    reason: str = Field(min_length=1, max_length=512)


class EngineReinstateRequest(Request):
    reason: str = Field(default="", max_length=512)


class EngineSuspensionResponse(Response):
    engine_id: str
    suspended: Suspension | None = None
    updated_at: str


class EngineRevokeResponse(Response):
    engine_id: str
    status: str
    revoked_at: str


class EngineView(Response):
    engine_id: str
    status: str
    permissions: Permissions
    scopes: list[str]
    projects: list[str] = Field(default_factory=list)
    description: str = ""
    created_at: str
    updated_at: str
    previous_key_valid_until: str | None = None
    last_seen_at: str | None = None
    rate_limit: RateLimitView | None = None
    expires_at: str | None = None
    suspended: Suspension | None = None
    api_version: str | None = None


class EngineListResponse(Response):
    engines: list[EngineView]


class EngineApiVersionRequest(Request):
    api_version: str


class EnginePermissionsRequest(Request):
    permissions: Permissions
    scopes: list[str] | None = None
    projects: list[str] | None = None


class EnginePermissionsResponse(Response):
    engine_id: str
    permissions: Permissions
    scopes: list[str]
    projects: list[str] = Field(default_factory=list)
    updated_at: str
    rate_limit: RateLimitView | None = None


class Capability(Response):
    platform: str
    action_type: str
    allowed: bool
    rule: str | None = None
    reason: str | None = None
    required_scopes: list[str] = Field(default_factory=list)


class CapabilitiesResponse(Response):
    engine_id: str
    project_id: str | None = None
    capabilities: list[Capability]
    truncated: bool
    next_cursor: str | None = None


Capabilities = list[Capability]


@register
class Engines(GrantChangeRequests):
    name = "engines"

    async def register(
        self,
        engine_id: str,
        *,
        permissions: Permissions | None = None,
        scopes: Scopes | None = None,
        projects: Scopes | None = None,
        description: str = "",
        rate_limit: RateLimit | None = None,
        expires_at: datetime | None = None,
    ) -> EngineRegisterResponse:
        """Create an engine (admin). The key is in ``.engine_key`` (a ``SecretStr``), shown this once.

        ``projects`` are its project grants (``["*"]`` for a platform-wide engine); none by default.
        ``rate_limit`` is its own limit (None: the stack default); after ``expires_at`` (an aware
        datetime) its key answers 401.

        Retried with its ``Idempotency-Key``: a retry after a lost answer gets the key issued first.
        With four-eyes on grants, one granting ``admin`` raises ``ApprovalPending`` (the key then comes
        in the approval's answer, ``approve_grant_change(...).engine_key``).
        """
        body = EngineRegisterRequest(
            engine_id=engine_id,
            permissions=permissions or {},
            scopes=scopes or [],
            projects=projects or [],
            description=description,
            rate_limit=rate_limit,
            expires_at=expires_at,
        )
        return await self._granting("POST", "/engines/register", EngineRegisterResponse, body, IDEMPOTENT)

    async def list(self) -> list[EngineView]:
        """Every engine, revoked ones included, sorted by id (admin). Never a key or its hash."""
        found = await self.transport.call("GET", "/engines", EngineListResponse, safety=SAFE)
        return found.engines

    async def get(self, engine_id: str) -> EngineView:
        """One engine with ``last_seen_at``, its last authenticated request (admin)."""
        return await self.transport.call("GET", f"/engines/{segment(engine_id)}", EngineView, safety=SAFE)

    async def capabilities(
        self, engine_id: str | None = None, *, project_id: str | None = None, limit: int = 500
    ) -> Capabilities:
        """Every platform and action the engine holds (this client's engine by default; another's: admin),
        each with ``allowed`` now and, when not, the ``rule`` and ``reason``; every page is followed."""
        if engine_id is None:
            engine_id = (await self.validate()).engine_id
        found: Capabilities = []
        cursor: str | None = None
        while True:
            params = {"project_id": project_id, "limit": limit, "cursor": cursor}
            page = await self.transport.call(
                "GET", f"/engines/{segment(engine_id)}/capabilities", CapabilitiesResponse, safety=SAFE, params=params
            )
            found += page.capabilities
            if not page.truncated or not page.next_cursor:
                return found
            cursor = page.next_cursor

    async def validate(self) -> EngineValidateResponse:
        """Who the client's credentials belong to, with their permissions and scopes."""
        return await self.transport.call("POST", "/engines/validate", EngineValidateResponse, safety=SAFE)

    async def rotate(
        self, engine_id: str, *, grace_seconds: int | None = None, expires_at: datetime | None = None
    ) -> EngineRotateResponse:
        """Issue a new key; the old one keeps working for ``grace_seconds`` (server default when None).
        The new key expires at ``expires_at`` (None: never)."""
        return await self.transport.call(
            "POST",
            f"/engines/{segment(engine_id)}/rotate",
            EngineRotateResponse,
            safety=IDEMPOTENT,
            body=EngineRotateRequest(grace_seconds=grace_seconds, expires_at=expires_at),
        )

    async def suspend(self, engine_id: str, reason: str) -> EngineSuspensionResponse:
        """Suspend an engine (admin): every call it makes answers 403 ``engine_suspended`` until reinstated.
        The last active admin cannot be suspended (``ConflictError``, ``last_admin``)."""
        return await self.transport.call(
            "POST",
            f"/engines/{segment(engine_id)}/suspend",
            EngineSuspensionResponse,
            safety=IDEMPOTENT,
            body=EngineSuspendRequest(reason=reason),
        )

    async def reinstate(self, engine_id: str, reason: str = "") -> EngineSuspensionResponse:
        """Lift an engine's suspension (admin); ``reason`` goes into the admin audit."""
        return await self.transport.call(
            "POST",
            f"/engines/{segment(engine_id)}/reinstate",
            EngineSuspensionResponse,
            safety=IDEMPOTENT,
            body=EngineReinstateRequest(reason=reason),
        )

    async def set_rate_limit(self, engine_id: str, rate_limit: RateLimit | None) -> EnginePermissionsResponse:
        """Set an engine's own rate limit (None: back to the stack default), keeping its permissions,
        scopes and grants (admin). Read then written: not for two admins changing one engine at once."""
        current = await self.get(engine_id)
        body: dict[str, Any] = {
            "permissions": current.permissions,
            "rate_limit": rate_limit.model_dump(mode="json", exclude_none=True) if rate_limit else None,
        }
        data = await self.transport.raw(
            "PUT", f"/engines/{segment(engine_id)}/permissions", safety=SAFE, json_body=body
        )
        return EnginePermissionsResponse.model_validate(data)

    async def revoke(self, engine_id: str) -> EngineRevokeResponse:
        """Revoke an engine (admin): its keys stop working within the cache TTL."""
        return await self.transport.call(
            "DELETE", f"/engines/{segment(engine_id)}", EngineRevokeResponse, safety=UNSAFE
        )

    async def set_api_version(self, engine_id: str, api_version: str) -> EngineView:
        """Pin the API version an engine's requests are served in when they name none (admin); safe to retry."""
        return await self.transport.call(
            "PUT",
            f"/engines/{segment(engine_id)}/api-version",
            EngineView,
            safety=SAFE,
            body=EngineApiVersionRequest(api_version=api_version),
        )

    async def set_permissions(
        self,
        engine_id: str,
        permissions: Permissions,
        *,
        scopes: Scopes | None = None,
        projects: Scopes | None = None,
    ) -> EnginePermissionsResponse:
        """Replace an engine's permissions (and scopes, project grants when given); safe to retry.

        With four-eyes on grants, raises ``ApprovalPending``: the change waits for another admin."""
        body = EnginePermissionsRequest(permissions=permissions, scopes=scopes, projects=projects)
        path = f"/engines/{segment(engine_id)}/permissions"
        return await self._granting("PUT", path, EnginePermissionsResponse, body, SAFE)
