"""``cp.engines``: engine identities (register, list, get, validate, rotate, revoke, permissions)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, StringConstraints

from puraify_client.models import Request, Response
from puraify_client.services.base import Service, register, segment
from puraify_client.transport import IDEMPOTENT, SAFE, UNSAFE

EngineId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$")]
Permissions = dict[str, list[str]]
Scopes = list[str]  # named outside the class, where ``list`` is the method below


class EngineRegisterRequest(Request):
    engine_id: EngineId
    permissions: Permissions = Field(default_factory=dict)
    scopes: list[str] = Field(default_factory=list)
    projects: list[str] = Field(default_factory=list)
    description: str = ""


class EngineRegisterResponse(Response):
    engine_id: str
    engine_key: SecretStr
    permissions: Permissions
    scopes: list[str]
    projects: list[str] = Field(default_factory=list)
    created_at: str


class EngineValidateResponse(Response):
    valid: bool
    engine_id: str
    permissions: Permissions
    scopes: list[str]
    projects: list[str] = Field(default_factory=list)


class EngineRotateRequest(Request):
    grace_seconds: int | None = Field(default=None, ge=0)


class EngineRotateResponse(Response):
    engine_id: str
    engine_key: SecretStr
    previous_key_valid_until: str | None = None


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


@register
class Engines(Service):
    name = "engines"

    async def register(
        self,
        engine_id: str,
        *,
        permissions: Permissions | None = None,
        scopes: Scopes | None = None,
        projects: Scopes | None = None,
        description: str = "",
    ) -> EngineRegisterResponse:
        """Create an engine (admin). The key is in ``.engine_key`` (a ``SecretStr``), shown this once.

        ``projects`` are its project grants (``["*"]`` for a platform-wide engine); none by default.

        Retried with its ``Idempotency-Key``: a retry after a lost answer gets the key issued first.
        """
        body = EngineRegisterRequest(
            engine_id=engine_id,
            permissions=permissions or {},
            scopes=scopes or [],
            projects=projects or [],
            description=description,
        )
        return await self.transport.call(
            "POST", "/engines/register", EngineRegisterResponse, safety=IDEMPOTENT, body=body
        )

    async def list(self) -> list[EngineView]:
        """Every engine, revoked ones included, sorted by id (admin). Never a key or its hash."""
        found = await self.transport.call("GET", "/engines", EngineListResponse, safety=SAFE)
        return found.engines

    async def get(self, engine_id: str) -> EngineView:
        """One engine with ``last_seen_at``, its last authenticated request (admin)."""
        return await self.transport.call("GET", f"/engines/{segment(engine_id)}", EngineView, safety=SAFE)

    async def validate(self) -> EngineValidateResponse:
        """Who the client's credentials belong to, with their permissions and scopes."""
        return await self.transport.call("POST", "/engines/validate", EngineValidateResponse, safety=SAFE)

    async def rotate(self, engine_id: str, *, grace_seconds: int | None = None) -> EngineRotateResponse:
        """Issue a new key; the old one keeps working for ``grace_seconds`` (server default when None)."""
        return await self.transport.call(
            "POST",
            f"/engines/{segment(engine_id)}/rotate",
            EngineRotateResponse,
            safety=IDEMPOTENT,
            body=EngineRotateRequest(grace_seconds=grace_seconds),
        )

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
        """Replace an engine's permissions (and scopes, project grants when given); safe to retry."""
        return await self.transport.call(
            "PUT",
            f"/engines/{segment(engine_id)}/permissions",
            EnginePermissionsResponse,
            safety=SAFE,
            body=EnginePermissionsRequest(permissions=permissions, scopes=scopes, projects=projects),
        )
