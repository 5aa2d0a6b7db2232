"""In-memory stores with the DynamoDB and Secrets Manager stores' behaviour: for unit tests and benchmarks."""

from __future__ import annotations

import threading

from puraify.clock import now
from puraify.environments.errors import (
    ChangeChanged,
    ChangePending,
    DeploymentChanged,
    EnvironmentExists,
    LabelTaken,
    ProjectChanged,
    RevisionConflict,
)
from puraify.environments.records import (
    ChangeRecord,
    DeploymentRecord,
    EnvironmentRecord,
    HistoryRecord,
    ProjectRecord,
    VersionRecord,
)
from puraify.errors import UnavailableError


class MemoryEnvironmentStore:
    def __init__(self) -> None:
        self.projects: dict[str, ProjectRecord] = {}
        self.heads: dict[tuple[str, str], EnvironmentRecord] = {}
        self.entries: dict[tuple[str, str, int], HistoryRecord] = {}
        self.version_records: dict[tuple[str, str], VersionRecord] = {}
        self.fail_history_writes = 0
        self._lock = threading.Lock()

    def load(self, project_id: str, envs: list[str]) -> tuple[ProjectRecord | None, dict[str, EnvironmentRecord]]:
        project = self.projects.get(project_id)
        found = {e: self.heads[(project_id, e)].model_copy(deep=True) for e in envs if (project_id, e) in self.heads}
        return (project.model_copy() if project else None), found

    def list_environments(self, project_id: str) -> list[EnvironmentRecord]:
        return [h.model_copy(deep=True) for (p, _), h in self.heads.items() if p == project_id]

    def versions(self, project_id: str, labels: list[str], with_state: bool = False) -> dict[str, VersionRecord]:
        found = {}
        for label in labels:
            record = self.version_records.get((project_id, label))
            if record is not None:
                found[label] = record.model_copy(update={} if with_state else {"state": None}, deep=True)
        return found

    def version_hash(self, project_id: str, label: str) -> str | None:
        record = self.version_records.get((project_id, label))
        return record.content_hash if record else None

    def history_entry(self, project_id: str, env: str, revision: int) -> HistoryRecord | None:
        return self.entries.get((project_id, env, revision))

    def history(self, project_id: str, env: str, limit: int, before: int | None = None) -> list[HistoryRecord]:
        found = [
            e
            for (p, n, r), e in self.entries.items()
            if p == project_id and n == env and (before is None or r < before)
        ]
        return sorted(found, key=lambda e: e.revision, reverse=True)[:limit]

    def expired_previews(self, at: float, limit: int = 100) -> list[EnvironmentRecord]:
        """Expired preview heads, the earliest expiry first, in whole seconds (the adapter's ``by_expiry`` index)."""
        found = [
            h for h in self.heads.values() if h.preview and h.expires_at is not None and int(h.expires_at) <= int(at)
        ]
        return [h.model_copy(deep=True) for h in sorted(found, key=lambda h: int(h.expires_at or 0))][:limit]

    def put_environment(self, record: EnvironmentRecord, expected_revision: int | None) -> None:
        key = (record.project_id, record.env)
        with self._lock:
            current = self.heads.get(key)
            if expected_revision is None and current is not None:
                raise EnvironmentExists(record.project_id, record.env)
            if expected_revision is not None and (current is None or current.revision != expected_revision):
                raise RevisionConflict(record.project_id, record.env, current.revision if current else None)
            self.heads[key] = record.model_copy(deep=True)

    def put_history(self, entries: list[HistoryRecord]) -> None:
        if self.fail_history_writes:
            self.fail_history_writes -= 1
            raise UnavailableError("the environment store is temporarily unavailable; retry later")
        for entry in entries:
            self.entries[(entry.project_id, entry.env, entry.revision)] = entry.model_copy(deep=True)

    def put_version(self, record: VersionRecord) -> None:
        with self._lock:
            if (record.project_id, record.label) in self.version_records:
                raise LabelTaken(record.project_id, record.label)
            self.version_records[(record.project_id, record.label)] = record.model_copy(deep=True)

    def delete_version(self, project_id: str, label: str) -> None:
        self.version_records.pop((project_id, label), None)

    def put_project(self, record: ProjectRecord, expected_seq: int | None) -> None:
        with self._lock:
            current = self.projects.get(record.project_id)
            if (current.latest_seq if current else None) != expected_seq:
                raise ProjectChanged(record.project_id)
            self.projects[record.project_id] = record.model_copy()

    def delete_environment(self, project_id: str, env: str) -> None:
        for key in [k for k in self.entries if k[0] == project_id and k[1] == env]:
            del self.entries[key]
        self.heads.pop((project_id, env), None)


