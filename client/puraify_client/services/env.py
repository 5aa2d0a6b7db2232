"""``cp.env``: environments per project, immutable versions, promotion, rollback and diffs.

Changes (publish, create, promote, rollback, config) are never retried once sent: a promotion
whose answer was lost may have happened, and repeating it could move the target again after
someone else changed it. Pass ``expected_revision`` to make a change conditional: it then fails
with ``ConflictError`` (409, carrying the current revision) instead of applying on top of someone
else's change. Reads are retried.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pydantic import Field

from puraify_client.models import Request, Response
from puraify_client.services.base import Service, paginate, register, segment
from puraify_client.transport import SAFE, UNSAFE


class SecretInput(Request):
    """A variable value to store as a secret even though its name does not look like one."""

    value: str
    secret: bool = True


VariableInput = str | SecretInput


class VersionPublishRequest(Request):
    project_id: str
    environment: str = "development"
    state: dict[str, Any]
    label: str | None = None


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
    project_id: str
    new_environment: str
    base_from: str | None = None
    env_variables: dict[str, VariableInput] = Field(default_factory=dict)
    feature_flags: dict[str, bool] = Field(default_factory=dict)
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
    project_id: str
    source_env: str
    target_env: str
    expected_revision: int | None = Field(default=None, ge=1)


class PromotionDiff(VersionDiff):
    env_updated: list[str] = []


class EnvPromoteResponse(Response):
    status: str
    version: str
    environment: str
    previous_version: str | None = None
    diff_from_previous: PromotionDiff = PromotionDiff()
    revision: int | None = None


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


class EnvRollbackRequest(Request):
    project_id: str
    environment: str
    version: str
    expected_revision: int | None = Field(default=None, ge=1)


class EnvRollbackResponse(Response):
    status: str
    previous_version: str | None = None
    environment: EnvironmentView


class EnvConfigRequest(Request):
    """A merge patch: a variable or flag set to ``None`` is removed."""

    env_variables: dict[str, VariableInput | None] = Field(default_factory=dict)
    feature_flags: dict[str, bool | None] = Field(default_factory=dict)
    expected_revision: int | None = Field(default=None, ge=1)


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


class EnvHistoryResponse(Response):
    project_id: str | None = None
    env: str | None = None
    entries: list[HistoryEntry]
    next_before: int | None = None


class VariableDiffEntry(Response):
    name: str
    secret: bool = False
    source: str | None = None
    target: str | None = None


class VariableDiff(Response):
    added: list[VariableDiffEntry] = []
    removed: list[VariableDiffEntry] = []
    changed: list[VariableDiffEntry] = []


class FlagDiffEntry(Response):
    name: str
    source: bool | None = None
    target: bool | None = None


class CompareVersions(VersionDiff):
    source: str | None = None
    target: str | None = None
    versions_apart: int | None = None


class EnvCompareResponse(Response):
    project_id: str
    source: str
    target: str
    variables: VariableDiff = VariableDiff()
    feature_flags: list[FlagDiffEntry] = []
    version: CompareVersions = CompareVersions()


@register
class Environments(Service):
    name = "env"

    async def publish_version(
        self, project_id: str, state: dict[str, Any], *, environment: str = "development", label: str | None = None
    ) -> VersionPublishResponse:
        """Snapshot a platform state (entities, flows, feature_flags) as a new immutable version."""
        body = VersionPublishRequest(project_id=project_id, environment=environment, state=state, label=label)
        return await self.transport.call("POST", "/env/versions", VersionPublishResponse, safety=UNSAFE, body=body)

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
        return await self.transport.call("POST", "/env/create", EnvCreateResponse, safety=UNSAFE, body=body)

    async def promote(
        self, project_id: str, source_env: str, target_env: str, *, expected_revision: int | None = None
    ) -> EnvPromoteResponse:
        """Point ``target_env`` at ``source_env``'s version; the answer says what changed."""
        body = EnvPromoteRequest(
            project_id=project_id, source_env=source_env, target_env=target_env, expected_revision=expected_revision
        )
        return await self.transport.call("POST", "/env/promote", EnvPromoteResponse, safety=UNSAFE, body=body)

    async def rollback(
        self, project_id: str, environment: str, version: str, *, expected_revision: int | None = None
    ) -> EnvRollbackResponse:
        """Put an environment's pointer and configuration back to what they were at ``version``."""
        body = EnvRollbackRequest(
            project_id=project_id, environment=environment, version=version, expected_revision=expected_revision
        )
        return await self.transport.call("POST", "/env/rollback", EnvRollbackResponse, safety=UNSAFE, body=body)

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
    ) -> EnvConfigResponse:
        """Change variables or flags (``None`` removes one): a new configuration revision in the history."""
        path = f"/env/{segment(project_id)}/{segment(environment)}/config"
        body = EnvConfigRequest(
            env_variables=env_variables or {}, feature_flags=feature_flags or {}, expected_revision=expected_revision
        )
        return await self.transport.call("PUT", path, EnvConfigResponse, safety=UNSAFE, body=body)
