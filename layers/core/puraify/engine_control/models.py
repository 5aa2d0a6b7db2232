"""Engine Control's API: request and response bodies (the public contract). Stored shapes are in records.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from puraify.clock import parse_time
from puraify.contract import Model, Request
from puraify.engine_control.records import MAX_WINDOWS, ActionSpec, PlatformStatus
from puraify.versions import UNPINNED, ApiVersion

MAX_WINDOW_SECONDS = 7 * 86400


def _not_reserved(value: str) -> str:
    if value == "changes":  # GET /engines/changes is a route of its own
        raise ValueError("'changes' is reserved and cannot be an engine id")
    return value


EngineId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$"), AfterValidator(_not_reserved)]
PlatformName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$")]
ActionName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.-]{1,64}$")]
Scope = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_:.-]{1,64}$")]
# A project grant: a project id, or "*" for every project.
ProjectGrant = Annotated[str, StringConstraints(pattern=r"^(\*|[A-Za-z0-9_.:-]{1,128})$")]
FlagName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]

Permissions = dict[PlatformName, list[ActionName]]


# --- API bodies ----------------------------------------------------------------------------


class RateLimitBody(Request):
    """An engine's own limit: ``per_second`` refills a bucket of ``burst`` requests (a batch of N checks is N);
    ``events_per_second`` limits the events its ingest sends (null: the stack default)."""

    per_second: float = Field(gt=0, le=100_000)
    burst: int = Field(ge=1, le=1_000_000)
    events_per_second: float | None = Field(default=None, gt=0, le=1_000_000)


class RateLimitView(Model):
    per_second: float
    burst: int
    events_per_second: float | None = None


class SuspensionView(Model):
    reason: str
    by: str
    at: str


def _no_duplicate_actions(value: dict[str, list[str]]) -> dict[str, list[str]]:
    return {platform: sorted(set(actions)) for platform, actions in value.items()}


class EngineRegisterRequest(Request):
    engine_id: EngineId
    permissions: Permissions = Field(default_factory=dict, max_length=100)
    scopes: list[Scope] = Field(default_factory=list, max_length=32)
    projects: list[ProjectGrant] = Field(default_factory=list, max_length=200)
    description: str = Field(default="", max_length=1024)
    rate_limit: RateLimitBody | None = None  # null: the stack default
    expires_at: AwareDatetime | None = None  # RFC 3339; after it the key answers 401 (null: never)
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
    rate_limit: RateLimitView | None = None
    expires_at: str | None = None


class EngineValidateResponse(Model):
    valid: bool
    engine_id: str
    permissions: dict[str, list[str]]
    scopes: list[str]
    projects: list[str]
    api_version: str = UNPINNED


class EngineRotateRequest(Request):
    grace_seconds: int | None = Field(default=None, ge=0, le=7 * 86400)
    expires_at: AwareDatetime | None = None  # the new key's expiry (null: never)


class EngineRotateResponse(Model):
    engine_id: str
    engine_key: str
    previous_key_valid_until: str | None
    expires_at: str | None = None


class EngineSuspendRequest(Request):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=512)]


class EngineReinstateRequest(Request):
    reason: Annotated[str, StringConstraints(max_length=512)] = ""


class EngineSuspensionResponse(Model):
    """An engine after ``suspend`` or ``reinstate``: ``suspended`` is null once reinstated."""

    engine_id: str
    suspended: SuspensionView | None
    updated_at: str


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
    rate_limit: RateLimitView | None = None  # the engine's own limit (null: the stack default)
    expires_at: str | None = None  # when its key stops working (null: never)
    suspended: SuspensionView | None = None
    api_version: str = UNPINNED


class EngineApiVersionRequest(Request):
    api_version: ApiVersion


class EngineListResponse(Model):
    engines: list[EngineView]


class EnginePermissionsRequest(Request):
    permissions: Permissions = Field(max_length=100)
    scopes: list[Scope] | None = Field(default=None, max_length=32)
    projects: list[ProjectGrant] | None = Field(default=None, max_length=200)
    rate_limit: RateLimitBody | None = None  # absent: unchanged; null: the stack default

    _dedupe = field_validator("permissions")(_no_duplicate_actions)


class EnginePermissionsResponse(Model):
    engine_id: str
    permissions: dict[str, list[str]]
    scopes: list[str]
    projects: list[str]
    updated_at: str
    rate_limit: RateLimitView | None = None


class ActionCheckRequest(Request):
    engine_id: EngineId | None = None
    platform: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    action_type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    project_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    flow_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    explain: bool = False  # true: the answer carries its ``explanation``


class ExplanationStep(Model):
    rule: str
    outcome: Literal["pass", "fail", "not_evaluated"]
    detail: str


class Explanation(Model):
    """What a check evaluated, in order; ``decided_by`` is the denying rule (null when allowed)."""

    decided_by: str | None
    steps: list[ExplanationStep]
    engine_revision: str | None = None  # the engine record's ``updated_at`` that was read
    catalog_revision: str | None = None  # the newest ``updated_at`` among the catalog's platforms and flags


class ActionCheckResponse(Model):
    allowed: bool
    required_scopes: list[str] = []
    reason: str | None = None
    rule: str | None = None
    engine_id: str
    platform: str
    action_type: str
    request_id: str


class ActionCheckExplainedResponse(ActionCheckResponse):
    """A check asked with ``explain: true``."""

    explanation: Explanation


class Capability(Model):
    platform: str
    action_type: str
    allowed: bool
    rule: str | None = None
    reason: str | None = None
    required_scopes: list[str] = []


class CapabilitiesResponse(Model):
    """``GET /engines/{engine_id}/capabilities``: a page of the engine's held actions, decided now."""

    engine_id: str
    project_id: str | None = None
    capabilities: list[Capability]
    truncated: bool  # more items than this page: ask again with ``cursor=next_cursor``
    next_cursor: str | None = None


