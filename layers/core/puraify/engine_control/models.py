"""Engine Control's API: request and response bodies (the public contract). Stored shapes are in records.py."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, field_validator, model_validator

from puraify.contract import Model, Request
from puraify.engine_control.records import MAX_WINDOWS, ActionSpec, PlatformStatus
from puraify.versions import UNPINNED, ApiVersion

MAX_WINDOW_SECONDS = 7 * 86400

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
    # The API version its requests are served in when they send no Puraify-Version (default: the newest).
    api_version: ApiVersion | None = None

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
    api_version: str = UNPINNED


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
    api_version: str = UNPINNED


class EngineApiVersionRequest(Request):
    api_version: ApiVersion


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


class PlatformPutRequest(Request):
    status: PlatformStatus = "available"
    api_version: Annotated[str, StringConstraints(min_length=1, max_length=32)] = "v1"
    actions: dict[ActionName, ActionSpec] = Field(default_factory=dict, max_length=200)


class MaintenanceWindowRequest(Request):
    """A scheduled maintenance window: checks of the platform are denied from ``starts_at`` until ``ends_at``."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> MaintenanceWindowRequest:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if (self.ends_at - self.starts_at).total_seconds() > MAX_WINDOW_SECONDS:
            raise ValueError(f"a window lasts at most {MAX_WINDOW_SECONDS // 86400} days")
        return self


class MaintenanceWindowView(Model):
    window_id: str
    platform: str
    starts_at: str
    ends_at: str
    reason: str
    created_by: str
    created_at: str
    active: bool = False  # in force now


class MaintenanceWindowListResponse(Model):
    platform: str
    windows: list[MaintenanceWindowView]
    max_windows: int


class MaintenanceSummary(Model):
    """The platform's maintenance window in force now and the next one (``GET /platforms/list``)."""

    current: MaintenanceWindowView | None = None
    next: MaintenanceWindowView | None = None
    scheduled: int = 0


class PlatformView(Model):
    name: str
    status: PlatformStatus
    api_version: str
    actions: dict[str, ActionSpec]
    updated_at: str
    updated_by: str = ""  # the engine that made the last change ("" for seeded entries)
    maintenance: MaintenanceSummary = MaintenanceSummary()


class PlatformListResponse(Model):
    platforms: list[PlatformView]
    max_windows: int = MAX_WINDOWS  # scheduled maintenance windows kept per platform


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
    # The dates a request may name in Puraify-Version, oldest first (docs/api.md).
    supported_versions: list[str] = Field(default_factory=list)
    feature_flags: dict[str, FlagView]
