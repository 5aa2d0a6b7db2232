"""Environment Manager's records and its API's request and response bodies (the public contract)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from puraify.contract import Request
from puraify.environments.records import (
    MAX_APPROVALS,
    MAX_TTL_HOURS,
    STANDARD,
    Action,
    Approval,
    BakeDecision,
    Change,
    ChangeEvent,
    ChangeStatus,
    DeploymentState,
    EnvName,
    FlagName,
    Label,
    PlatformState,
    ProjectId,
    VariableInput,
    VarName,
)

# --- API bodies --------------------------------------------------------------------------


class VersionPublishRequest(Request):
    project_id: ProjectId
    environment: EnvName = "development"
    state: PlatformState
    label: Label | None = None


class VersionDiff(BaseModel):
    entities_added: list[str] = []
    entities_removed: list[str] = []
    logic_changed: int = 0


class VersionPublishResponse(BaseModel):
    project_id: str
    environment: str
    version: str
    sequence: int
    created: bool
    bump: Literal["initial", "minor", "patch", "label"] | None
    previous_version: str | None
    changes: VersionDiff
    revision: int
    created_at: str
    created_by: str


class EnvCreateRequest(Request):
    project_id: ProjectId
    new_environment: EnvName
    base_from: EnvName | None = None
    env_variables: dict[VarName, VariableInput] = Field(default_factory=dict, max_length=200)
    feature_flags: dict[FlagName, bool] = Field(default_factory=dict, max_length=500)
    preview: bool = False
    ttl_hours: int | None = Field(default=None, ge=1, le=MAX_TTL_HOURS)

    @model_validator(mode="after")
    def _preview_rules(self) -> EnvCreateRequest:
        if self.preview and self.new_environment in STANDARD:
            raise ValueError(f"'{self.new_environment}' cannot be a preview environment")
        if self.ttl_hours is not None and not self.preview:
            raise ValueError("ttl_hours applies only to preview environments")
        return self


class VariableView(BaseModel):
    value: str
    secret: bool


class EnvCreateResponse(BaseModel):
    status: Literal["env_created"] = "env_created"
    env: str
    linked_version: str | None
    url: str
    preview: bool
    expires_at: str | None
    revision: int
    config_revision: int
    variables: dict[str, VariableView]
    feature_flags: dict[str, bool]


MAX_BAKE_SECONDS = 7 * 86400


class EnvPromoteRequest(Request):
    """``bake_seconds``: how long the deployment watch judges the new version (0: not at all).
    Into production the default is ``DeploymentBakeMinutes``; elsewhere only when given."""

    project_id: ProjectId
    source_env: EnvName
    target_env: EnvName
    expected_revision: int | None = Field(default=None, ge=1)
    bake_seconds: int | None = Field(default=None, ge=0, le=MAX_BAKE_SECONDS)


class PromotionDiff(VersionDiff):
    env_updated: list[str] = []


class BakeView(BaseModel):
    """The deployment watch a promotion started: until when the new version is judged."""

    deployment_id: str
    bake_seconds: int
    bake_ends_at: str


class GateView(BaseModel):
    decision_id: str
    reasons: list[str]


class EnvPromoteResponse(BaseModel):
    status: Literal["ready_for_deploy", "already_deployed"]
    version: str
    environment: str
    previous_version: str | None
    diff_from_previous: PromotionDiff
    revision: int
    deployment_id: str | None
    gate: GateView | None
    bake: BakeView | None = None


class EnvRollbackRequest(Request):
    """Back to a version the environment ran before its current one and that no rollback left as bad.

    ``force`` (admin, with a ``reason``) takes it to another version it ran; forcing is audited and alerted.
    """

    project_id: ProjectId
    environment: EnvName
    version: Label
    expected_revision: int | None = Field(default=None, ge=1)
    force: bool = False
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None

    @model_validator(mode="after")
    def _force_needs_a_reason(self) -> EnvRollbackRequest:
        if self.force and not self.reason:
            raise ValueError("a forced rollback needs a reason")
        return self


class EnvironmentView(BaseModel):
    project_id: str
    env: str
    version: str | None
    revision: int
    config_revision: int
    preview: bool
    url: str
    created_at: str
    updated_at: str
    updated_by: str
    expires_at: str | None
    variables: dict[str, VariableView]
    feature_flags: dict[str, bool]
    approvals_required: int = 0


class EnvRollbackResponse(BaseModel):
    status: Literal["rolled_back", "unchanged"]
    previous_version: str | None
    environment: EnvironmentView
    deployment_id: str | None = None
    gate: GateView | None = None
    forced: bool = False


class EnvConfigRequest(Request):
    """A merge patch: a variable or flag set to ``null`` is removed."""

    env_variables: dict[VarName, VariableInput | None] = Field(default_factory=dict, max_length=200)
    feature_flags: dict[FlagName, bool | None] = Field(default_factory=dict, max_length=500)
    expected_revision: int | None = Field(default=None, ge=1)
    # How many other engines must approve a promotion into it (0: none; 1 recommended for production).
    approvals_required: int | None = Field(default=None, ge=0, le=MAX_APPROVALS)


class EnvConfigResponse(BaseModel):
    status: Literal["updated", "unchanged"]
    changes: Change
    environment: EnvironmentView


class EnvListResponse(BaseModel):
    project_id: str
    latest_version: str
    environments: list[EnvironmentView]


class HistoryEntryView(BaseModel):
    project_id: str
    env: str
    revision: int
    config_revision: int
    action: Action
    version: str | None
    previous_version: str | None
    source_env: str | None
    created_by: str
    timestamp: str
    changes: Change
    deployment_id: str | None
    gate_decision_id: str | None
    change_id: str | None = None
    approved_by: list[str] = []


class ChangeView(BaseModel):
    """A promotion waiting for (or past) its approvals: ``GET /env/{project_id}/changes``.

    ``events`` are its transitions (requested, each approval, and its outcome), oldest first.
    """

    change_id: str
    project_id: str
    environment: str
    kind: Literal["promote"]
    status: ChangeStatus
    requested_by: str
    requested_at: str
    expires_at: str
    version: str
    previous_version: str | None
    source_env: str | None
    diff_from_previous: PromotionDiff
    approvals_required: int
    approvals: list[Approval]
    events: list[ChangeEvent]
    reason: str | None = None
    reasons: list[str] = []
    result: dict[str, Any] | None = None


class PromotionPending(BaseModel):
    """202 of ``POST /env/promote`` into an environment that needs approvals: nothing changed yet."""

    status: Literal["pending_approval"] = "pending_approval"
    change_id: str
    version: str
    environment: str
    previous_version: str | None
    diff_from_previous: PromotionDiff
    approvals_required: int
    expires_at: str
    change: ChangeView


class ChangeListResponse(BaseModel):
    project_id: str
    changes: list[ChangeView]
    next_cursor: str | None = None


class ChangeRejectRequest(Request):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class EnvHistoryResponse(BaseModel):
    """``rollback_versions``: the versions ``POST /env/rollback`` takes this environment back to (newest first).
    ``change_requests``: its recent promotions that needed approvals, with their transitions (newest first)."""

    project_id: str
    env: str
    entries: list[HistoryEntryView]
    next_before: int | None
    rollback_versions: list[str] = []
    change_requests: list[ChangeView] = []


class VariableDiffEntry(BaseModel):
    name: str
    secret: bool
    source: str | None
    target: str | None


class VariableDiff(BaseModel):
    added: list[VariableDiffEntry] = []
    removed: list[VariableDiffEntry] = []
    changed: list[VariableDiffEntry] = []


class SecretPresence(BaseModel):
    """Secret variables by name and presence. ``values_compared`` is true only for a caller holding
    ``env:secrets``: then a secret whose values differ is also in ``variables.changed``; without it,
    no answer depends on a secret's value (compare is no oracle)."""

    only_in_source: list[str] = []
    only_in_target: list[str] = []
    in_both: list[str] = []
    values_compared: bool = False