MAX_BATCH_CHECKS = 25  # BatchWriteItem's limit: one call writes the batch's audit records


class ActionCheckBatchRequest(Request):
    checks: list[ActionCheckRequest] = Field(min_length=1, max_length=MAX_BATCH_CHECKS)


class ActionCheckBatchResponse(Model):
    """One result per check, in the order asked; a check the caller may not make is a denial, its code the ``rule``."""

    results: list[ActionCheckExplainedResponse | ActionCheckResponse]
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


class MaintenanceWindowRequest(Request):
    """A scheduled maintenance window: checks of the platform are denied from ``starts_at`` until ``ends_at``."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]

    @field_validator("ends_at")
    @classmethod
    def _ends_after_it_starts(cls, ends_at: datetime, info: ValidationInfo) -> datetime:
        starts_at = info.data.get("starts_at")  # absent when it failed its own validation
        if starts_at is None:
            return ends_at
        if ends_at <= starts_at:
            raise ValueError("ends_at must be after starts_at")
        if (ends_at - starts_at).total_seconds() > MAX_WINDOW_SECONDS:
            raise ValueError(f"a window lasts at most {MAX_WINDOW_SECONDS // 86400} days")
        return ends_at


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


class FlagScheduleRequest(Request):
    """Switch the flag ``enabled`` at ``at`` (in the future): checks follow it from that second."""

    enabled: bool
    at: AwareDatetime


class ScheduledFlagChangeView(Model):
    schedule_id: str
    flag: str
    enabled: bool
    at: str
    created_by: str
    created_at: str


class FlagScheduleListResponse(Model):
    flag: str
    enabled: bool  # the flag's state now
    changes: list[ScheduledFlagChangeView]
    max_scheduled: int


class GlobalConfigResponse(Model):
    api_version: str
    api_versions: dict[str, str]
    # The dates a request may name in Puraify-Version, oldest first (docs/api.md).
    supported_versions: list[str] = Field(default_factory=list)
    feature_flags: dict[str, FlagView]


# --- POST /actions/simulate ------------------------------------------------------------------

MAX_SIMULATE_WINDOW_SECONDS = 7 * 86400
DEFAULT_SIMULATE_WINDOW_SECONDS = 86400


def _time(value: object) -> object:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        value = str(value)
    if isinstance(value, str):
        return parse_time(value)
    return value


Time = Annotated[float | None, BeforeValidator(_time)]


class SimulatedEngine(Request):
    """An engine's new permissions, scopes or project grants (``PUT /engines/{id}/permissions``'s fields)."""

    engine_id: EngineId
    permissions: Permissions | None = Field(default=None, max_length=100)
    scopes: list[Scope] | None = Field(default=None, max_length=32)
    projects: list[ProjectGrant] | None = Field(default=None, max_length=200)

    @field_validator("permissions")
    @classmethod
    def _dedupe(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        return None if value is None else _no_duplicate_actions(value)


class SimulatedPlatform(Request):
    status: PlatformStatus


class SimulatedFlag(Request):
    """A flag switched on or off; a new flag names its target as ``PUT /config/flags/{name}`` does."""

    enabled: bool
    platform: PlatformName | None = None
    action_type: ActionName | None = None


class SimulatedChange(Request):
    engine: SimulatedEngine | None = None
    platforms: dict[PlatformName, SimulatedPlatform] = Field(default_factory=dict, max_length=100)
    flags: dict[FlagName, SimulatedFlag] = Field(default_factory=dict, max_length=100)

    @model_validator(mode="after")
    def _something(self) -> SimulatedChange:
        if self.engine is None and not self.platforms and not self.flags:
            raise ValueError("name at least one of engine, platforms, flags")
        return self


class SimulateRequest(Request):
    change: SimulatedChange
    since: Time = Field(default=None, description="ISO-8601 or epoch seconds; default: 24 h before until")
    until: Time = Field(default=None, description="ISO-8601 or epoch seconds; default: now")

    @model_validator(mode="after")
    def _window(self) -> SimulateRequest:
        if self.since is not None and self.until is not None:
            if self.until <= self.since:
                raise ValueError("until must be after since")
            if self.until - self.since > MAX_SIMULATE_WINDOW_SECONDS:
                raise ValueError("the window is at most 7 days")
        return self


class SimulatedFlips(Model):
    platform: str
    action_type: str
    project_id: str | None = None
    allow_to_deny: int
    deny_to_allow: int


class SimulatedExample(Model):
    request_id: str
    timestamp: str
    engine_id: str
    platform: str
    action_type: str
    project_id: str | None = None
    before: Literal["allowed", "denied"]
    after: Literal["allowed", "denied"]
    rule: str | None  # the rule that denies on the denying side


class SimulateResponse(Model):
    """The audited checks of the window replayed with and without the change, by the check's own rules."""

    replayed: int
    unchanged: int
    allow_to_deny: int
    deny_to_allow: int
    by_action: list[SimulatedFlips]
    examples: list[SimulatedExample]
    truncated: bool  # more records than ``max_records`` in the window: the oldest were not replayed
    records_read: int
    max_records: int
    not_replayed: int  # checks that were never decided (``error``): nothing to compare
    since: str
    until: str