class MemorySecretStore:
    def __init__(self, prefix: str = "puraify/test/env") -> None:
        self.prefix = prefix
        self.values: dict[str, dict[str, str]] = {}
        self.writes = 0

    def name(self, project_id: str, env: str, variable: str) -> str:
        return f"{self.prefix}/{project_id}/{env}/{variable}"

    def put(self, project_id: str, env: str, variable: str, value: str, token: str) -> tuple[str, str]:
        name = self.name(project_id, env, variable)
        self.values.setdefault(name, {})[token] = value
        self.writes += 1
        return name, token

    def get(self, name: str, version: str) -> str:
        """The value of one version; an unknown secret or version is the adapter's 503, not a KeyError."""
        found = self.values.get(name, {}).get(version)
        if found is None:
            raise UnavailableError("the secret store is temporarily unavailable; retry later", code="store_unavailable")
        return found

    def delete(self, name: str) -> bool:
        return self.values.pop(name, None) is not None


class MemoryDeploymentStore:
    """The same behaviour in memory, for unit tests and benchmarks."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], DeploymentRecord] = {}
        self._lock = threading.Lock()

    def put(self, record: DeploymentRecord) -> None:
        """A new deployment; its key is never overwritten (the adapter's conditional put fails as a 503)."""
        with self._lock:
            if (record.project_id, record.key) in self.records:
                raise UnavailableError("the deployment store is temporarily unavailable; retry later",
                                       code="store_unavailable")  # fmt: skip
            self.records[(record.project_id, record.key)] = record.model_copy(deep=True)

    def replace(self, record: DeploymentRecord, expected_checks: int) -> None:
        with self._lock:
            current = self.records.get((record.project_id, record.key))
            if current is None or current.checks != expected_checks:
                raise DeploymentChanged(record.deployment_id)
            self.records[(record.project_id, record.key)] = record.model_copy(deep=True)

    def delete(self, record: DeploymentRecord) -> None:
        self.records.pop((record.project_id, record.key), None)

    def get(self, project_id: str, key: str) -> DeploymentRecord | None:
        found = self.records.get((project_id, key))
        return found.model_copy(deep=True) if found else None

    def latest(self, project_id: str, environment: str) -> DeploymentRecord | None:
        found = self.recent(project_id, environment, limit=1)
        return found[0] if found else None

    def recent(
        self, project_id: str, environment: str | None = None, since: str = "", limit: int = 100
    ) -> list[DeploymentRecord]:
        found = [
            r.model_copy(deep=True)
            for (p, _), r in self.records.items()
            if p == project_id and environment in (None, r.environment) and r.created_at >= since and _live(r)
        ]
        return sorted(found, key=lambda r: (r.created_at, r.deployment_id), reverse=True)[:limit]

    def baking(self, limit: int = 100) -> list[DeploymentRecord]:
        found = [r.model_copy(deep=True) for r in self.records.values() if r.state == "baking" and _live(r)]
        return sorted(found, key=lambda r: int(r.started_epoch + (r.bake_seconds or 0)))[:limit]


def _live(record: DeploymentRecord) -> bool:
    """Not expired: the adapter's reads filter ``expires_at`` (DynamoDB's TTL deletes late, emulators never)."""
    return record.expires_at > now()


class MemoryChangeStore:
    """Change requests and each environment's pending slot, with the DynamoDB store's conditions."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], ChangeRecord] = {}
        self.slots: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def create(self, record: ChangeRecord, at: float) -> None:
        with self._lock:
            slot = self.slots.get((record.project_id, record.environment))
            if (record.project_id, record.change_id) in self.records or (slot is not None and slot[1] > at):
                holder = slot[0] if slot else "another change"
                raise ChangePending(record.project_id, record.environment, holder)
            self.records[(record.project_id, record.change_id)] = record.model_copy(deep=True)
            self.slots[(record.project_id, record.environment)] = (record.change_id, record.expires_epoch)

    def get(self, project_id: str, change_id: str) -> ChangeRecord | None:
        found = self.records.get((project_id, change_id))
        return found.model_copy(deep=True) if found else None

    def pending(self, project_id: str, env: str) -> str | None:
        slot = self.slots.get((project_id, env))
        return slot[0] if slot else None

    def replace(self, record: ChangeRecord, expected_seq: int, *, release: bool = False) -> None:
        with self._lock:
            current = self.records.get((record.project_id, record.change_id))
            if current is None or current.seq != expected_seq:
                raise ChangeChanged(record.change_id)
            self.records[(record.project_id, record.change_id)] = record.model_copy(deep=True)
            slot = self.slots.get((record.project_id, record.environment))
            if release and slot is not None and slot[0] == record.change_id:
                del self.slots[(record.project_id, record.environment)]

    def page(self, project_id: str, limit: int, before: str | None = None) -> list[ChangeRecord]:
        found = sorted(
            (c for (p, i), c in self.records.items() if p == project_id and (before is None or i < before)),
            key=lambda c: c.change_id,
            reverse=True,
        )
        return [c.model_copy(deep=True) for c in found[:limit]]
