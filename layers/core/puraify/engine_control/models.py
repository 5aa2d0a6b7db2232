"""Engine Control's records and its API's request and response bodies (the public contract)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

EngineId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$")]
PlatformName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$")]
ActionName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.-]{1,64}$")]
Scope = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_:.-]{1,64}$")]
# A project grant: a project id, or "*" for every project.
ProjectGrant = Annotated[str, StringConstraints(pattern=r"^(\*|[A-Za-z0-9_.:-]{1,128})$")]
FlagName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
PlatformStatus = Literal["available", "maintenance", "disabled"]

Permissions = dict[PlatformName, list[ActionName]]

# The deployment gate's flag: the only one without a platform. Like every flag, enabled means what
# it targets may run: switched off, deployments into protected environments stop (a change freeze).
DEPLOYMENTS_FLAG = "deployments"


class Model(BaseModel):
    """Base of every model here: its schema is built at first use, so a function builds only those it uses."""

    model_config = ConfigDict(defer_build=True)


class Request(Model):
    """Base of request bodies: unknown fields are an error, not silently dropped.

    Strings are taken exactly as sent: policy files, variable values and secrets are content whose
    digests must match the sender's, and an id with stray spaces fails its pattern (422) instead of
    being silently changed.
    """

    model_config = ConfigDict(extra="forbid")


# --- records kept in the store -------------------------------------------------------------


class EngineRecord(Model):
    engine_id: str
    key_hash: str
    previous_key_hash: str | None = None
    previous_key_expires_at: float | None = None
    permissions: dict[str, list[str]] = {}
    scopes: list[str] = []
    projects: list[str] = []
    description: str = ""
    status: Literal["active", "revoked"] = "active"
    created_at: str
    updated_at: str


class ActionSpec(Model):
    model_config = ConfigDict(extra="forbid")

    required_scopes: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] = Field(
        default_factory=list, max_length=32
    )


class Platform(Model):
    name: str
    status: PlatformStatus = "available"
    api_version: str = "v1"
    actions: dict[str, ActionSpec] = {}
    updated_at: str = ""
    updated_by: str = ""


class Flag(Model):
    name: str
    enabled: bool
    platform: str | None = None
    action_type: str | None = None
    description: str = ""
    updated_at: str = ""
    updated_by: str = ""


class Catalog(Model):
    """Everything a check reads besides the engine: platforms and feature flags."""

    platforms: dict[str, Platform] = {}
    flags: dict[str, Flag] = {}


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


class PlatformPutRequest(Request):
    status: PlatformStatus = "available"
    api_version: Annotated[str, StringConstraints(min_length=1, max_length=32)] = "v1"
    actions: dict[ActionName, ActionSpec] = Field(default_factory=dict, max_length=200)


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


def _storable_details(value: dict[str, Any]) -> dict[str, Any]:
    """Monitoring's size and DynamoDB number rules (a 422, not a failed write)."""
    from puraify.monitoring.models import _small_details  # that module imports this one

    return _small_details(value) or {}


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
