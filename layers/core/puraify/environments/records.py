"""The Environment Manager's stored shapes: projects, environments, versions, history and deployments.

The id and name types and the limits here are also the API's (``models.py`` imports them).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator


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
    approvals_required: int | None = None  # set when a config change sets it


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
    change_id: str | None = None  # the approved change request this promotion applied
    approved_by: list[str] = []


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
    # Versions a rollback took this environment away from (label -> who, when): never a rollback target
    # again, until a promotion or a publish brings the version back through the gate.
    rolled_back: dict[str, str] = {}
    secret_names: list[str] = []
    approvals_required: int = 0  # approvals a promotion into it needs (0: none)
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


# --- change requests (promotions waiting for approval) ----------------------------------------

ChangeStatus = Literal["pending", "applying", "applied", "denied", "rejected", "expired", "failed"]
FINAL = frozenset({"applied", "denied", "rejected", "expired", "failed"})
MAX_APPROVALS = 5


class Approval(BaseModel):
    engine_id: str
    at: str


class ChangeEvent(BaseModel):
    """One transition of a change request: who moved it to ``status``, when, and why."""

    status: ChangeStatus | Literal["approved"]
    by: str
    at: str
    reason: str | None = None


class ChangeRecord(BaseModel):
    """A promotion into an environment that needs approvals, from its request to its outcome.

    ``seq`` advances with every write: each write is conditional on the one it read, so two approvals
    racing cannot both count, nor both apply the promotion.
    """

    change_id: str
    project_id: str
    environment: str
    kind: Literal["promote"] = "promote"
    status: ChangeStatus = "pending"
    seq: int = 1
    requested_by: str
    requested_at: str
    request_id: str = ""
    expires_epoch: float
    request: dict[str, Any]  # the promotion's body (EnvPromoteRequest)
    version: str
    previous_version: str | None = None
    diff_from_previous: dict[str, Any] = {}
    approvals_required: int
    approvals: list[Approval] = []
    events: list[ChangeEvent] = []
    reason: str | None = None  # why it was rejected, denied or failed
    reasons: list[str] = []  # the gate's reasons (denied)
    result: dict[str, Any] | None = None  # the promotion's answer (applied)

    def status_at(self, at: float) -> ChangeStatus:
        """Its status as read at ``at``: a pending change past its expiry reads ``expired``."""
        return "expired" if self.status == "pending" and at >= self.expires_epoch else self.status
