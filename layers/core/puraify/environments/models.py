"""Environment Manager's records and its API's request and response bodies (the public contract)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from puraify.engine_control.models import Request


def _not_reserved(value: str) -> str:
    if value == "compare":  # GET /env/compare is a route of its own
        raise ValueError("'compare' is reserved and cannot be a project id")
    return value


PROJECT_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
ENV_PATTERN = r"^[a-z0-9][a-z0-9-]{0,31}$"  # lowercase, digits and '-', at most 32
ProjectId = Annotated[str, StringConstraints(pattern=PROJECT_PATTERN), AfterValidator(_not_reserved)]


def _not_reserved_env(value: str) -> str:
    if value == "versions":  # GET /env/{project_id}/versions/{label} is a route of its own
        raise ValueError("'versions' is reserved and cannot be an environment name")
    return value


EnvName = Annotated[str, StringConstraints(pattern=ENV_PATTERN), AfterValidator(_not_reserved_env)]
Label = Annotated[str, StringConstraints(pattern=r"^v\d{1,6}\.\d{1,6}\.\d{1,6}$")]
VarName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
FlagName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
FlowId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
VarValue = Annotated[str, StringConstraints(max_length=4096, strip_whitespace=False)]

STANDARD = ("development", "staging", "production")
PRODUCTION = "production"
MASK = "********"
MAX_TTL_HOURS = 720
DEFAULT_TTL_HOURS = 72

_SECRET_NAME = re.compile(r"(_KEY|_TOKEN|_SECRET)$|PASSWORD", re.IGNORECASE)


def looks_secret(name: str) -> bool:
    """Whether a variable name alone makes it a secret (``*_KEY``, ``*_TOKEN``, ``*_SECRET``, ``*PASSWORD*``)."""
    return bool(_SECRET_NAME.search(name))


# --- platform state ----------------------------------------------------------------------


class EntitySpec(BaseModel):
    """An entity of the platform; only its name matters to versioning, the rest is kept as given."""

    model_config = ConfigDict(extra="allow")
    name: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class FlagSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: FlagName
    enabled: bool = True


class PlatformState(BaseModel):
    """What a version freezes. Unknown top-level keys are kept: the state belongs to the platform."""

    model_config = ConfigDict(extra="allow")
    entities: list[Annotated[str, StringConstraints(min_length=1, max_length=128)] | EntitySpec] = Field(
        default_factory=list, max_length=2000
    )
    flows: dict[FlowId, Any] = Field(default_factory=dict, max_length=2000)
    feature_flags: list[FlagName | FlagSpec] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _unique_entities(self) -> PlatformState:
        names = [e if isinstance(e, str) else e.name for e in self.entities]
        if len(set(names)) != len(names):
            raise ValueError("entity names must be unique")
        return self


class SecretInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: VarValue
    secret: bool = True


VariableInput = VarValue | SecretInput


# --- records kept in the store -----------------------------------------------------------


class Variable(BaseModel):
    """A configuration variable: a plain value, or a reference to a secret entry (never its value)."""

    secret: bool = False
    value: str | None = None
    secret_id: str | None = None
    secret_version: str | None = None


class Change(BaseModel):
    """What one history entry changed (names only, never values)."""

    flows_updated: int = 0
    entities_added: list[str] = []
    entities_removed: list[str] = []
    feature_flags: list[str] = []
    env_vars_changed: list[str] = []


Action = Literal["publish", "create", "promote", "rollback", "config"]


class LastChange(BaseModel):
    """The change that produced an environment's current revision (its history entry, minus the config)."""

    action: Action
    created_by: str
    timestamp: str
    changes: Change = Change()
    previous_version: str | None = None
    source_env: str | None = None
    deployment_id: str | None = None
    gate_decision_id: str | None = None
    request_id: str | None = None


