"""The Planning Engine's records and its API's request and response bodies (the public contract)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from puraify.contract import Request

ProjectId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
DeploymentId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
EnvironmentName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$")]
Revision = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Entrypoint = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]*(/[a-z_][a-z0-9_]*)+$")]
BundleFileName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}\.rego$|^data\.json$")]
Outcome = Literal["allow", "deny", "pause"]


class Fact(BaseModel):
    """One observation of the system: ``value`` as seen at ``timestamp`` (epoch seconds).

    ``error`` is set instead of a value when the provider failed, hung or is not available.
    """

    id: str
    value: Any = None
    timestamp: float | None = None
    error: str | None = None
    source: str = ""


class Snapshot(BaseModel):
    """The facts ``collect`` stored, with when they were collected and when the record expires."""

    scope: str
    collected_at: float
    facts: dict[str, Fact]
    expires_at: int


class FactView(BaseModel):
    """A fact as a decision used it: its value, how old it was, and whether it was usable."""

    value: Any = None
    timestamp: str | None = None
    age_seconds: float | None = None
    max_age_seconds: float
    stale: bool
    error: str | None = None
    source: str = ""


class PolicyRef(BaseModel):
    # None when no bundle was active (a fail-safe decision); the store drops None attributes.
    revision: str | None = None
    sha256: str | None = None


VersionLabel = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Phase = Literal["pre_deploy", "post_deploy", "rollback"]


class Bake(Request):
    """A post_deploy decision's bake: when the deployment started (epoch seconds) and how long it bakes."""

    started_at: float = Field(ge=0, allow_inf_nan=False)
    bake_seconds: int = Field(ge=1, le=7 * 86400)


class RollbackInput(Request):
    """A rollback decision's subject: the version it leaves, and whether its target is known-good (a
    version the environment ran before its current one that no rollback left) or was forced by an admin."""

    from_version: VersionLabel | None = None
    known_good: bool
    forced: bool = False


class PlanDecideRequest(Request):
    """``pre_deploy`` (default): may the deployment go ahead; ``version`` is judged by its health in
    ``source_env`` (default: ``environment``). ``post_deploy``: may the deployed version stay (the
    deployment watch asks this during a bake; ``bake`` is then required). ``rollback``: may the
    environment go back to ``version`` (``rollback`` is then required)."""

    deployment_id: DeploymentId
    environment: EnvironmentName
    project_id: ProjectId
    version: VersionLabel | None = None
    phase: Phase = "pre_deploy"
    source_env: EnvironmentName | None = None
    baseline_version: VersionLabel | None = None
    bake: Bake | None = None
    rollback: RollbackInput | None = None

    @model_validator(mode="after")
    def _phase_needs_its_input(self) -> PlanDecideRequest:
        if self.phase == "post_deploy" and (self.bake is None or self.version is None):
            raise ValueError("a post_deploy decision needs version and bake")
        if self.phase == "rollback" and (self.rollback is None or self.version is None):
            raise ValueError("a rollback decision needs version and rollback")
        return self


class PlanDecideResponse(BaseModel):
    decision_id: str
    allow: bool
    outcome: Outcome
    deny_reasons: list[str]
    fail_safe: bool
    deployment_id: str
    project_id: str
    environment: str
    policy: PolicyRef
    config_revision: str
    facts: dict[str, FactView]
    evaluated_at: str
    eval_duration_ms: float
    phase: Phase = "pre_deploy"
    verdict: str | None = None
    notes: list[str] = []


class DecisionListResponse(BaseModel):
    decisions: list[PlanDecideResponse]
    next_cursor: str | None = None


class FactsResponse(BaseModel):
    scope: str
    collected_at: str | None
    max_age_seconds: float
    stale: bool
    facts: dict[str, FactView]


class RejectedBundle(BaseModel):
    revision: str | None
    reason: str
    rejected_at: str


class PolicyStatusResponse(BaseModel):
    revision: str | None
    sha256: str | None
    entrypoint: str | None
    loaded_at: str | None
    checked_at: str | None
    poll_seconds: float
    files: dict[str, str] = {}
    last_rejected: RejectedBundle | None = None


class PolicyPutRequest(Request):
    """A bundle as JSON: ``files`` maps each ``.rego`` file (and ``data.json``) to its text."""

    revision: Revision
    entrypoint: Entrypoint = "gate/decision"
    files: dict[BundleFileName, Annotated[str, StringConstraints(max_length=128 * 1024)]] = Field(
        min_length=1, max_length=32
    )


class PolicyPutResponse(BaseModel):
    revision: str
    sha256: str
    entrypoint: str
    files: dict[str, str]
    published_at: str
    created: bool


class PromotionGate(BaseModel):
    """The Environment Manager's view of a decision: may this promotion proceed."""

    model_config = ConfigDict(frozen=True)

    allow: bool
    reasons: list[str]
    decision_id: str


class PostDeployJudgement(BaseModel):
    """The deployment watch's view of a post_deploy decision: what to do with the deployed version."""

    model_config = ConfigDict(frozen=True)

    verdict: str
    reasons: list[str]
    notes: list[str]
    decision_id: str
    candidate: dict[str, Any] | None
    baseline: dict[str, Any] | None
