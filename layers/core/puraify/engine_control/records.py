"""Engine Control's stored shapes: the engine record, the catalog (platforms and feature flags), grant changes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from puraify.contract import Model

PlatformStatus = Literal["available", "maintenance", "disabled"]


class RateLimit(Model):
    """An engine's own rate limit (None on the record: the stack's defaults)."""

    per_second: float
    burst: int
    events_per_second: float | None = None


class Suspension(Model):
    """Why, by whom and when an engine was suspended (its identity and keys stay; it may be reinstated)."""

    reason: str
    by: str
    at: str


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
    rate_limit: RateLimit | None = None
    # When the current key stops working (epoch seconds; None: never). Not ``expires_at``: that name
    # is a TTL attribute on other tables, and an engine's record must never be deleted by DynamoDB.
    key_expires_at: float | None = None
    suspended: Suspension | None = None
    # The API version its requests are served in when they name none; None: registered before
    # versions existed, so served in the oldest (puraify.versions).
    api_version: str | None = None
    created_at: str
    updated_at: str


class ActionSpec(Model):
    model_config = ConfigDict(extra="forbid")

    required_scopes: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] = Field(
        default_factory=list, max_length=32
    )


MAX_WINDOWS = 20  # scheduled maintenance windows kept per platform (not yet ended)


class MaintenanceWindow(Model):
    """A scheduled maintenance of a platform: checks are denied from ``starts_at`` to just before ``ends_at``."""

    window_id: str
    starts_at: str
    ends_at: str
    starts_epoch: float
    ends_epoch: float
    reason: str
    created_by: str
    created_at: str

    def covers(self, at: float) -> bool:
        return self.starts_epoch <= at < self.ends_epoch


class Platform(Model):
    name: str
    status: PlatformStatus = "available"
    api_version: str = "v1"
    actions: dict[str, ActionSpec] = {}
    updated_at: str = ""
    updated_by: str = ""
    windows: list[MaintenanceWindow] = []  # sorted by start; at most MAX_WINDOWS that have not ended

    def window_at(self, at: float) -> MaintenanceWindow | None:
        """The maintenance window in force at ``at`` (epoch seconds), if any."""
        for window in self.windows:
            if window.covers(at):
                return window
        return None

    def in_maintenance(self, at: float) -> bool:
        """Whether the platform is in maintenance at ``at``: by its status or by a window."""
        return self.status == "maintenance" or self.window_at(at) is not None


MAX_SCHEDULED = 20  # scheduled changes kept per flag (not yet applied)


class ScheduledFlagChange(Model):
    """A flag switched ``enabled`` at ``at``: checks follow it from that second, recorded once it came due."""

    schedule_id: str
    enabled: bool
    at: str
    at_epoch: float
    created_by: str
    created_at: str


class Flag(Model):
    name: str
    enabled: bool
    platform: str | None = None
    action_type: str | None = None
    description: str = ""
    updated_at: str = ""
    updated_by: str = ""
    schedule: list[ScheduledFlagChange] = []  # in time order; at most MAX_SCHEDULED
    revision: int = 0  # the stored write count: a write is conditional on the revision it read (0: none yet)

    def enabled_at(self, at: float) -> bool:
        """The flag's state at ``at`` (epoch seconds): the last scheduled change due by then, else ``enabled``."""
        state = self.enabled
        for change in self.schedule:
            if change.at_epoch > at:
                break
            state = change.enabled
        return state


class Catalog(Model):
    """Everything a check reads besides the engine: platforms and feature flags."""

    platforms: dict[str, Platform] = {}
    flags: dict[str, Flag] = {}


# --- four-eyes on grants: a grant change waiting for a second admin (``grant_changes.py``) -------

GrantChangeStatus = Literal["pending", "applying", "applied", "rejected", "expired", "failed"]
GrantChangeKind = Literal["register", "permissions"]
FINAL = frozenset({"applied", "rejected", "expired", "failed"})


class GrantChangeEvent(BaseModel):
    status: GrantChangeStatus | Literal["approved"]
    by: str
    at: str
    reason: str | None = None


class GrantChangeRecord(BaseModel):
    """``seq`` advances with every write; each write is conditional on the one it read."""

    change_id: str
    kind: GrantChangeKind
    target: str  # the engine whose grants change (or that the registration creates)
    status: GrantChangeStatus = "pending"
    seq: int = 1
    requested_by: str
    requested_at: str
    request_id: str = ""
    expires_epoch: float
    request: dict[str, Any]  # the body of the registration or of PUT /engines/{id}/permissions
    simulation: dict[str, Any] | None = None  # POST /actions/simulate's summary of the change, when asked
    events: list[GrantChangeEvent] = []
    approved_by: str | None = None
    reason: str | None = None
    result: dict[str, Any] | None = None  # the change's answer (a registration's without its key)

    def status_at(self, at: float) -> GrantChangeStatus:
        return "expired" if self.status == "pending" and at >= self.expires_epoch else self.status
