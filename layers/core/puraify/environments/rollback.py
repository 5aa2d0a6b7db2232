"""Rollback: an environment back to a version it ran before, never forward, always through the gate.

A rollback target is a version the environment ran before its current one (an earlier release there,
published before the current version) that no rollback took it away from. Anything else is 409
``not_a_rollback`` naming the versions that qualify; an admin may ``force`` it with a reason (audited
and alerted). Every rollback is a gate decision of phase ``rollback``: the shipped policy allows one to
a known-good version during a change freeze and with alerts open (that is how an environment gets back
to safety) and judges a forced one like a promotion.
"""

from __future__ import annotations

import uuid
from typing import Any

from puraify.auth import ADMIN_SCOPE, Principal
from puraify.clock import iso
from puraify.environments import models as m
from puraify.environments import records as r
from puraify.environments import versions as v
from puraify.environments.base import MAX_RELEASES, EnvironmentsBase, fingerprints, history_of, version_change
from puraify.environments.ports import EnvironmentStore
from puraify.errors import ConflictError, NotFoundError
from puraify.observability import logger


def rollback_versions(head: r.EnvironmentRecord, known: dict[str, r.VersionRecord]) -> list[str]:
    """The versions a rollback may take ``head`` to, newest release first (``known``: their summaries)."""
    current = known.get(head.version or "")
    if current is None:
        return []
    since = head.releases.get(current.label, head.revision)
    found = [
        (revision, label)
        for label, revision in head.releases.items()
        if label != current.label
        and revision < since
        and label not in head.rolled_back
        and label in known
        and known[label].seq < current.seq
    ]
    return [label for _, label in sorted(found, reverse=True)]


def rollback_targets(store: EnvironmentStore, head: r.EnvironmentRecord) -> list[str]:
    """The versions ``head`` may roll back to, from the summaries of its releases: what ``not_a_rollback``
    names and what the history answers as ``rollback_versions`` (the console offers "Roll back" on these)."""
    return rollback_versions(head, store.versions(head.project_id, [*head.releases, head.version or ""]))


class Rollback(EnvironmentsBase):
    """Roll an environment back to a version it ran before (pointer and configuration)."""

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
        self._authorize(caller, pid, env)
        if body.force:
            caller.require(ADMIN_SCOPE)
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
        # The watch undoes the deployment it judged: what ran before it is by definition a way back.
        known_good = undoing is not None or current.version == label or label in rollback_versions(current, known)
        if not known_good and not body.force:
            targets = rollback_targets(self.store, current)
            raise ConflictError(
                f"'{label}' is not a rollback of {env} (at {current.version}): a rollback goes to a version it ran "
                f"before its current one that no rollback left; qualifying: {', '.join(targets) or 'none'}",
                code="not_a_rollback",
                details=[{"version": t} for t in targets],
            )
        deployment_id = uuid.uuid4().hex
        gate = self._gate(
            caller,
            request_id,
            pid,
            env,
            label,
            deployment_id,
            phase="rollback",
            source_env=env,
            rollback={"from_version": current.version, "known_good": known_good, "forced": body.force},
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
        if current.version and current.version != label:
            head.rolled_back = {**head.rolled_back, current.version: f"rolled back by {caller.engine_id} at {at}"}
        head.released = fingerprints(head.variables)
        head.updated_at, head.updated_by = at, caller.engine_id
        changes = v.diff(known.get(current.version or ""), target)
        head.last_change = r.LastChange(
            action="rollback",
            created_by=caller.engine_id,
            timestamp=at,
            previous_version=current.version,
            deployment_id=deployment_id,
            gate_decision_id=gate.decision_id or None,
            request_id=request_id,
            changes=version_change(
                changes,
                v.changed_names(self._effective_flags(current), self._effective_flags(head)),
                v.changed_names(fingerprints(current.variables), fingerprints(head.variables)),
            ),
        )
        deployment = self._deployment(head, rolled_back_from=undoing.deployment_id if undoing else None)
        self._commit(current, head, deployment, ending_watch=undoing.key if undoing else None)
        forced = body.force and not known_good
        details: dict[str, Any] = {"version": label, "from": current.version, "deployment_id": deployment.deployment_id}
        if forced:
            details |= {"forced": True, "reason": body.reason}
        self._audit(caller, request_id, "rollback", pid, env, details)
        if forced:
            self._alert_forced(caller, pid, env, current.version, label, body.reason or "")
        return m.EnvRollbackResponse(
            status="rolled_back",
            previous_version=current.version,
            environment=self._view(head),
            deployment_id=deployment.deployment_id,
            gate=gate,
            forced=forced,
        )

    def _alert_forced(
        self, caller: Principal, project_id: str, env: str, was: str | None, label: str, reason: str
    ) -> None:
        if self.alert is None:
            logger.warning("forced rollback not alerted: no alert channel", extra={"project_id": project_id})
            return
        try:
            self.alert(
                project_id=project_id,
                event_type="rollback_forced",
                severity="high",
                message=f"{caller.engine_id} forced {env} from {was} to {label}, which is not a rollback: {reason}"[
                    :2000
                ],
                triggered_by=caller.engine_id,
            )
        except Exception:  # noqa: BLE001 - the rollback stands and is audited; a lost alert is logged
            logger.exception("could not raise the forced rollback's alert")
