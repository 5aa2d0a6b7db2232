"""Promotion: moving an environment's version pointer to its source's (into production through the gate)."""

from __future__ import annotations

import uuid

from puraify.auth import Principal
from puraify.clock import iso
from puraify.environments import models as m
from puraify.environments import records as r
from puraify.environments import versions as v
from puraify.environments.base import fingerprints, version_change
from puraify.environments.change_requests import ChangeRequests
from puraify.errors import ConflictError


class Promotion(ChangeRequests):
    """Promote a source's version into a target."""

    def promote(
        self, caller: Principal, body: m.EnvPromoteRequest, request_id: str
    ) -> m.EnvPromoteResponse | m.PromotionPending:
        """Point the target at the source's version; the target keeps its own configuration.

        Into production the Planning Engine's gate decides first. The target already running the
        source's version (a retried promotion) is answered ``already_deployed`` without a change.
        A target with ``approvals_required`` answers ``pending_approval``: the promotion waits as a
        change request, and runs through this same path when approved (``approvals.py``).
        """
        self._authorize(caller, body.project_id, body.target_env)
        return self._promote(caller, body, request_id)

    def _promote(
        self, caller: Principal, body: m.EnvPromoteRequest, request_id: str, change: r.ChangeRecord | None = None
    ) -> m.EnvPromoteResponse | m.PromotionPending:
        """The promotion itself; ``change``: the approved change request it applies (asked no more)."""
        pid, source_name, target_name = body.project_id, body.source_env, body.target_env
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
        changes = v.diff(known.get(target.version or ""), known.get(source.version))
        env_updated = v.changed_names(target.released, fingerprints(target.variables))
        if change is None and target.approvals_required > 0:
            diff = m.PromotionDiff(**changes.model_dump(), env_updated=env_updated)
            return self._ask(caller, body, request_id, target, source.version, diff)
        if change is not None and change.version != source.version:
            raise ConflictError(
                f"'{source_name}' runs {source.version} now, not {change.version} as when this promotion was "
                "requested: request it again",
                code="source_changed",
            )
        deployment_id = uuid.uuid4().hex
        gate = None
        if target_name == r.PRODUCTION:
            gate = self._gate(
                caller, request_id, pid, target_name, source.version, deployment_id, source_env=source_name
            )
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
            change_id=change.change_id if change else None,
            approved_by=[a.engine_id for a in change.approvals] if change else [],
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
                **({"change_id": change.change_id} if change else {}),
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