class EnvironmentRecord(BaseModel):
    project_id: str
    env: str
    watch: str | None = None  # the key of the deployment being baked here, while it bakes
    version: str | None = None
    version_seq: int = 0
    version_hash: str | None = None
    version_flags: dict[str, bool] = {}
    revision: int = 1
    config_revision: int = 1
    variables: dict[str, Variable] = {}
    flags: dict[str, bool] = {}
    released: dict[str, str] = {}
    releases: dict[str, int] = {}
    secret_names: list[str] = []
    preview: bool = False
    expires_at: float | None = None
    base_from: str | None = None
    create_fingerprint: str | None = None
    created_at: str
    updated_at: str
    updated_by: str
    last_change: LastChange


class HistoryRecord(BaseModel):
    """One revision of an environment: the change, and the pointer and configuration it left behind."""

    project_id: str
    env: str
    revision: int
    config_revision: int
    version: str | None = None
    version_seq: int = 0
    variables: dict[str, Variable] = {}
    flags: dict[str, bool] = {}
    last_change: LastChange


class VersionRecord(BaseModel):
    project_id: str
    label: str
    seq: int
    content_hash: str
    entities: list[str] = []
    flows: dict[str, str] = {}
    flags: dict[str, bool] = {}
    state: dict[str, Any] | None = None
    environment: str
    created_at: str
    created_by: str


class ProjectRecord(BaseModel):
    project_id: str
    latest_label: str
    latest_seq: int
    latest_hash: str
    highest_label: str
    created_at: str
    updated_at: str


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
    project_id: ProjectId
    environment: EnvName
    version: Label
    expected_revision: int | None = Field(default=None, ge=1)


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


class EnvRollbackResponse(BaseModel):
    status: Literal["rolled_back", "unchanged"]
    previous_version: str | None
    environment: EnvironmentView
    deployment_id: str | None = None


class EnvConfigRequest(Request):
    """A merge patch: a variable or flag set to ``null`` is removed."""

    env_variables: dict[VarName, VariableInput | None] = Field(default_factory=dict, max_length=200)
    feature_flags: dict[FlagName, bool | None] = Field(default_factory=dict, max_length=500)
    expected_revision: int | None = Field(default=None, ge=1)


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


class EnvHistoryResponse(BaseModel):
    project_id: str
    env: str
    entries: list[HistoryEntryView]
    next_before: int | None


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


# --- deployments (markers, and the watch of a bake) ------------------------------------------

DeploymentState = Literal["deployed", "baking", "healthy", "rolled_back", "cancelled", "no_signal", "failed"]
Verdict = Literal["continue", "healthy", "rollback", "no_signal", "undecided"]
VERDICTS = frozenset({"continue", "healthy", "rollback", "no_signal", "undecided"})


class BakeDecision(BaseModel):
    """One judgement of a bake by the Planning Engine's post_deploy rule."""

    decision_id: str
    at: str
    verdict: Verdict
    reasons: list[str] = []
    notes: list[str] = []
    candidate: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None


class DeploymentRecord(BaseModel):
    """A version arriving in an environment (publish, promotion, rollback, creation from a base).

    ``deployed`` is a marker only; a promotion with a bake starts ``baking`` and ends ``healthy``,
    ``rolled_back``, ``no_signal``, ``cancelled`` (the environment changed during the bake) or
    ``failed`` (judged unhealthy with no previous version to roll back to).
    """

    deployment_id: str
    project_id: str
    environment: str
    action: Action
    version: str
    previous_version: str | None = None
    source_env: str | None = None
    actor: str
    created_at: str
    started_epoch: float
    revision: int
    state: DeploymentState = "deployed"
    bake_seconds: int | None = None
    bake_ends_at: str | None = None
    finished_at: str | None = None
    reason: str | None = None
    decisions: list[BakeDecision] = []
    checks: int = 0
    rollback_deployment_id: str | None = None
    rolled_back_from: str | None = None  # on an automatic rollback's marker: the deployment it undid
    alert_id: str | None = None
    expires_at: int = 0

    @property
    def key(self) -> str:
        """Its sort key in the project: one environment's deployments are one prefix, in time order."""
        return f"{self.environment}#{self.created_at}#{self.deployment_id}"


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
