"""The read path for engines: a version by label, and an environment resolved to what should run.

Both answers carry an entity tag and are skipped when the caller already holds it (``If-None-Match``):
a poll that finds nothing new costs one small read. A version is immutable, so its tag is its
content hash; an environment's tag follows its revision, which every change of it advances.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from puraify.auth import Principal
from puraify.environments import models as m
from puraify.environments.base import SECRETS_SCOPE, EnvironmentsBase, validate_path
from puraify.errors import NotFoundError


@dataclass(frozen=True)
class Cached:
    """An answer and its entity tag; ``body`` is None when the caller's copy is current (304)."""

    etag: str
    body: Any = None


def etag_of(*parts: object) -> str:
    """A strong entity tag (quoted, as HTTP wants it) over ``parts``."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]
    return f'"{digest}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (or ``*``); weak tags compare equal."""
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


class Reads(EnvironmentsBase):
    """Versions and resolved environments, as execution engines pull them."""

    def version(self, caller: Principal, project_id: str, label: str, if_none_match: str | None = None) -> Cached:
        """A version's state and metadata; a caller holding its current tag gets only the tag back."""
        project_id, label = self._read_path(caller, project_id, label=label)
        if if_none_match:
            digest = self.store.version_hash(project_id, label)
            if digest is not None and matches(if_none_match, etag_of(project_id, label, digest)):
                return Cached(etag_of(project_id, label, digest))
        record = self.store.versions(project_id, [label], with_state=True).get(label)
        if record is None:
            raise NotFoundError(f"project '{project_id}' has no version '{label}'", code="version_not_found")
        etag = etag_of(project_id, label, record.content_hash)
        if matches(if_none_match, etag):
            return Cached(etag)
        return Cached(
            etag,
            m.VersionView(
                project_id=project_id,
                label=record.label,
                sequence=record.seq,
                content_hash=record.content_hash,
                published_into=record.environment,
                created_at=record.created_at,
                created_by=record.created_by,
                entities=record.entities,
                flows=record.flows,
                feature_flags=record.flags,
                state=record.state or {},
            ),
        )

    def resolved(
        self, caller: Principal, project_id: str, env: str, request_id: str, if_none_match: str | None = None
    ) -> Cached:
        """The environment's version state and configuration, secret values only for ``env:secrets``.

        Every answer that reveals secret values is audited first: if the audit record cannot be
        written, nothing is revealed (503).
        """
        project_id, env = self._read_path(caller, project_id, env=env)
        reveal = caller.has_scope(SECRETS_SCOPE)
        _, found = self._load(project_id, [env])
        head = self._require(found, project_id, env)
        etag = etag_of(project_id, env, head.revision, head.version_hash, "revealed" if reveal else "masked")
        if matches(if_none_match, etag):
            return Cached(etag)
        state = None
        if head.version:
            record = self.store.versions(project_id, [head.version], with_state=True).get(head.version)
            state = record.state if record else None
        secret_names = sorted(name for name, var in head.variables.items() if var.secret)
        if reveal and secret_names:
            self.audit.record(
                kind="env",
                request_id=request_id,
                engine_id=caller.engine_id,
                status="allowed",
                action_type="read_secrets",
                project_id=project_id,
                details={"environment": env, "revision": head.revision, "variables": secret_names},
            )
        variables = {
            name: m.VariableView(value=(self._value(var) if reveal else self._shown(var)) or "", secret=var.secret)
            for name, var in sorted(head.variables.items())
        }
        return Cached(
            etag,
            m.ResolvedView(
                project_id=project_id,
                environment=env,
                version=head.version,
                revision=head.revision,
                config_revision=head.config_revision,
                updated_at=head.updated_at,
                updated_by=head.updated_by,
                secrets="revealed" if reveal else "masked",
                variables=variables,
                feature_flags=self._effective_flags(head),
                state=state,
            ),
        )

    def deployment(self, caller: Principal, project_id: str, env: str) -> m.DeploymentView:
        """The environment's latest deployment: its state, bake times and the decisions taken.

        When the latest is the watch's own rollback, the deployment it undid is shown (``rolled_back``,
        with its decisions and ``rollback_deployment_id``): that is the outcome an operator asks about.
        """
        project_id, env = self._read_path(caller, project_id, env=env)
        found = self.deployments.recent(project_id, env, limit=2)
        if not found:
            raise NotFoundError(f"'{env}' of project '{project_id}' has no deployment", code="deployment_not_found")
        shown = found[0]
        if shown.rolled_back_from and len(found) > 1 and found[1].deployment_id == shown.rolled_back_from:
            shown = found[1]
        return m.DeploymentView.model_validate(shown.model_dump())

    def _read_path(
        self, caller: Principal, project_id: str, *, env: str | None = None, label: str | None = None
    ) -> tuple[str, str]:
        self._reader(caller, project_id)
        project_id = validate_path("path.project_id", project_id, m.ProjectId)
        if label is not None:
            return project_id, validate_path("path.label", label, m.Label)
        return project_id, validate_path("path.environment", env or "", m.EnvName)
