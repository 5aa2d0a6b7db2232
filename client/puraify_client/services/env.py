"""``cp.env``: environments per project, immutable versions, promotion, rollback and diffs.

Changes (publish, create, promote, rollback, config) are never retried once sent: a promotion
whose answer was lost may have happened, and repeating it could promote twice. Reads are.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from puraify_client.models import Request, Response
from puraify_client.services.base import Service, register, segment
from puraify_client.transport import SAFE, UNSAFE


class VersionPublishRequest(Request):
    project_id: str
    environment: str = "development"
    state: dict[str, Any]
    label: str | None = None


class VersionResponse(Response):
    project_id: str | None = None
    version: str | None = None


class EnvCreateRequest(Request):
    project_id: str
    new_environment: str
    base_from: str | None = None
    env_variables: dict[str, str] = Field(default_factory=dict)
    preview: bool | None = None
    ttl_hours: int | None = Field(default=None, ge=1, le=720)


class EnvCreateResponse(Response):
    status: str
    env: str
    linked_version: str | None = None
    url: str | None = None


class EnvPromoteRequest(Request):
    project_id: str
    source_env: str
    target_env: str


class VersionDiff(Response):
    entities_added: list[str] = []
    entities_removed: list[str] = []
    logic_changed: int = 0
    env_updated: list[str] = []


class EnvPromoteResponse(Response):
    status: str
    version: str
    environment: str
    diff_from_previous: VersionDiff = VersionDiff()


class EnvRollbackRequest(Request):
    project_id: str
    environment: str
    version: str


class EnvState(Response):
    """The state of one environment after a change (version, configuration revision, ...)."""

    version: str | None = None
    environment: str | None = None
    env: str | None = None


class EnvCompareResponse(Response):
    pass


class EnvListResponse(Response):
    project_id: str | None = None
    environments: list[dict[str, Any]] = []


class HistoryEntry(Response):
    project_id: str | None = None
    env: str | None = None
    version: str | None = None
    created_by: str | None = None
    timestamp: str | None = None
    changes: dict[str, Any] = {}


class EnvHistoryResponse(Response):
    history: list[HistoryEntry] = []
    next_cursor: str | None = None


class EnvConfigRequest(Request):
    variables: dict[str, str | None] | None = None
    flags: dict[str, bool] | None = None


@register
class Environments(Service):
    name = "env"

    async def publish_version(
        self, project_id: str, state: dict[str, Any], *, environment: str = "development", label: str | None = None
    ) -> VersionResponse:
        """Snapshot a platform state as a new immutable version in ``environment``."""
        body = VersionPublishRequest(project_id=project_id, environment=environment, state=state, label=label)
        return await self.transport.call("POST", "/env/versions", VersionResponse, safety=UNSAFE, body=body)

    async def create(
        self,
        project_id: str,
        new_environment: str,
        *,
        base_from: str | None = None,
        env_variables: dict[str, str] | None = None,
        preview: bool | None = None,
        ttl_hours: int | None = None,
    ) -> EnvCreateResponse:
        """Create an environment from ``base_from``'s version and configuration, overlaid with variables."""
        body = EnvCreateRequest(
            project_id=project_id,
            new_environment=new_environment,
            base_from=base_from,
            env_variables=env_variables or {},
            preview=preview,
            ttl_hours=ttl_hours,
        )
        return await self.transport.call("POST", "/env/create", EnvCreateResponse, safety=UNSAFE, body=body)

    async def promote(self, project_id: str, source_env: str, target_env: str) -> EnvPromoteResponse:
        """Point ``target_env`` at ``source_env``'s version; the answer says what changed."""
        body = EnvPromoteRequest(project_id=project_id, source_env=source_env, target_env=target_env)
        return await self.transport.call("POST", "/env/promote", EnvPromoteResponse, safety=UNSAFE, body=body)

    async def rollback(self, project_id: str, environment: str, version: str) -> EnvState:
        """Put an environment's pointer and configuration back to what they were at ``version``."""
        body = EnvRollbackRequest(project_id=project_id, environment=environment, version=version)
        return await self.transport.call("POST", "/env/rollback", EnvState, safety=UNSAFE, body=body)

    async def compare(self, project_id: str, source: str, target: str) -> EnvCompareResponse:
        """Variables, flags and version differences between two environments (secrets masked)."""
        params = {"project_id": project_id, "source": source, "target": target}
        return await self.transport.call("GET", "/env/compare", EnvCompareResponse, safety=SAFE, params=params)

    async def list(self, project_id: str) -> EnvListResponse:
        """A project's environments with their version, configuration revision and times."""
        return await self.transport.call("GET", f"/env/{segment(project_id)}", EnvListResponse, safety=SAFE)

    async def history(self, project_id: str, environment: str) -> EnvHistoryResponse:
        """Every pointer and configuration change of one environment."""
        path = f"/env/{segment(project_id)}/{segment(environment)}/history"
        return await self.transport.call("GET", path, EnvHistoryResponse, safety=SAFE)

    async def set_config(
        self,
        project_id: str,
        environment: str,
        *,
        variables: dict[str, str | None] | None = None,
        flags: dict[str, bool] | None = None,
    ) -> EnvState:
        """Change variables or flags: a new configuration revision in the history."""
        path = f"/env/{segment(project_id)}/{segment(environment)}/config"
        body = EnvConfigRequest(variables=variables, flags=flags)
        return await self.transport.call("PUT", path, EnvState, safety=UNSAFE, body=body)
