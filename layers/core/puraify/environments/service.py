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
from typing import Any, Protocol

from pydantic import TypeAdapter, ValidationError

from puraify.audit import AuditLog
from puraify.auth import Principal
from puraify.clock import iso, now
from puraify.environments import models as m
from puraify.environments import versions as v
from puraify.environments.errors import RevisionConflict
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
MAX_RELEASES = 500
MAX_CONFIG_BYTES = 100_000


class PromotionGate(Protocol):
    @property
    def allow(self) -> bool: ...
    @property
    def reasons(self) -> list[str]: ...
    @property
    def decision_id(self) -> str: ...


Gate = Callable[..., PromotionGate]


class EnvironmentStore(Protocol):
    def load(
        self, project_id: str, envs: list[str]
    ) -> tuple[m.ProjectRecord | None, dict[str, m.EnvironmentRecord]]: ...

    def list_environments(self, project_id: str) -> list[m.EnvironmentRecord]: ...
    def versions(self, project_id: str, labels: list[str], with_state: bool = False) -> dict[str, m.VersionRecord]: ...

    def history_entry(self, project_id: str, env: str, revision: int) -> m.HistoryRecord | None: ...
    def history(self, project_id: str, env: str, limit: int, before: int | None = None) -> list[m.HistoryRecord]: ...

    def expired_previews(self, at: float, limit: int = 100) -> list[m.EnvironmentRecord]: ...
    def put_environment(self, record: m.EnvironmentRecord, expected_revision: int | None) -> None: ...
    def put_history(self, entries: list[m.HistoryRecord]) -> None: ...
    def put_version(self, record: m.VersionRecord) -> None: ...
    def delete_version(self, project_id: str, label: str) -> None: ...
    def put_project(self, record: m.ProjectRecord, expected_seq: int | None) -> None: ...
    def delete_environment(self, project_id: str, env: str) -> None: ...


class SecretStore(Protocol):
    def name(self, project_id: str, env: str, variable: str) -> str: ...
    def put(self, project_id: str, env: str, variable: str, value: str, token: str) -> tuple[str, str]: ...
    def get(self, name: str, version: str) -> str: ...
    def delete(self, name: str) -> bool: ...


