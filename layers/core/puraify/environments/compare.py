"""Reads of environments: the live list, an environment's history, and the comparison of two."""

from __future__ import annotations

from puraify.auth import Principal
from puraify.environments import models as m
from puraify.environments import versions as v
from puraify.environments.base import (
    SECRETS_SCOPE,
    EnvironmentsBase,
    history_of,
    validate_path,
)
from puraify.environments.change_requests import environment_changes
from puraify.environments.rollback import rollback_targets


class Comparison(EnvironmentsBase):
    """List, page through history, and compare environments."""

    def list_environments(self, caller: Principal, project_id: str) -> m.EnvListResponse:
        """The project's live environments (expired previews are gone) with their version and revisions."""
        self._reader(caller, project_id)
        project_id = validate_path("path.project_id", project_id, m.ProjectId)
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
        self._reader(caller, project_id)
        project_id = validate_path("path.project_id", project_id, m.ProjectId)
        env = validate_path("path.environment", env, m.EnvName)
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
            rollback_versions=rollback_targets(self.store, head),
            change_requests=environment_changes(self.changes, project_id, env, self.clock()) if before is None else [],
        )

    def compare(self, caller: Principal, project_id: str, source: str, target: str) -> m.EnvCompareResponse:
        """What would change in ``target`` if it took ``source``'s version and configuration.

        Secret variables are compared by name and presence; their values only for ``env:secrets``.
        """
        self._reader(caller, project_id)
        _, found = self._load(project_id, [source, target])
        src = self._require(found, project_id, source)
        tgt = self._require(found, project_id, target)
        variables = m.VariableDiff()
        secrets = m.SecretPresence(values_compared=caller.has_scope(SECRETS_SCOPE))
        for name in sorted(src.variables.keys() | tgt.variables.keys()):
            a, b = src.variables.get(name), tgt.variables.get(name)
            secret = bool((a and a.secret) or (b and b.secret))
            entry = m.VariableDiffEntry(name=name, secret=secret, source=self._shown(a), target=self._shown(b))
            if secret:
                side = "only_in_target" if a is None else "only_in_source" if b is None else "in_both"
                getattr(secrets, side).append(name)
            if b is None:
                variables.added.append(entry)
            elif a is None:
                variables.removed.append(entry)
            elif secret and not secrets.values_compared:
                continue  # never read, so no answer depends on the value
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
            secrets=secrets,
            feature_flags=flags,
            version=m.CompareVersions(
                **changes.model_dump(),
                source=src.version,
                target=tgt.version,
                versions_apart=src.version_seq - tgt.version_seq,
            ),
        )
