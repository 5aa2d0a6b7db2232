"""Promotion and rollback: moving an environment's version pointer (into production through the gate)."""

from __future__ import annotations

import uuid

from puraify.auth import Principal
from puraify.clock import iso
from puraify.environments import models as m
from puraify.environments import records as r
from puraify.environments import versions as v
from puraify.environments.base import (
    MAX_RELEASES,
    EnvironmentsBase,
    fingerprints,
    history_of,
    version_change,
)
from puraify.errors import ConflictError, NotFoundError


class Promotion(EnvironmentsBase):
    """Promote a source's version into a target; roll an environment back to a version it ran."""

    def promote(self, caller: Principal, body: m.EnvPromoteRequest, request_id: str) -> m.EnvPromoteResponse:
        """Point the target at the source's version; the target keeps its own configuration.

        Into production the Planning Engine's gate decides first. The target already running the
        source's version (a retried promotion) is answered ``already_deployed`` without a change.
        """
        pid, source_name, target_name = body.project_id, body.source_env, body.target_env
        self._authorize(caller, pid, target_name)
        if source_name == target_name:
            raise ConflictError("cannot promote an environment into itself", code="same_environment")
        _, found = self._load(pid, [source_name, target_name])
        source = self._require(found, pid, source_name)
        target = self._require(found, pid, target_name, then=f"promote {source_name} into it again")
        if target.preview:
            raise ConflictError(
                f"'{target_name}' is a preview; previews are not promotion targets", code="target_is_preview"
            )
        if source.version is None:
            raise ConflictError(f"'{source_name}' has no version to promote", code="empty_source")
        self._expect(target, body.expected_revision)
        if target.version == source.version:
            return m.EnvPromoteResponse(
                status="already_deployed",
                version=source.version,
                environment=target_name,
                previous_version=target.last_change.previous_version,
                diff_from_previous=m.PromotionDiff(),
                revision=target.revision,
                deployment_id=target.last_change.deployment_id,
                gate=None,
            )
        known = self.store.versions(pid, [source.version, target.version or ""])
        deployment_id = uuid.uuid4().hex
        gate = None
        if target_name == r.PRODUCTION:
            gate = self._gate(caller, request_id, pid, target_name, source.version, deployment_id)
        changes = v.diff(known.get(target.version or ""), known.get(source.version))
        env_updated = v.changed_names(target.released, fingerprints(target.variables))
        at = iso(self.clock())
        head = target.model_copy(deep=True)
        head.revision += 1
        self._follow(head, source)
        head.released = fingerprints(head.variables)
        head.updated_at, head.updated_by = at, caller.engine_id
        head.last_change = r.LastChange(
            action="promote",
            created_by=caller.engine_id,
            timestamp=at,
            previous_version=target.version,
            source_env=source_name,
            deployment_id=deployment_id,
            gate_decision_id=gate.decision_id if gate else None,
            request_id=request_id,
            changes=version_change(
                changes, v.changed_names(self._effective_flags(target), self._effective_flags(head)), env_updated
            ),
        )
        bake = body.bake_seconds
        if bake is None:
            bake = self.default_bake_seconds if target_name == r.PRODUCTION else 0
        deployment = self._deployment(head, bake_seconds=bake)
        self._commit(target, head, deployment)
        self._audit(
            caller,
            request_id,
            "promote",
            pid,
            target_name,
            {
                "source_env": source_name,
                "version": source.version,
                "deployment_id": deployment_id,
                "bake_seconds": bake,
            },
        )
        return m.EnvPromoteResponse(
            status="ready_for_deploy",
            version=source.version,
            environment=target_name,
            previous_version=target.version,
            diff_from_previous=m.PromotionDiff(**changes.model_dump(), env_updated=env_updated),
            revision=head.revision,
            deployment_id=deployment_id,
            gate=gate,
            bake=m.BakeView(deployment_id=deployment_id, bake_seconds=bake, bake_ends_at=deployment.bake_ends_at)
            if deployment.bake_ends_at
            else None,
        )

    def rollback(self, caller: Principal, body: m.EnvRollbackRequest, request_id: str) -> m.EnvRollbackResponse:
        """Put the environment's pointer and configuration back to what they last were at ``version``."""
        return self._rollback(caller, body, request_id)

    def _rollback(
        self,
        caller: Principal,
        body: m.EnvRollbackRequest,
        request_id: str,
        *,
        undoing: r.DeploymentRecord | None = None,
    ) -> m.EnvRollbackResponse:
        """The rollback; ``undoing`` is the baking deployment the watch rolls back (its watch ends here)."""
        pid, env, label = body.project_id, body.environment, body.version
        self._authorize(caller, body.project_id, env)
        _, found = self._load(pid, [env])
        current = self._require(found, pid, env)
        self._expect(current, body.expected_revision)
        known = self.store.versions(pid, [label, current.version or ""])
        if label not in known:
            raise NotFoundError(f"project '{pid}' has no version '{label}'", code="version_not_found")
        revision = current.releases.get(label)
        snapshot = None
        if revision == current.revision:
            snapshot = history_of(current)
        elif revision is not None:
            snapshot = self.store.history_entry(pid, env, revision)
        if snapshot is None:
            raise ConflictError(
                f"'{env}' never ran version '{label}' (or not within its last {MAX_RELEASES} releases)",
                code="version_never_deployed",
            )
        if current.version == label and current.variables == snapshot.variables and current.flags == snapshot.flags:
            return m.EnvRollbackResponse(
                status="unchanged", previous_version=current.version, environment=self._view(current)
            )
        target = known[label]
        at = iso(self.clock())
        head = current.model_copy(deep=True)
        head.revision += 1
        config_changed = current.variables != snapshot.variables or current.flags != snapshot.flags
        if config_changed:
            head.config_revision += 1
        head.variables, head.flags = dict(snapshot.variables), dict(snapshot.flags)
        self._point(head, target)
        head.released = fingerprints(head.variables)
        head.updated_at, head.updated_by = at, caller.engine_id
        changes = v.diff(known.get(current.version or ""), target)
        head.last_change = r.LastChange(
            action="rollback",
            created_by=caller.engine_id,
            timestamp=at,
            previous_version=current.version,
            deployment_id=uuid.uuid4().hex,
            request_id=request_id,
            changes=version_change(
                changes,
                v.changed_names(self._effective_flags(current), self._effective_flags(head)),
                v.changed_names(fingerprints(current.variables), fingerprints(head.variables)),
            ),
        )
        deployment = self._deployment(head, rolled_back_from=undoing.deployment_id if undoing else None)
        self._commit(current, head, deployment, ending_watch=undoing.key if undoing else None)
        self._audit(
            caller,
            request_id,
            "rollback",
            pid,
            env,
            {"version": label, "from": current.version, "deployment_id": deployment.deployment_id},
        )
        return m.EnvRollbackResponse(
            status="rolled_back",
            previous_version=current.version,
            environment=self._view(head),
            deployment_id=deployment.deployment_id,
        )
