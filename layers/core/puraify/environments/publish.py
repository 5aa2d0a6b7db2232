"""Publishing: a platform state frozen as an immutable version, and the environment pointed at it."""

from __future__ import annotations

import uuid

from puraify.auth import Principal
from puraify.clock import iso
from puraify.environments import models as m
from puraify.environments import records as r
from puraify.environments import versions as v
from puraify.environments.base import (
    EnvironmentsBase,
    fingerprints,
    version_change,
)
from puraify.errors import ConflictError, NotFoundError


class Publishing(EnvironmentsBase):
    """Publish versions into non-production environments."""

    def publish(self, caller: Principal, body: m.VersionPublishRequest, request_id: str) -> m.VersionPublishResponse:
        """Freeze a platform state as a new version and point the environment at it.

        Publishing the state the environment already runs (a retry) returns that version unchanged.
        """
        pid, env = body.project_id, body.environment
        self._authorize(caller, pid, env)
        if env == r.PRODUCTION:
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
        change = r.LastChange(
            action="publish",
            created_by=caller.engine_id,
            timestamp=at,
            previous_version=current.version if current else None,
            deployment_id=uuid.uuid4().hex,
            request_id=request_id,
            changes=version_change(
                changes, v.changed_names(flags_before, {**version.flags, **(current.flags if current else {})})
            ),
        )
        if current is None:
            head = r.EnvironmentRecord(
                project_id=pid, env=env, created_at=at, updated_at=at, updated_by=caller.engine_id, last_change=change
            )
        else:
            head = current.model_copy(deep=True)
            head.revision += 1
        self._point(head, version)
        head.updated_at, head.updated_by, head.last_change = at, caller.engine_id, change
        head.released = fingerprints(head.variables)
        self._commit(current, head, self._deployment(head))
        self._audit(caller, request_id, "publish", pid, env, {"version": version.label, "revision": head.revision})
        return self._published(
            head, created=True, bump=bump, previous=current.version if current else None, changes=changes
        )

    def _new_version(
        self,
        caller: Principal,
        project: r.ProjectRecord | None,
        known: dict[str, r.VersionRecord],
        body: m.VersionPublishRequest,
        digest: str,
    ) -> tuple[r.VersionRecord, str]:
        entities, flows, flags = v.summarize(body.state)
        latest = known.get(project.latest_label) if project else None
        kind = v.bump_kind(latest, entities, flows)
        label = body.label or v.bump(project.highest_label if project else None, kind)
        bump = "label" if body.label else ("initial" if project is None else kind)
        at = iso(self.clock())
        version = r.VersionRecord(
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
        updated = r.ProjectRecord(
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
        head: r.EnvironmentRecord,
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
