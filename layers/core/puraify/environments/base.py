"""The Environment Manager's operations. Each takes the authenticated caller and returns a response model.

Every change of an environment is one conditional write of its head on the revision it read: of racing
changes exactly one wins and the others get 409 with the current revision. The head carries the change
that produced it (``last_change``), so its history entry can always be derived from it: after each
commit the entries of the previous and the new revision are written (idempotently, keyed by revision),
which also repairs an entry a crashed writer left unwritten, and history reads add the head's own
entry when it is not stored yet. No history entry is lost and no multi-item transaction is needed.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from pydantic import TypeAdapter, ValidationError

from puraify.audit import AuditLog
from puraify.auth import Principal
from puraify.clock import expires_at, iso, now
from puraify.environments import models as m
from puraify.environments import records as r
from puraify.environments.errors import RevisionConflict
from puraify.environments.ports import Alert, ChangeStore, DeploymentStore, EnvironmentStore, Gate, Judge, SecretStore
from puraify.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PayloadTooLargeError,
    UnavailableError,
    validation_error,
)
from puraify.observability import logger

READ, WRITE, PRODUCTION_SCOPE = "env:read", "env:write", "env:production"
SECRETS_SCOPE = "env:secrets"  # secret values, and whether two of them are equal
APPROVE_SCOPE = "env:approve"  # list, approve and reject the promotions waiting for approvals
MAX_RELEASES = 500
MAX_CONFIG_BYTES = 100_000


def history_of(head: r.EnvironmentRecord) -> r.HistoryRecord:
    """The history entry of the head's current revision."""
    return r.HistoryRecord(
        project_id=head.project_id,
        env=head.env,
        revision=head.revision,
        config_revision=head.config_revision,
        version=head.version,
        version_seq=head.version_seq,
        variables=head.variables,
        flags=head.flags,
        last_change=head.last_change,
    )


def _fingerprint(variable: r.Variable) -> str:
    raw = f"s:{variable.secret_id}:{variable.secret_version}" if variable.secret else f"p:{variable.value}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def fingerprints(variables: dict[str, r.Variable]) -> dict[str, str]:
    return {name: _fingerprint(var) for name, var in variables.items()}


def version_change(
    diff: m.VersionDiff, feature_flags: list[str], env_vars_changed: list[str] | None = None
) -> m.Change:
    """A change that moved the pointer: the versions' entity and flow differences, and what else changed."""
    return m.Change(
        flows_updated=diff.logic_changed,
        entities_added=diff.entities_added,
        entities_removed=diff.entities_removed,
        feature_flags=feature_flags,
        env_vars_changed=env_vars_changed or [],
    )


def validate_path(field: str, value: str, kind: Any) -> str:
    try:
        return TypeAdapter(kind).validate_python(value)
    except ValidationError as error:
        raise validation_error([{**e, "loc": tuple(field.split("."))} for e in error.errors()]) from error