def history_of(head: m.EnvironmentRecord) -> m.HistoryRecord:
    """The history entry of the head's current revision."""
    return m.HistoryRecord(
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


def _fingerprint(variable: m.Variable) -> str:
    raw = f"s:{variable.secret_id}:{variable.secret_version}" if variable.secret else f"p:{variable.value}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def fingerprints(variables: dict[str, m.Variable]) -> dict[str, str]:
    return {name: _fingerprint(var) for name, var in variables.items()}


def _version_change(
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


def _validate(field: str, value: str, kind: Any) -> str:
    try:
        return TypeAdapter(kind).validate_python(value)
    except ValidationError as error:
        raise validation_error([{**e, "loc": tuple(field.split("."))} for e in error.errors()]) from error


class Environments:
    """Projects' environments, versions, promotion, rollback and configuration."""

    def __init__(
        self,
        store: EnvironmentStore,
        secrets: SecretStore,
        audit: AuditLog,
        *,
        gate: Gate,
        url_base: str,
        clock: Callable[[], float] = now,
    ):
        self.store = store
        self.secrets = secrets
        self.audit = audit
        self.gate = gate
        self.url_base = url_base.rstrip("/")
        self.clock = clock

    # --- versions ------------------------------------------------------------------------

    def publish(self, caller: Principal, body: m.VersionPublishRequest, request_id: str) -> m.VersionPublishResponse:
        """Freeze a platform state as a new version and point the environment at it.

        Publishing the state the environment already runs (a retry) returns that version unchanged.
        """
        pid, env = body.project_id, body.environment
        self._authorize(caller, env)
        if env == m.PRODUCTION:
            raise ConflictError(
                "production changes only through promotion or rollback; publish into development",
                code="publish_into_production",
            )
        project, found = self.store.load(pid, [env])
        current = found.get(env)
        if current is not None and not self.alive(current):
            raise NotFoundError(f"environment '{env}' of project '{pid}' has expired", code="env_not_found")
        digest = v.content_hash(body.state)
        if current and current.version_hash == digest and body.label in (None, current.version):
            return self._published(current, created=False, bump=None, previous=None, changes=m.VersionDiff())
        labels = [project.latest_label if project else "", (current.version or "") if current else ""]
        known = self.store.versions(pid, labels)
        reuse = project is not None and project.latest_hash == digest and body.label in (None, project.latest_label)
        if reuse:
            assert project is not None
            version, bump = known[project.latest_label], None
        else:
            version, bump = self._new_version(caller, project, known, body, digest)
        at = iso(self.clock())
        previous = known.get(current.version) if current and current.version else None
        changes = v.diff(previous, version)
        flags_before = self._effective_flags(current) if current else {}
        change = m.LastChange(
            action="publish",
            created_by=caller.engine_id,
            timestamp=at,
            previous_version=current.version if current else None,
            request_id=request_id,
            changes=_version_change(
                changes, v.changed_names(flags_before, {**version.flags, **(current.flags if current else {})})
            ),
        )
        if current is None:
            head = m.EnvironmentRecord(
                project_id=pid, env=env, created_at=at, updated_at=at, updated_by=caller.engine_id, last_change=change
            )
        else:
            head = current.model_copy(deep=True)
            head.revision += 1
        self._point(head, version)
        head.updated_at, head.updated_by, head.last_change = at, caller.engine_id, change
        head.released = fingerprints(head.variables)
        self._commit(current, head)
        self._audit(caller, request_id, "publish", pid, env, {"version": version.label, "revision": head.revision})
        return self._published(
            head, created=True, bump=bump, previous=current.version if current else None, changes=changes
        )

    def _new_version(
        self,
        caller: Principal,
        project: m.ProjectRecord | None,
        known: dict[str, m.VersionRecord],
        body: m.VersionPublishRequest,
        digest: str,
    ) -> tuple[m.VersionRecord, str]:
        entities, flows, flags = v.summarize(body.state)
        latest = known.get(project.latest_label) if project else None
        kind = v.bump_kind(latest, entities, flows)
        label = body.label or v.bump(project.highest_label if project else None, kind)
        bump = "label" if body.label else ("initial" if project is None else kind)
        at = iso(self.clock())
        version = m.VersionRecord(
            project_id=body.project_id,
            label=label,
            seq=(project.latest_seq if project else 0) + 1,
            content_hash=digest,
            entities=entities,
            flows=flows,
            flags=flags,
            state=body.state.model_dump(mode="json"),
            environment=body.environment,
            created_at=at,
            created_by=caller.engine_id,
        )
        self.store.put_version(version)
        updated = m.ProjectRecord(
            project_id=body.project_id,
            latest_label=label,
            latest_seq=version.seq,
            latest_hash=digest,
            highest_label=v.higher(project.highest_label if project else None, label),
            created_at=project.created_at if project else at,
            updated_at=at,
        )
        try:
            self.store.put_project(updated, project.latest_seq if project else None)
        except ConflictError:
            self.store.delete_version(body.project_id, label)
            raise
        return version, bump

    def _published(
        self,
        head: m.EnvironmentRecord,
        *,
        created: bool,
        bump: str | None,
        previous: str | None,
        changes: m.VersionDiff,
    ) -> m.VersionPublishResponse:
        assert head.version is not None
        return m.VersionPublishResponse(
            project_id=head.project_id,
            environment=head.env,
            version=head.version,
            sequence=head.version_seq,
            created=created,
            bump=bump,
            previous_version=previous,
            changes=changes,
            revision=head.revision,
            created_at=head.updated_at,
            created_by=head.updated_by,
        )

    # --- environments --------------------------------------------------------------------

    def create(self, caller: Principal, body: m.EnvCreateRequest, request_id: str) -> m.EnvCreateResponse:
        """A new environment from a base (its version and configuration) overlaid with the given variables."""
        pid, env = body.project_id, body.new_environment
        self._authorize(caller, env)
        names = [env] + ([body.base_from] if body.base_from else [])
        _, found = self._load(pid, names)
        fingerprint = self._request_fingerprint(body)
        existing = found.get(env)
        if existing is not None:
            if self.alive(existing):
                if existing.create_fingerprint == fingerprint and existing.revision == 1:
                    return self._created(existing)
                raise ConflictError(f"environment '{env}' of project '{pid}' already exists", code="env_exists")
            self._remove(existing)
        base = self._require(found, pid, body.base_from) if body.base_from else None
        self._check_size((base.variables if base else {}), body.env_variables)
        at = iso(self.clock())
        deployment_id = uuid.uuid4().hex
        gate = None
        if env == m.PRODUCTION and base and base.version:
            gate = self._gate(caller, request_id, pid, env, base.version, deployment_id)
        variables: dict[str, m.Variable] = {}
        written: set[str] = set()
        for name, var in (base.variables if base else {}).items():
            if name in body.env_variables:
                continue
            if var.secret:
                assert var.secret_id and var.secret_version
                value = self.secrets.get(var.secret_id, var.secret_version)
                variables[name] = self._secret(pid, env, name, value)
                written.add(variables[name].secret_id or "")
            else:
                variables[name] = var
        patched, _ = self._apply(pid, env, variables, dict(body.env_variables))
        written |= {var.secret_id for var in patched.values() if var.secret and var.secret_id}
        flags = {**(base.flags if base else {}), **body.feature_flags}
        ttl = body.ttl_hours or m.DEFAULT_TTL_HOURS
        change = m.LastChange(
            action="create",
            created_by=caller.engine_id,
            timestamp=at,
            source_env=body.base_from,
            request_id=request_id,
            deployment_id=deployment_id if gate else None,
            gate_decision_id=gate.decision_id if gate else None,
            changes=m.Change(env_vars_changed=sorted(patched), feature_flags=sorted(flags)),
        )
        head = m.EnvironmentRecord(
            project_id=pid,
            env=env,
            variables=patched,
            flags=flags,
            secret_names=sorted(written),
            preview=body.preview,
            expires_at=self.clock() + ttl * 3600 if body.preview else None,
            base_from=body.base_from,
            create_fingerprint=fingerprint,
            created_at=at,
            updated_at=at,
            updated_by=caller.engine_id,
            last_change=change,
        )
        if base and base.version:
            self._follow(head, base)
        head.released = fingerprints(head.variables)
        self._commit(None, head)
        self._audit(caller, request_id, "create_env", pid, env, {"base_from": body.base_from, "preview": body.preview})
        return self._created(head)

    def _created(self, head: m.EnvironmentRecord) -> m.EnvCreateResponse:
        view = self._view(head)
        return m.EnvCreateResponse(
            env=head.env,
            linked_version=head.version,
            url=view.url,
            preview=head.preview,
            expires_at=view.expires_at,
            revision=head.revision,
            config_revision=head.config_revision,
            variables=view.variables,
            feature_flags=view.feature_flags,
        )

    def promote(self, caller: Principal, body: m.EnvPromoteRequest, request_id: str) -> m.EnvPromoteResponse:
        """Point the target at the source's version; the target keeps its own configuration.

        Into production the Planning Engine's gate decides first. The target already running the
        source's version (a retried promotion) is answered ``already_deployed`` without a change.
        """
        pid, source_name, target_name = body.project_id, body.source_env, body.target_env
        self._authorize(caller, target_name)
        if source_name == target_name:
            raise ConflictError("cannot promote an environment into itself", code="same_environment")
        _, found = self._load(pid, [source_name, target_name])
        source = self._require(found, pid, source_name)
        target = self._require(found, pid, target_name)
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
        if target_name == m.PRODUCTION:
            gate = self._gate(caller, request_id, pid, target_name, source.version, deployment_id)
        changes = v.diff(known.get(target.version or ""), known.get(source.version))
        env_updated = v.changed_names(target.released, fingerprints(target.variables))
        at = iso(self.clock())
        head = target.model_copy(deep=True)
        head.revision += 1
        self._follow(head, source)
        head.released = fingerprints(head.variables)
        head.updated_at, head.updated_by = at, caller.engine_id
        head.last_change = m.LastChange(
            action="promote",
            created_by=caller.engine_id,
            timestamp=at,
            previous_version=target.version,
            source_env=source_name,
            deployment_id=deployment_id,
            gate_decision_id=gate.decision_id if gate else None,
            request_id=request_id,
            changes=_version_change(
                changes, v.changed_names(self._effective_flags(target), self._effective_flags(head)), env_updated
            ),
        )
        self._commit(target, head)
        self._audit(
            caller,
            request_id,
            "promote",
            pid,
            target_name,
            {"source_env": source_name, "version": source.version, "deployment_id": deployment_id},
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
        )

    def rollback(self, caller: Principal, body: m.EnvRollbackRequest, request_id: str) -> m.EnvRollbackResponse:
        """Put the environment's pointer and configuration back to what they last were at ``version``."""
        pid, env, label = body.project_id, body.environment, body.version
        self._authorize(caller, env)
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
        head.last_change = m.LastChange(
            action="rollback",
            created_by=caller.engine_id,
            timestamp=at,
            previous_version=current.version,
            request_id=request_id,
            changes=_version_change(
                changes,
                v.changed_names(self._effective_flags(current), self._effective_flags(head)),
                v.changed_names(fingerprints(current.variables), fingerprints(head.variables)),
            ),
        )
        self._commit(current, head)
        self._audit(caller, request_id, "rollback", pid, env, {"version": label, "from": current.version})
        return m.EnvRollbackResponse(
            status="rolled_back", previous_version=current.version, environment=self._view(head)
        )

    def update_config(
        self, caller: Principal, project_id: str, env: str, body: m.EnvConfigRequest, request_id: str
    ) -> m.EnvConfigResponse:
        """Set or remove variables and flags: a new configuration revision, or none if nothing changes."""
        project_id = _validate("path.project_id", project_id, m.ProjectId)
        env = _validate("path.environment", env, m.EnvName)
        self._authorize(caller, env)
        _, found = self._load(project_id, [env])
        current = self._require(found, project_id, env)
        self._expect(current, body.expected_revision)
        self._check_size(current.variables, {k: val for k, val in body.env_variables.items() if val is not None})
        variables, changed = self._apply(project_id, env, dict(current.variables), dict(body.env_variables))
        flags = dict(current.flags)
        for name, enabled in body.feature_flags.items():
            if enabled is None:
                flags.pop(name, None)
            else:
                flags[name] = enabled
        flag_names = v.changed_names(current.flags, flags)
        if not changed and not flag_names:
            return m.EnvConfigResponse(status="unchanged", changes=m.Change(), environment=self._view(current))
        at = iso(self.clock())
        head = current.model_copy(deep=True)
        head.revision += 1
        head.config_revision += 1
        head.variables, head.flags = variables, flags
        head.secret_names = sorted(set(head.secret_names) | {x.secret_id for x in variables.values() if x.secret_id})
        head.updated_at, head.updated_by = at, caller.engine_id
        change = m.Change(env_vars_changed=changed, feature_flags=flag_names)
        head.last_change = m.LastChange(
            action="config", created_by=caller.engine_id, timestamp=at, request_id=request_id, changes=change
        )
        self._remember_release(head)
        self._commit(current, head)
        self._audit(caller, request_id, "config", project_id, env, change.model_dump())
        return m.EnvConfigResponse(status="updated", changes=change, environment=self._view(head))

    # --- reads ---------------------------------------------------------------------------

    def list_environments(self, caller: Principal, project_id: str) -> m.EnvListResponse:
        """The project's live environments (expired previews are gone) with their version and revisions."""
        caller.require(READ)
        project_id = _validate("path.project_id", project_id, m.ProjectId)
        project, _ = self._load(project_id, [])
        order = {name: i for i, name in enumerate(m.STANDARD)}
        heads = [h for h in self.store.list_environments(project_id) if self.alive(h)]
        heads.sort(key=lambda h: (order.get(h.env, len(order)), h.env))
        return m.EnvListResponse(
            project_id=project_id, latest_version=project.latest_label, environments=[self._view(h) for h in heads]
        )

    def history(
        self, caller: Principal, project_id: str, env: str, limit: int = 50, before: int | None = None
    ) -> m.EnvHistoryResponse:
        """The environment's changes, newest first; ``before`` pages to older revisions."""
        caller.require(READ)
        project_id = _validate("path.project_id", project_id, m.ProjectId)
        env = _validate("path.environment", env, m.EnvName)
        _, found = self._load(project_id, [env])
        head = self._require(found, project_id, env)
        entries = self.store.history(project_id, env, limit, before)
        if (before is None or head.revision < before) and (not entries or entries[0].revision < head.revision):
            entries = [history_of(head), *entries][:limit]
        more = len(entries) == limit and entries[-1].revision > 1
        return m.EnvHistoryResponse(
            project_id=project_id,
            env=env,
            entries=[self._entry_view(e) for e in entries],
            next_before=entries[-1].revision if more else None,
        )

    def compare(self, caller: Principal, project_id: str, source: str, target: str) -> m.EnvCompareResponse:
        """What would change in ``target`` if it took ``source``'s version and configuration."""
        caller.require(READ)
        _, found = self._load(project_id, [source, target])
        src = self._require(found, project_id, source)
        tgt = self._require(found, project_id, target)
        variables = m.VariableDiff()
        for name in sorted(src.variables.keys() | tgt.variables.keys()):
            a, b = src.variables.get(name), tgt.variables.get(name)
            secret = bool((a and a.secret) or (b and b.secret))
            entry = m.VariableDiffEntry(name=name, secret=secret, source=self._shown(a), target=self._shown(b))
            if b is None:
                variables.added.append(entry)
            elif a is None:
                variables.removed.append(entry)
            elif self._value(a) != self._value(b):
                variables.changed.append(entry)
        src_flags, tgt_flags = self._effective_flags(src), self._effective_flags(tgt)
        flags = [
            m.FlagDiffEntry(name=n, source=src_flags.get(n), target=tgt_flags.get(n))
            for n in v.changed_names(tgt_flags, src_flags)
        ]
        known = self.store.versions(project_id, [src.version or "", tgt.version or ""])
        changes = v.diff(known.get(tgt.version or ""), known.get(src.version or ""))
        return m.EnvCompareResponse(
            project_id=project_id,
            source=source,
            target=target,
            variables=variables,
            feature_flags=flags,
            version=m.CompareVersions(
                **changes.model_dump(),
                source=src.version,
                target=tgt.version,
                versions_apart=src.version_seq - tgt.version_seq,
            ),
        )

    # --- previews ------------------------------------------------------------------------

    def sweep(self, limit: int = 100) -> m.SweepResult:
        """Remove expired previews: their secrets first, then their records (safe to run again)."""
        removed, deleted = [], 0
        for head in self.store.expired_previews(self.clock(), limit):
            deleted += self._remove(head)
            removed.append(f"{head.project_id}/{head.env}")
        if removed:
            logger.info("preview sweep", extra={"removed": removed, "secrets_deleted": deleted})
        return m.SweepResult(removed=removed, secrets_deleted=deleted)

    def _remove(self, head: m.EnvironmentRecord) -> int:
        deleted = sum(1 for name in head.secret_names if self.secrets.delete(name))
        self.store.delete_environment(head.project_id, head.env)
        return deleted

    # --- plumbing ------------------------------------------------------------------------

    def _authorize(self, caller: Principal, env: str) -> None:
        caller.require(WRITE)
        if env == m.PRODUCTION:
            caller.require(PRODUCTION_SCOPE)

    def alive(self, head: m.EnvironmentRecord) -> bool:
        return head.expires_at is None or head.expires_at > self.clock()

    def _load(self, project_id: str, envs: list[str]) -> tuple[m.ProjectRecord, dict[str, m.EnvironmentRecord]]:
        project, found = self.store.load(project_id, envs)
        if project is None:
            raise NotFoundError(f"project '{project_id}' not found", code="project_not_found")
        return project, found

    def _require(self, found: dict[str, m.EnvironmentRecord], project_id: str, env: str) -> m.EnvironmentRecord:
        head = found.get(env)
        if head is None or not self.alive(head):
            raise NotFoundError(f"environment '{env}' of project '{project_id}' not found", code="env_not_found")
        return head

    def _expect(self, head: m.EnvironmentRecord, expected: int | None) -> None:
        if expected is not None and expected != head.revision:
            raise RevisionConflict(head.project_id, head.env, head.revision)

    def _commit(self, previous: m.EnvironmentRecord | None, head: m.EnvironmentRecord) -> None:
        self.store.put_environment(head, previous.revision if previous else None)
        entries = ([history_of(previous)] if previous else []) + [history_of(head)]
        try:
            self.store.put_history(entries)
        except UnavailableError:
            # The change is committed; its entry lives on in the head and is written by the next commit.
            logger.warning("history entry deferred", extra={"project_id": head.project_id, "env": head.env})

    def _point(self, head: m.EnvironmentRecord, version: m.VersionRecord) -> None:
        head.version, head.version_seq = version.label, version.seq
        head.version_hash, head.version_flags = version.content_hash, version.flags
        self._remember_release(head)

    def _follow(self, head: m.EnvironmentRecord, source: m.EnvironmentRecord) -> None:
        head.version, head.version_seq = source.version, source.version_seq
        head.version_hash, head.version_flags = source.version_hash, source.version_flags
        self._remember_release(head)

    def _remember_release(self, head: m.EnvironmentRecord) -> None:
        if head.version is None:
            return
        releases = {**head.releases, head.version: head.revision}
        if len(releases) > MAX_RELEASES:
            releases = dict(sorted(releases.items(), key=lambda kv: kv[1])[-MAX_RELEASES:])
        head.releases = releases

    def _gate(
        self, caller: Principal, request_id: str, project_id: str, env: str, version: str, deployment_id: str
    ) -> m.GateView:
        result = self.gate(project_id=project_id, environment=env, version=version, deployment_id=deployment_id)
        reasons = [str(r) for r in result.reasons]
        if not result.allow:
            self._audit(
                caller,
                request_id,
                "promote",
                project_id,
                env,
                {"version": version, "decision_id": result.decision_id, "reasons": reasons},
                status="denied",
            )
            raise ForbiddenError(
                f"the planning gate denied this change of {env}: {'; '.join(reasons) or 'no reason given'}",
                code="promotion_denied",
                details=[{"reason": r} for r in reasons] + [{"decision_id": result.decision_id}],
            )
        return m.GateView(decision_id=result.decision_id, reasons=reasons)

    def _secret(self, project_id: str, env: str, name: str, value: str) -> m.Variable:
        secret_id, version = self.secrets.put(project_id, env, name, value, token=str(uuid.uuid4()))
        return m.Variable(secret=True, secret_id=secret_id, secret_version=version)

    def _apply(
        self,
        project_id: str,
        env: str,
        variables: dict[str, m.Variable],
        patch: dict[str, m.VariableInput | None],
    ) -> tuple[dict[str, m.Variable], list[str]]:
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
            secret = m.looks_secret(name) or flagged is True or (flagged is None and old is not None and old.secret)
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
                variables[name] = m.Variable(value=value)
            changed.append(name)
        return variables, sorted(changed)

    def _check_size(self, base: dict[str, m.Variable], patch: dict[str, Any]) -> None:
        size = sum(len(k) + len(x.value or "") + 128 for k, x in base.items() if k not in patch)
        size += sum(len(k) + len(x if isinstance(x, str) else x.value) + 128 for k, x in patch.items())
        if size > MAX_CONFIG_BYTES:
            raise PayloadTooLargeError(
                f"the environment's configuration would exceed {MAX_CONFIG_BYTES} bytes", code="config_too_large"
            )

    def _request_fingerprint(self, body: m.EnvCreateRequest) -> str:
        shown = body.model_dump(mode="json")
        shown["env_variables"] = {
            k: (x if isinstance(x, str) and not m.looks_secret(k) else m.MASK)
            for k, x in shown["env_variables"].items()
        }
        return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()

    def _value(self, var: m.Variable) -> str | None:
        if var.secret:
            return self.secrets.get(var.secret_id or "", var.secret_version or "")
        return var.value

    @staticmethod
    def _shown(var: m.Variable | None) -> str | None:
        if var is None:
            return None
        return m.MASK if var.secret else var.value

    @staticmethod
    def _effective_flags(head: m.EnvironmentRecord) -> dict[str, bool]:
        return {**head.version_flags, **head.flags}

    def _view(self, head: m.EnvironmentRecord) -> m.EnvironmentView:
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
        )

    @staticmethod
    def _entry_view(entry: m.HistoryRecord) -> m.HistoryEntryView:
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
        )

    def _audit(
        self,
        caller: Principal,
        request_id: str,
        action: str,
        project_id: str,
        env: str,
        details: dict[str, Any],
        status: str = "allowed",
    ) -> None:
        with suppress(UnavailableError):  # the change stands; the structured log line was written
            self.audit.record(
                kind="env",
                request_id=request_id,
                engine_id=caller.engine_id,
                status=status,  # type: ignore[arg-type]
                action_type=action,
                project_id=project_id,
                details={"environment": env, **details},
            )
