"""Read-only answers for other services: the Planning Engine's facts and Monitoring's timelines."""

from __future__ import annotations

from typing import Any

from puraify.environments import models as m
from puraify.environments.base import EnvironmentsBase


class Queries(EnvironmentsBase):
    def versions_behind(self, project_id: str, environment: str = "production", ahead: str = "staging") -> int | None:
        """How many versions ``environment`` lags ``ahead`` (0 when level or ahead); None if either is missing.

        Counted in publish order: ``ahead``'s version sequence minus ``environment``'s (an empty
        environment counts as sequence 0). One strongly consistent batch read.
        """
        _, found = self.store.load(project_id, [environment, ahead])
        behind, front = found.get(environment), found.get(ahead)
        if behind is None or front is None or not self.alive(behind) or not self.alive(front):
            return None
        return max(0, front.version_seq - behind.version_seq)

    def deployment_markers(
        self, project_id: str, environment: str | None = None, since: str = "", limit: int = 100
    ) -> list[dict[str, Any]]:
        """The project's (or one environment's) deployment markers since ``since`` (ISO), newest first.

        For Monitoring's ``GET /monitoring/deployments`` and audit timeline. One Query.
        """
        found = self.deployments.recent(project_id, environment, since, limit)
        return [m.DeploymentView.model_validate(d.model_dump()).model_dump(mode="json") for d in found]

    def deployment_states(self, project_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The latest deployment of each of the project's first ``limit`` environments (for ``GET /metrics``).

        ``[{"environment", "state", "version"}]``; an environment never deployed to is left out. One Query
        of the environments, then one (newest first, one item) per environment.
        """
        found = []
        for env in sorted(self.store.list_environments(project_id), key=lambda e: e.env)[:limit]:
            if not self.alive(env):
                continue
            latest = self.deployments.latest(project_id, env.env)
            if latest is not None:
                found.append({"environment": env.env, "state": latest.state, "version": latest.version})
        return found
