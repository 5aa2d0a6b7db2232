"""``cp.env``: environments per project, immutable versions, promotion, rollback and diffs.

Publish, create, promote and rollback carry an ``Idempotency-Key`` and are retried with it: the
control plane runs each at most once per key, so a retry after a lost answer gets the first
answer instead of moving the target again. ``set_config`` (a PUT) is not retried once sent.
Pass ``expected_revision`` to make a change conditional: it then fails with ``ConflictError``
(409, carrying the current revision) instead of applying on top of someone else's change.
Reads are retried.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, TypeAlias

from pydantic import Field

from puraify_client.models import Request, Response
from puraify_client.services.base import paginate, register, segment
from puraify_client.services.changes import Change, ChangeRequests
from puraify_client.transport import IDEMPOTENT, SAFE, UNSAFE
from puraify_client.types import (
    MAX_BAKE_SECONDS,
    EnvName,
    FlagName,
    PlatformState,
    ProjectId,
    RollbackReason,
    VarName,
    VarValue,
    VersionLabel,
)


class SecretInput(Request):
    """A variable value to store as a secret even though its name does not look like one."""

    value: VarValue
    secret: bool = True


VariableInput: TypeAlias = VarValue | SecretInput


class VersionPublishRequest(Request):
    project_id: ProjectId
    environment: EnvName = "development"
    state: PlatformState
    label: VersionLabel | None = None


class VersionDiff(Response):
    entities_added: list[str] = []
    entities_removed: list[str] = []
    logic_changed: int = 0


class VersionPublishResponse(Response):
    project_id: str
    environment: str
    version: str
    created: bool = True
    previous_version: str | None = None
    changes: VersionDiff = VersionDiff()


class EnvCreateRequest(Request):
    project_id: ProjectId
    new_environment: EnvName
    base_from: EnvName | None = None
    env_variables: dict[VarName, VariableInput] = Field(default_factory=dict, max_length=200)
    feature_flags: dict[FlagName, bool] = Field(default_factory=dict, max_length=500)
    preview: bool = False
    ttl_hours: int | None = Field(default=None, ge=1, le=720)


class VariableView(Response):
    value: str
    secret: bool = False


class EnvCreateResponse(Response):
    status: str
    env: str
    linked_version: str | None = None
    url: str | None = None
    preview: bool = False
    expires_at: str | None = None
    variables: dict[str, VariableView] = {}
    feature_flags: dict[str, bool] = {}


class EnvPromoteRequest(Request):
    project_id: ProjectId
    source_env: EnvName
    target_env: EnvName
    expected_revision: int | None = Field(default=None, ge=1)
    bake_seconds: int | None = Field(default=None, ge=0, le=MAX_BAKE_SECONDS)


class PromotionDiff(VersionDiff):
    env_updated: list[str] = []


class BakeView(Response):
    deployment_id: str
    bake_seconds: int
    bake_ends_at: str


class EnvPromoteResponse(Response):
    status: str
    version: str
    environment: str
    previous_version: str | None = None
    diff_from_previous: PromotionDiff = PromotionDiff()
    revision: int | None = None
    deployment_id: str | None = None
    bake: BakeView | None = None
    gate: GateView | None = None
    # status "pending_approval": the target needs approvals; nothing changed yet (cp.env.wait_for_change)
    change_id: str | None = None
    approvals_required: int | None = None
    expires_at: str | None = None
    change: Change | None = None


class EnvironmentView(Response):
    project_id: str | None = None
    env: str
    version: str | None = None
    revision: int | None = None
    config_revision: int | None = None
    preview: bool = False
    url: str | None = None
    updated_at: str | None = None
    updated_by: str | None = None
    expires_at: str | None = None
    variables: dict[str, VariableView] = {}
    feature_flags: dict[str, bool] = {}
    approvals_required: int = 0


class EnvRollbackRequest(Request):
    project_id: ProjectId
    environment: EnvName
    version: VersionLabel
    expected_revision: int | None = Field(default=None, ge=1)
    force: bool | None = None
    reason: RollbackReason | None = None


class GateView(Response):
    """The gate decision a change passed: its id, and its notes (e.g. "no signal" on the promoted version)."""

    decision_id: str
    reasons: list[str] = []


class EnvRollbackResponse(Response):
    status: str
    previous_version: str | None = None
    environment: EnvironmentView
    deployment_id: str | None = None
    gate: GateView | None = None
    forced: bool = False


class EnvConfigRequest(Request):
    """A merge patch: a variable or flag set to ``None`` is removed."""

    env_variables: dict[VarName, VariableInput | None] = Field(default_factory=dict, max_length=200)
    feature_flags: dict[FlagName, bool | None] = Field(default_factory=dict, max_length=500)
    expected_revision: int | None = Field(default=None, ge=1)
    approvals_required: int | None = Field(default=None, ge=0, le=5)


class EnvConfigResponse(Response):
    status: str
    changes: dict[str, Any] = {}
    environment: EnvironmentView


class EnvListResponse(Response):
    project_id: str
    latest_version: str | None = None
    environments: list[EnvironmentView]


class HistoryEntry(Response):
    project_id: str | None = None
    env: str | None = None
    revision: int | None = None
    action: str | None = None
    version: str | None = None
    previous_version: str | None = None
    created_by: str | None = None
    timestamp: str | None = None
    changes: dict[str, Any] = {}
    change_id: str | None = None
    approved_by: list[str] = []


class EnvHistoryResponse(Response):
    project_id: str | None = None
    env: str | None = None
    entries: list[HistoryEntry]
    next_before: int | None = None
    rollback_versions: list[str] = []
    change_requests: list[Change] = []


class VariableDiffEntry(Response):
    name: str
    secret: bool = False
    source: str | None = None
    target: str | None = None


class VariableDiff(Response):
    added: list[VariableDiffEntry] = []
    removed: list[VariableDiffEntry] = []
    changed: list[VariableDiffEntry] = []


class SecretPresence(Response):
    """Secret variables by name and presence; their values were compared only for an engine with env:secrets."""

    only_in_source: list[str] = []
    only_in_target: list[str] = []
    in_both: list[str] = []
    values_compared: bool = False


class FlagDiffEntry(Response):
    name: str
    source: bool | None = None
    target: bool | None = None


class CompareVersions(VersionDiff):
    source: str | None = None
    target: str | None = None
    versions_apart: int | None = None


class VersionView(Response):
    """An immutable version: its state and metadata (``etag`` is the server's entity tag)."""

    project_id: str
    label: str
    sequence: int | None = None
    content_hash: str | None = None
    published_into: str | None = None
    created_at: str | None = None
    created_by: str | None = None
    entities: list[str] = []
    flows: dict[str, str] = {}
    feature_flags: dict[str, bool] = {}
    state: dict[str, Any] = {}
    etag: str | None = None


class ResolvedEnvironment(Response):
    """What should run in an environment: its version's state and its configuration."""

    project_id: str
    environment: str
    version: str | None = None
    revision: int | None = None
    config_revision: int | None = None
    updated_at: str | None = None
    updated_by: str | None = None
    secrets: str = "masked"
    variables: dict[str, VariableView] = {}
    feature_flags: dict[str, bool] = {}
    state: dict[str, Any] | None = None
    etag: str | None = None


class BakeDecision(Response):
    decision_id: str | None = None
    at: str | None = None
    verdict: str
    reasons: list[str] = []
    notes: list[str] = []
    candidate: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None


class Deployment(Response):
    """An environment's latest deployment: ``state`` is deployed, baking, healthy, rolled_back,
    cancelled, no_signal or failed; ``decisions`` are the watch's judgements of its bake."""

    deployment_id: str
    project_id: str
    environment: str
    action: str
    version: str
    previous_version: str | None = None
    actor: str | None = None
    created_at: str | None = None
    state: str
    bake_seconds: int | None = None
    bake_ends_at: str | None = None
    finished_at: str | None = None
    reason: str | None = None
    decisions: list[BakeDecision] = []
    rollback_deployment_id: str | None = None
    rolled_back_from: str | None = None
    alert_id: str | None = None

    @property
    def settled(self) -> bool:
        """Whether the watch is done with it (anything but ``baking``)."""
        return self.state != "baking"


class EnvCompareResponse(Response):
    project_id: str
    source: str
    target: str
    variables: VariableDiff = VariableDiff()
    secrets: SecretPresence = SecretPresence()
    feature_flags: list[FlagDiffEntry] = []
    version: CompareVersions = CompareVersions()


@register
class Environments(ChangeRequests):
    name = "env"

    async def publish_version(
        self,
        project_id: str,
        state: PlatformState | Mapping[str, Any],
        *,
        environment: str = "development",
        label: str | None = None,
    ) -> VersionPublishResponse:
        """Snapshot a platform state as a new immutable version.

        ``state`` is a ``PlatformState`` or a mapping of the same shape: ``entities`` (names or
        ``{"name": ...}``), ``flows`` (by id) and ``feature_flags``, a *list* of flag names or
        ``{"name": ..., "enabled": ...}``. A bad state raises ``InvalidArgumentError`` before sending.
        """
        body = VersionPublishRequest(project_id=project_id, environment=environment, state=state, label=label)
        return await self.transport.call("POST", "/env/versions", VersionPublishResponse, safety=IDEMPOTENT, body=body)

    async def create(
        self,
        project_id: str,
        new_environment: str,
        *,
        base_from: str | None = None,
        env_variables: dict[str, VariableInput] | None = None,
        feature_flags: dict[str, bool] | None = None,
        preview: bool = False,
        ttl_hours: int | None = None,
    ) -> EnvCreateResponse:
        """Create an environment from ``base_from``'s version and configuration, overlaid with variables."""
        body = EnvCreateRequest(
            project_id=project_id,
            new_environment=new_environment,
            base_from=base_from,
            env_variables=env_variables or {},
            feature_flags=feature_flags or {},
            preview=preview,
            ttl_hours=ttl_hours,
        )
        return await self.transport.call("POST", "/env/create", EnvCreateResponse, safety=IDEMPOTENT, body=body)

    async def promote(
        self,
        project_id: str,
        source_env: str,
        target_env: str,
        *,
        expected_revision: int | None = None,
        bake_seconds: int | None = None,
    ) -> EnvPromoteResponse:
        """Point ``target_env`` at ``source_env``'s version; the answer says what changed.

        Into a target with ``approvals_required`` the answer's ``status`` is ``pending_approval`` with a
        ``change_id``: nothing changed yet (``wait_for_change`` waits for the approvals' outcome).
        ``bake_seconds``: how long the deployment watch judges the new version (production bakes by
        default; 0 skips the watch).
        """
        body = EnvPromoteRequest(
            project_id=project_id,
            source_env=source_env,
            target_env=target_env,
            expected_revision=expected_revision,
            bake_seconds=bake_seconds,
        )
        return await self.transport.call("POST", "/env/promote", EnvPromoteResponse, safety=IDEMPOTENT, body=body)

    async def rollback(
        self,
        project_id: str,
        environment: str,
        version: str,
        *,
        expected_revision: int | None = None,
        force: bool = False,
        reason: str | None = None,
    ) -> EnvRollbackResponse:
        """Put an environment's pointer and configuration back to what they were at ``version``.

        Only back: ``version`` must be one it ran before its current one that no rollback left (else
        ``ConflictError`` ``not_a_rollback``, its details naming those that qualify, as does
        ``history(...).rollback_versions``). An admin may ``force`` another with a ``reason``.
        """
        body = EnvRollbackRequest(
            project_id=project_id,
            environment=environment,
            version=version,
            expected_revision=expected_revision,
            force=force or None,
            reason=reason,
        )
        return await self.transport.call("POST", "/env/rollback", EnvRollbackResponse, safety=IDEMPOTENT, body=body)

    async def compare(self, project_id: str, source: str, target: str) -> EnvCompareResponse:
        """Variables, flags and version differences between two environments (secrets masked)."""
        params = {"project_id": project_id, "source": source, "target": target}
        return await self.transport.call("GET", "/env/compare", EnvCompareResponse, safety=SAFE, params=params)

    async def list(self, project_id: str) -> EnvListResponse:
        """A project's environments with their version, configuration revision and times."""
        return await self.transport.call("GET", f"/env/{segment(project_id)}", EnvListResponse, safety=SAFE)

    async def history(
        self, project_id: str, environment: str, *, limit: int | None = None, before: int | None = None
    ) -> EnvHistoryResponse:
        """One page of an environment's changes, newest first; ``before`` pages to older revisions."""
        path = f"/env/{segment(project_id)}/{segment(environment)}/history"
        params = {"limit": limit, "before": before}
        return await self.transport.call("GET", path, EnvHistoryResponse, safety=SAFE, params=params)

    def iter_history(
        self, project_id: str, environment: str, *, page_size: int | None = None
    ) -> AsyncIterator[HistoryEntry]:
        """Every change of an environment, newest first, page after page."""
        return paginate(
            lambda before: self.history(project_id, environment, limit=page_size, before=before),
            "entries",
            cursor="next_before",
        )

    async def set_config(
        self,
        project_id: str,
        environment: str,
        *,
        env_variables: dict[str, VariableInput | None] | None = None,
        feature_flags: dict[str, bool | None] | None = None,
        expected_revision: int | None = None,
        approvals_required: int | None = None,
    ) -> EnvConfigResponse:
        """Change variables or flags (``None`` removes one), or how many engines must approve a promotion
        into it (``approvals_required``, 0-5; lowering it needs admin): a new revision in the history."""
        path = f"/env/{segment(project_id)}/{segment(environment)}/config"
        body = EnvConfigRequest(
            env_variables=env_variables or {},
            feature_flags=feature_flags or {},
            expected_revision=expected_revision,
            approvals_required=approvals_required,
        )
        return await self.transport.call("PUT", path, EnvConfigResponse, safety=UNSAFE, body=body)

    # --- the read path for engines, and deployments ------------------------------------------

    async def version(self, project_id: str, label: str, *, if_none_match: str | None = None) -> VersionView | None:
        """A version's state and metadata; ``None`` when ``if_none_match`` is still its entity tag."""
        path = f"/env/{segment(project_id)}/versions/{segment(label)}"
        found, etag = await self.transport.get_if_changed(path, VersionView, if_none_match)
        return found.model_copy(update={"etag": etag}) if found is not None else None

    async def resolved(
        self, project_id: str, environment: str, *, if_none_match: str | None = None
    ) -> ResolvedEnvironment | None:
        """The environment's version state and configuration (secret values only with ``env:secrets``).

        Poll with the last answer's ``etag`` as ``if_none_match``: ``None`` means nothing changed.
        """
        path = f"/env/{segment(project_id)}/{segment(environment)}/resolved"
        found, etag = await self.transport.get_if_changed(path, ResolvedEnvironment, if_none_match)
        return found.model_copy(update={"etag": etag}) if found is not None else None

    async def deployment(self, project_id: str, environment: str) -> Deployment:
        """The environment's latest deployment: its state, bake times and the watch's decisions."""
        path = f"/env/{segment(project_id)}/{segment(environment)}/deployment"
        return await self.transport.call("GET", path, Deployment, safety=SAFE)
