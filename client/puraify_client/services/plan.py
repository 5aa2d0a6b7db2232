"""``cp.plan``: deployment decisions against Rego policies, their audit, facts, and policy bundles."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from puraify_client.models import Request, Response
from puraify_client.services.base import Service, paginate, register
from puraify_client.transport import SAFE


class DecideRequest(Request):
    deployment_id: str
    environment: str
    project_id: str
    version: str | None = None


class PolicyRef(Response):
    revision: str | None = None
    sha256: str | None = None


class FactView(Response):
    value: Any = None
    timestamp: str | None = None
    age_seconds: float | None = None
    max_age_seconds: float | None = None
    stale: bool = False
    error: str | None = None
    source: str = ""


class DecisionResponse(Response):
    decision_id: str
    allow: bool
    outcome: str | None = None
    deny_reasons: list[str] = []
    fail_safe: bool = False
    deployment_id: str | None = None
    project_id: str | None = None
    environment: str | None = None
    policy: PolicyRef = PolicyRef()
    config_revision: str | None = None
    facts: dict[str, FactView] = {}
    evaluated_at: str | None = None
    eval_duration_ms: float | None = None


class DecisionsPage(Response):
    decisions: list[DecisionResponse]
    next_cursor: str | None = None


class FactsResponse(Response):
    scope: str | None = None
    collected_at: str | None = None
    max_age_seconds: float | None = None
    stale: bool = False
    facts: dict[str, FactView] = {}


class RejectedBundle(Response):
    revision: str | None = None
    reason: str
    rejected_at: str | None = None


class PolicyStatusResponse(Response):
    revision: str | None = None
    sha256: str | None = None
    entrypoint: str | None = None
    loaded_at: str | None = None
    checked_at: str | None = None
    files: dict[str, str] = {}
    last_rejected: RejectedBundle | None = None


Revision = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Entrypoint = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]*(/[a-z_][a-z0-9_]*)+$")]
BundleFileName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}\.rego$|^data\.json$")]


class PolicyPutRequest(Request):
    revision: Revision
    entrypoint: Entrypoint = "gate/decision"
    files: dict[BundleFileName, Annotated[str, StringConstraints(max_length=128 * 1024)]] = Field(
        min_length=1, max_length=32
    )


class PolicyPutResponse(Response):
    revision: str
    sha256: str
    entrypoint: str
    files: dict[str, str] = {}
    published_at: str | None = None
    created: bool


DATA_FILE = "data.json"
FOLDER_META = "bundle.json"


@dataclass
class Bundle:
    """A bundle read from a folder: what ``plan.publish`` sends."""

    files: dict[str, str]
    revision: str
    entrypoint: str


def bundle_paths(folder: Path) -> list[Path]:
    """A bundle folder's files: every ``*.rego`` except ``*_test.rego``, and ``data.json``."""
    return [
        path
        for path in sorted(folder.iterdir())
        if path.is_file() and ((path.suffix == ".rego" and not path.stem.endswith("_test")) or path.name == DATA_FILE)
    ]


def read_bundle(folder: Path, texts: dict[str, str], revision: str | None = None) -> Bundle:
    """The bundle of ``folder`` from its files' ``texts``; the revision is the argument, else ``bundle.json``'s,
    else ``sha-`` and the first 12 hex digits of the content digest (so the same content is the same revision)."""
    meta_path = folder / FOLDER_META
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    digests = "".join(f"{name}\0{hashlib.sha256(text.encode()).hexdigest()}\n" for name, text in sorted(texts.items()))
    chosen = revision or meta.get("revision") or f"sha-{hashlib.sha256(digests.encode()).hexdigest()[:12]}"
    return Bundle(files=texts, revision=chosen, entrypoint=meta.get("entrypoint", "gate/decision"))


@register
class Plan(Service):
    name = "plan"

    async def decide(
        self, deployment_id: str, environment: str, project_id: str, *, version: str | None = None
    ) -> DecisionResponse:
        """May this deployment go to ``environment`` now? A repeat only adds an audit record, so it is retried."""
        body = DecideRequest(
            deployment_id=deployment_id, environment=environment, project_id=project_id, version=version
        )
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
        """One page of the decision audit, newest first (give ``deployment_id`` or ``project_id``)."""
        params = {
            "deployment_id": deployment_id,
            "project_id": project_id,
            "since": since,
            "limit": limit,
            "cursor": cursor,
        }
        return await self.transport.call("GET", "/plan/decisions", DecisionsPage, safety=SAFE, params=params)

    def iter_decisions(self, **filters: Any) -> AsyncIterator[DecisionResponse]:
        """Every matching decision, newest first, following ``next_cursor`` when the server pages."""
        return paginate(lambda cursor: self.decisions(cursor=cursor, **filters), "decisions")

    async def facts(self) -> FactsResponse:
        """The latest fact snapshot with each fact's age and staleness."""
        return await self.transport.call("GET", "/plan/facts", FactsResponse, safety=SAFE)

    async def policy(self) -> PolicyStatusResponse:
        """The active bundle's revision, digest and load time, and the last rejected bundle with its reason."""
        return await self.transport.call("GET", "/plan/policy", PolicyStatusResponse, safety=SAFE)

    async def publish(self, bundle: Bundle) -> PolicyPutResponse:
        """Publish a bundle and make it active (admin). A PUT of a revision is idempotent (same content:
        ``created`` false; other content: ``ConflictError``), so it is retried. A bundle that would not
        compile is a ``ValidationError`` (422, ``bundle_rejected``)."""
        body = PolicyPutRequest(revision=bundle.revision, entrypoint=bundle.entrypoint, files=bundle.files)
        return await self.transport.call("PUT", "/plan/policy", PolicyPutResponse, safety=SAFE, body=body)
