"""``cp.plan``: deployment decisions against Rego policies, their audit, facts, and bundles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from puraify_client.models import Request, Response
from puraify_client.services.base import Service, paginate, register
from puraify_client.transport import SAFE, UNSAFE


class DecideRequest(Request):
    deployment_id: str
    environment: str
    project_id: str


class PolicyRef(Response):
    revision: str | None = None
    sha256: str | None = None


class DecisionResponse(Response):
    decision_id: str
    allow: bool
    deny_reasons: list[str] = []
    policy: PolicyRef = PolicyRef()
    facts: dict[str, Any] = {}
    evaluated_at: str | None = None
    eval_duration_ms: float | None = None
    deployment_id: str | None = None
    project_id: str | None = None
    environment: str | None = None


class DecisionsPage(Response):
    decisions: list[DecisionResponse] = []
    next_cursor: str | None = None


class FactsResponse(Response):
    facts: dict[str, Any] | list[Any] = {}


class PolicyResponse(Response):
    revision: str | None = None
    sha256: str | None = None


class BundlePublishRequest(Request):
    files: dict[str, str]
    revision: str | None = None


BUNDLE_SUFFIXES = (".rego", ".json")


def bundle_files(folder: Path) -> list[tuple[str, Path]]:
    """The files of a bundle folder (``.rego`` and ``.json``, tests excluded) by their relative names."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in BUNDLE_SUFFIXES and not path.stem.endswith("_test"):
            found.append((path.relative_to(folder).as_posix(), path))
    return found


@register
class Plan(Service):
    name = "plan"

    async def decide(self, deployment_id: str, environment: str, project_id: str) -> DecisionResponse:
        """May this deployment go to ``environment`` now? A repeat only adds an audit record, so it is retried."""
        body = DecideRequest(deployment_id=deployment_id, environment=environment, project_id=project_id)
        return await self.transport.call("POST", "/plan/decide", DecisionResponse, safety=SAFE, body=body)

    async def decisions(
        self,
        *,
        deployment_id: str | None = None,
        project_id: str | None = None,
        since: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> DecisionsPage:
        """One page of the decision audit, newest first."""
        params = {
            "deployment_id": deployment_id,
            "project_id": project_id,
            "since": since,
            "limit": limit,
            "cursor": cursor,
        }
        return await self.transport.call("GET", "/plan/decisions", DecisionsPage, safety=SAFE, params=params)

    def iter_decisions(self, **filters: Any) -> AsyncIterator[DecisionResponse]:
        """Every matching decision, newest first, page after page."""
        return paginate(lambda cursor: self.decisions(cursor=cursor, **filters), "decisions")

    async def facts(self) -> FactsResponse:
        """The latest fact snapshot with each fact's age and staleness."""
        return await self.transport.call("GET", "/plan/facts", FactsResponse, safety=SAFE)

    async def policy(self) -> PolicyResponse:
        """The active bundle's revision and digest, and the last rejected bundle with its reason."""
        return await self.transport.call("GET", "/plan/policy", PolicyResponse, safety=SAFE)

    async def publish(self, files: dict[str, str], *, revision: str | None = None) -> PolicyResponse:
        """Publish a bundle from its files' text (admin); ``NotFoundError`` (route_not_found) if unsupported."""
        body = BundlePublishRequest(files=files, revision=revision)
        return await self.transport.call("POST", "/plan/policy", PolicyResponse, safety=UNSAFE, body=body)