class EnvironmentsBase:
    """The stores, the gate and the plumbing every Environment Manager operation shares."""

    def __init__(
        self,
        store: EnvironmentStore,
        secrets: SecretStore,
        audit: AuditLog,
        *,
        gate: Gate,
        url_base: str,
        clock: Callable[[], float] = now,
        deployments: DeploymentStore,
        judge: Judge | None = None,
        alert: Alert | None = None,
        default_bake_seconds: int = 600,
        deployment_retention_days: int = 90,
        changes: ChangeStore | None = None,
        change_ttl_hours: float = 24,
    ):
        self.store = store
        self.secrets = secrets
        self.audit = audit
        self.gate = gate
        self.url_base = url_base.rstrip("/")
        self.clock = clock
        self.deployments = deployments
        self.judge = judge
        self.alert = alert
        self.default_bake_seconds = default_bake_seconds
        self.deployment_retention_days = deployment_retention_days
        self.changes = changes
        self.change_ttl_hours = change_ttl_hours

    # --- plumbing ------------------------------------------------------------------------

    def _authorize(self, caller: Principal, project_id: str, env: str) -> None:
        caller.require_project(project_id)  # the grant first: 403 before anything is read or written
        caller.require(WRITE)
        if env == r.PRODUCTION:
            caller.require(PRODUCTION_SCOPE)

    def _reader(self, caller: Principal, project_id: str) -> None:
        """A read of the project: its grant, then ``env:read``."""
        caller.require_project(project_id)
        caller.require(READ)

    def alive(self, head: r.EnvironmentRecord) -> bool:
        return head.expires_at is None or head.expires_at > self.clock()

    def _load(self, project_id: str, envs: list[str]) -> tuple[r.ProjectRecord, dict[str, r.EnvironmentRecord]]:
        project, found = self.store.load(project_id, envs)
        if project is None:
            raise NotFoundError(f"project '{project_id}' not found", code="project_not_found")
        return project, found

    def _require(
        self, found: dict[str, r.EnvironmentRecord], project_id: str, env: str, *, then: str = ""
    ) -> r.EnvironmentRecord:
        head = found.get(env)
        if head is None or not self.alive(head):
            raise env_not_found(project_id, env, then=then)
        return head

    def _expect(self, head: r.EnvironmentRecord, expected: int | None) -> None:
        if expected is not None and expected != head.revision:
            raise RevisionConflict(head.project_id, head.env, head.revision)

    def _commit(
        self,
        previous: r.EnvironmentRecord | None,
        head: r.EnvironmentRecord,
        deployment: r.DeploymentRecord | None = None,
        *,
        ending_watch: str | None = None,
    ) -> None:
        """Write the head on the revision it was read at, its history, and the deployment it makes.

        The deployment is written first: a committed change always has its marker (and its watch),
        and a change that loses the race takes its marker back. A change of an environment whose
        deployment is being baked ends that watch (``cancelled``), unless the watch itself made it.
        """
        head.watch = deployment.key if deployment is not None and deployment.state == "baking" else None
        if deployment is not None:
            self.deployments.put(deployment)
        try:
            self.store.put_environment(head, previous.revision if previous else None)
        except Exception:
            if deployment is not None:
                with suppress(UnavailableError):  # a baking orphan is cancelled by the next watch tick
                    self.deployments.delete(deployment)
            raise
        entries = ([history_of(previous)] if previous else []) + [history_of(head)]
        try:
            self.store.put_history(entries)
        except UnavailableError:
            # The change is committed; its entry lives on in the head and is written by the next commit.
            logger.warning("history entry deferred", extra={"project_id": head.project_id, "env": head.env})
        if previous is not None and previous.watch and previous.watch not in (head.watch, ending_watch):
            self._cancel_watch(previous.project_id, previous.watch, head)

    def _deployment(
        self, head: r.EnvironmentRecord, *, bake_seconds: int = 0, rolled_back_from: str | None = None
    ) -> r.DeploymentRecord:
        """The deployment (marker) a change of ``head`` makes; ``baking`` when it is to be watched."""
        change = head.last_change
        assert head.version is not None and change.deployment_id is not None
        at = self.clock()
        return r.DeploymentRecord(
            deployment_id=change.deployment_id,
            project_id=head.project_id,
            environment=head.env,
            action=change.action,
            version=head.version,
            previous_version=change.previous_version,
            source_env=change.source_env,
            actor=change.created_by,
            created_at=change.timestamp,
            started_epoch=at,
            revision=head.revision,
            state="baking" if bake_seconds else "deployed",
            bake_seconds=bake_seconds or None,
            bake_ends_at=iso(at + bake_seconds) if bake_seconds else None,
            rolled_back_from=rolled_back_from,
            expires_at=expires_at(self.deployment_retention_days, at),
        )

    def _cancel_watch(self, project_id: str, key: str, head: r.EnvironmentRecord) -> None:
        """End the bake of deployment ``key``: ``head``'s change replaced what it was judging."""
        try:
            deployment = self.deployments.get(project_id, key)
            if deployment is None or deployment.state != "baking":
                return
            change = head.last_change
            seen = deployment.checks
            deployment.checks += 1
            deployment.state, deployment.finished_at = "cancelled", change.timestamp
            deployment.reason = (
                f"{head.env} changed during the bake ({change.action} by {change.created_by}, "
                f"revision {head.revision}): the watch of {deployment.version} ended"
            )
            self.deployments.replace(deployment, seen)
        except (UnavailableError, ConflictError):
            logger.warning("watch not cancelled now; the next tick will", extra={"deployment": key})
            return
        self._audit_as(
            change.created_by,
            change.request_id or "",
            "watch_cancelled",
            project_id,
            head.env,
            {"deployment_id": deployment.deployment_id, "version": deployment.version, "reason": deployment.reason},
        )

    def _point(self, head: r.EnvironmentRecord, version: r.VersionRecord) -> None:
        head.version, head.version_seq = version.label, version.seq
        head.version_hash, head.version_flags = version.content_hash, version.flags
        self._remember_release(head)

    def _follow(self, head: r.EnvironmentRecord, source: r.EnvironmentRecord) -> None:
        head.version, head.version_seq = source.version, source.version_seq
        head.version_hash, head.version_flags = source.version_hash, source.version_flags
        self._remember_release(head)

    def _remember_release(self, head: r.EnvironmentRecord) -> None:
        if head.version is None:
            return
        releases = {**head.releases, head.version: head.revision}
        if len(releases) > MAX_RELEASES:
            releases = dict(sorted(releases.items(), key=lambda kv: kv[1])[-MAX_RELEASES:])
        head.releases = releases
        # A version that arrives again (through a gated promotion, a publish or a forced rollback) is no
        # longer the one a rollback left; kept only for versions still remembered as releases.
        head.rolled_back = {k: v for k, v in head.rolled_back.items() if k != head.version and k in releases}

    def _gate(
        self,
        caller: Principal,
        request_id: str,
        project_id: str,
        env: str,
        version: str,
        deployment_id: str,
        **decision: Any,
    ) -> m.GateView:
        """One gate decision (``phase`` pre_deploy, or rollback); denied: 403 and an audit record, nothing written.

        An allowed decision's reasons are its notes (e.g. "no signal" on the promoted version).
        """
        result = self.gate(
            project_id=project_id, environment=env, version=version, deployment_id=deployment_id, **decision
        )
        rollback = decision.get("phase") == "rollback"
        reasons = [str(r) for r in result.reasons]
        if not result.allow:
            self._audit(
                caller,
                request_id,
                "rollback" if rollback else "promote",
                project_id,
                env,
                {"version": version, "decision_id": result.decision_id, "reasons": reasons},
                status="denied",
                reason=f"the planning gate denied it: {'; '.join(reasons) or 'no reason given'}",
            )
            raise ForbiddenError(
                f"the planning gate denied this change of {env}: {'; '.join(reasons) or 'no reason given'}",
                code="rollback_denied" if rollback else "promotion_denied",
                details=[{"reason": r} for r in reasons] + [{"decision_id": result.decision_id}],
            )
        return m.GateView(decision_id=result.decision_id, reasons=reasons)

    def _secret(self, project_id: str, env: str, name: str, value: str) -> r.Variable:
        secret_id, version = self.secrets.put(project_id, env, name, value, token=str(uuid.uuid4()))
        return r.Variable(secret=True, secret_id=secret_id, secret_version=version)

    def _apply(
        self,
        project_id: str,
        env: str,
        variables: dict[str, r.Variable],
        patch: dict[str, m.VariableInput | None],
    ) -> tuple[dict[str, r.Variable], list[str]]:
        """Apply a merge patch of variables; secrets go to the secret store, unchanged values are skipped."""
        changed = []
        own_prefix = self.secrets.name(project_id, env, "")
        for name, given in patch.items():
            old = variables.get(name)
            if given is None:
                if variables.pop(name, None) is not None:
                    changed.append(name)
                continue
            value, flagged = (given, None) if isinstance(given, str) else (given.value, given.secret)
            secret = r.looks_secret(name) or flagged is True or (flagged is None and old is not None and old.secret)
            if secret:
                if (
                    old is not None
                    and old.secret
                    and (old.secret_id or "").startswith(own_prefix)
                    and self.secrets.get(old.secret_id or "", old.secret_version or "") == value
                ):
                    continue
                variables[name] = self._secret(project_id, env, name, value)
            else:
                if old is not None and not old.secret and old.value == value:
                    continue
                variables[name] = r.Variable(value=value)
            changed.append(name)
        return variables, sorted(changed)

    def _check_size(self, base: dict[str, r.Variable], patch: dict[str, Any]) -> None:
        size = sum(len(k) + len(x.value or "") + 128 for k, x in base.items() if k not in patch)
        size += sum(len(k) + len(x if isinstance(x, str) else x.value) + 128 for k, x in patch.items())
        if size > MAX_CONFIG_BYTES:
            raise PayloadTooLargeError(
                f"the environment's configuration would exceed {MAX_CONFIG_BYTES} bytes", code="config_too_large"
            )

    def _value(self, var: r.Variable) -> str | None:
        if var.secret:
            return self.secrets.get(var.secret_id or "", var.secret_version or "")
        return var.value

    @staticmethod
    def _shown(var: r.Variable | None) -> str | None:
        if var is None:
            return None
        return r.MASK if var.secret else var.value

    @staticmethod
    def _effective_flags(head: r.EnvironmentRecord) -> dict[str, bool]:
        return {**head.version_flags, **head.flags}

    def _view(self, head: r.EnvironmentRecord) -> m.EnvironmentView:
        return m.EnvironmentView(
            project_id=head.project_id,
            env=head.env,
            version=head.version,
            revision=head.revision,
            config_revision=head.config_revision,
            preview=head.preview,
            url=f"{self.url_base}/{head.project_id}/{head.env}",
            created_at=head.created_at,
            updated_at=head.updated_at,
            updated_by=head.updated_by,
            expires_at=iso(head.expires_at) if head.expires_at is not None else None,
            variables={
                name: m.VariableView(value=self._shown(var) or "", secret=var.secret)
                for name, var in sorted(head.variables.items())
            },
            feature_flags=self._effective_flags(head),
            approvals_required=head.approvals_required,
        )

    @staticmethod
    def _entry_view(entry: r.HistoryRecord) -> m.HistoryEntryView:
        change = entry.last_change
        return m.HistoryEntryView(
            project_id=entry.project_id,
            env=entry.env,
            revision=entry.revision,
            config_revision=entry.config_revision,
            action=change.action,
            version=entry.version,
            previous_version=change.previous_version,
            source_env=change.source_env,
            created_by=change.created_by,
            timestamp=change.timestamp,
            changes=change.changes,
            deployment_id=change.deployment_id,
            gate_decision_id=change.gate_decision_id,
            change_id=change.change_id,
            approved_by=change.approved_by,
        )

    def _audit_as(
        self, engine_id: str, request_id: str, action: str, project_id: str, env: str, details: dict[str, Any]
    ) -> None:
        self._audit(Principal(engine_id=engine_id), request_id, action, project_id, env, details)

    def _audit(
        self,
        caller: Principal,
        request_id: str,
        action: str,
        project_id: str,
        env: str,
        details: dict[str, Any],
        status: str = "allowed",
        reason: str | None = None,
    ) -> None:
        with suppress(UnavailableError):  # the change stands; the structured log line was written
            self.audit.record(
                kind="env",
                request_id=request_id,
                engine_id=caller.engine_id,
                status=status,  # type: ignore[arg-type]
                reason=reason,
                action_type=action,
                project_id=project_id,
                details={"environment": env, **details},
            )


def env_not_found(project_id: str, env: str, *, then: str = "") -> NotFoundError:
    """404 ``env_not_found`` that says how to create the environment (``then``: what to do after)."""
    create = {"project_id": project_id, "new_environment": env}
    how = (
        f'create it with POST /env/create {json.dumps(create)} (add "base_from" to start from another '
        f"environment's version and configuration; CLI: puraify env create {project_id} {env})"
    )
    if env == r.PRODUCTION:
        how += ", which needs env:production"
    message = f"environment '{env}' of project '{project_id}' not found: {how}{f', then {then}' if then else ''}"
    details = [{"field": "environment", "message": how, "create": create}]
    return NotFoundError(message, code="env_not_found", details=details)