class FlagDiffEntry(BaseModel):
    name: str
    source: bool | None
    target: bool | None


class CompareVersions(VersionDiff):
    source: str | None
    target: str | None
    versions_apart: int


class EnvCompareResponse(BaseModel):
    project_id: str
    source: str
    target: str
    variables: VariableDiff
    secrets: SecretPresence
    feature_flags: list[FlagDiffEntry]
    version: CompareVersions


class SweepResult(BaseModel):
    removed: list[str]
    secrets_deleted: int


# --- the read path for engines -------------------------------------------------------------


class VersionView(BaseModel):
    """``GET /env/{project_id}/versions/{label}``: an immutable version, its state and metadata."""

    project_id: str
    label: str
    sequence: int
    content_hash: str
    published_into: str
    created_at: str
    created_by: str
    entities: list[str]
    flows: dict[str, str]
    feature_flags: dict[str, bool]
    state: dict[str, Any]


class ResolvedView(BaseModel):
    """``GET /env/{project_id}/{environment}/resolved``: what an engine should run there now."""

    project_id: str
    environment: str
    version: str | None
    revision: int
    config_revision: int
    updated_at: str
    updated_by: str
    secrets: Literal["revealed", "masked"]
    variables: dict[str, VariableView]
    feature_flags: dict[str, bool]
    state: dict[str, Any] | None


class DeploymentView(BaseModel):
    """``GET /env/{project_id}/{environment}/deployment``: the environment's latest deployment."""

    deployment_id: str
    project_id: str
    environment: str
    action: Action
    version: str
    previous_version: str | None
    source_env: str | None
    actor: str
    created_at: str
    state: DeploymentState
    bake_seconds: int | None
    bake_ends_at: str | None
    finished_at: str | None
    reason: str | None
    decisions: list[BakeDecision]
    rollback_deployment_id: str | None
    rolled_back_from: str | None
    alert_id: str | None


class WatchSummary(BaseModel):
    """What one tick of the deployment watch did."""

    judged: int = 0
    healthy: list[str] = []
    rolled_back: list[str] = []
    cancelled: list[str] = []
    no_signal: list[str] = []
    failed: list[str] = []
