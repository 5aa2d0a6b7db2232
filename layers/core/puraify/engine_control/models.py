"""Engine Control's API: request and response bodies (the public contract). Stored shapes are in records.py."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from puraify.contract import Model, Request
from puraify.engine_control.records import ActionSpec, PlatformStatus

EngineId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$")]
PlatformName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$")]
ActionName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.-]{1,64}$")]
Scope = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_:.-]{1,64}$")]
# A project grant: a project id, or "*" for every project.
ProjectGrant = Annotated[str, StringConstraints(pattern=r"^(\*|[A-Za-z0-9_.:-]{1,128})$")]
FlagName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]

Permissions = dict[PlatformName, list[ActionName]]


# --- API bodies ----------------------------------------------------------------------------


def _no_duplicate_actions(value: dict[str, list[str]]) -> dict[str, list[str]]:
    return {platform: sorted(set(actions)) for platform, actions in value.items()}


class EngineRegisterRequest(Request):
    engine_id: EngineId
    permissions: Permissions = Field(default_factory=dict, max_length=100)
    scopes: list[Scope] = Field(default_factory=list, max_length=32)
    projects: list[ProjectGrant] = Field(default_factory=list, max_length=200)
    description: str = Field(default="", max_length=1024)

    _dedupe = field_validator("permissions")(_no_duplicate_actions)


class EngineRegisterResponse(Model):
    engine_id: str
    engine_key: str
    permissions: dict[str, list[str]]
    scopes: list[str]
    projects: list[str]
    created_at: str


class EngineValidateResponse(Model):
    valid: bool
    engine_id: str
    permissions: dict[str, list[str]]
    scopes: list[str]
    projects: list[str]


class EngineRotateRequest(Request):
    grace_seconds: int | None = Field(default=None, ge=0, le=7 * 86400)


class EngineRotateResponse(Model):
    engine_id: str
    engine_key: str
    previous_key_valid_until: str | None


class EngineRevokeResponse(Model):
    engine_id: str
    status: Literal["revoked"]
    revoked_at: str


class EngineView(Model):
    """An engine as an admin sees it: everything but its key hashes."""

    engine_id: str
    status: Literal["active", "revoked"]
    permissions: dict[str, list[str]]
    scopes: list[str]
    projects: list[str]
    description: str
    created_at: str
    updated_at: str
    previous_key_valid_until: str | None = None
    last_seen_at: str | None = None


class EngineListResponse(Model):
    engines: list[EngineView]


class EnginePermissionsRequest(Request):
    permissions: Permissions = Field(max_length=100)
    scopes: list[Scope] | None = Field(default=None, max_length=32)
    projects: list[ProjectGrant] | None = Field(default=None, max_length=200)

    _dedupe = field_validator("permissions")(_no_duplicate_actions)


class EnginePermissionsResponse(Model):
    engine_id: str
    permissions: dict[str, list[str]]
    scopes: list[str]
    projects: list[str]
    updated_at: str


class ActionCheckRequest(Request):
    engine_id: EngineId | None = None
    platform: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    action_type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    project_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    flow_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None


class ActionCheckResponse(Model):
    allowed: bool
    required_scopes: list[str] = []
    reason: str | None = None
    rule: str | None = None
    engine_id: str
    platform: str
    action_type: str
    request_id: str


MAX_BATCH_CHECKS = 25  # BatchWriteItem's limit: one call writes the batch's audit records


class ActionCheckBatchRequest(Request):
    checks: list[ActionCheckRequest] = Field(min_length=1, max_length=MAX_BATCH_CHECKS)


class ActionCheckBatchResponse(Model):
    """One result per check, in the order asked; a check the caller may not make is a denial, its code the ``rule``."""

    results: list[ActionCheckResponse]
    request_id: str


PlatformApiVersion = Annotated[str, StringConstraints(min_length=1, max_length=32)]
PlatformActions = Annotated[dict[ActionName, ActionSpec], Field(max_length=200)]


class PlatformPutRequest(Request):
    """``PUT /platforms/{name}``: the whole platform, every field named (a PUT replaces the record, so a
    body that names only ``status`` would wipe the actions every permission names: 422 instead)."""

    status: PlatformStatus
    api_version: PlatformApiVersion
    actions: PlatformActions


class PlatformPatchRequest(Request):
    """``PATCH /platforms/{name}``: the fields to change; the others keep their stored values."""

    status: PlatformStatus | None = None
    api_version: PlatformApiVersion | None = None
    actions: PlatformActions | None = None


class PlatformView(Model):
    name: str
    status: PlatformStatus
    api_version: str
    actions: dict[str, ActionSpec]
    updated_at: str
    updated_by: str = ""  # the engine that made the last change ("" for seeded entries)


class PlatformListResponse(Model):
    platforms: list[PlatformView]


class FlagPutRequest(Request):
    enabled: bool
    platform: PlatformName | None = None
    action_type: ActionName | None = None
    description: str = Field(default="", max_length=1024)


class FlagView(Model):
    name: str
    enabled: bool
    platform: str | None = None
    action_type: str | None = None
    description: str = ""
    updated_at: str
    updated_by: str = ""


class GlobalConfigResponse(Model):
    api_version: str
    api_versions: dict[str, str]
    feature_flags: dict[str, FlagView]
