"""The Planning Engine's stores in memory: facts, decisions, and a versioned bucket."""

from __future__ import annotations

import copy
import threading
from typing import Any

from puraify.clock import now
from tests.fakes import stored


class MemoryFactStore:
    def __init__(self) -> None:
        self.snapshots: dict[str, list[dict[str, Any]]] = {}

    def put_snapshot(self, snapshot: dict[str, Any]) -> None:
        self.snapshots.setdefault(snapshot["scope"], []).append(stored(snapshot))

    def latest(self, scope: str) -> dict[str, Any] | None:
        found = sorted(self.snapshots.get(scope, []), key=lambda s: s["collected_iso"])
        if not found or found[-1]["expires_at"] <= now():
            return None
        return copy.deepcopy(found[-1])


class MemoryDecisionStore:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def put(self, record: dict[str, Any]) -> None:
        self.records.append(stored(record))

    def by_deployment(
        self, deployment_id: str, since: str, limit: int, before: str | None = None, project_id: str | None = None
    ) -> list[dict[str, Any]]:
        return self._select(
            lambda r: r["deployment_id"] == deployment_id and project_id in (None, r["project_id"]),
            since,
            limit,
            before,
        )

    def by_project(self, project_id: str, since: str, limit: int, before: str | None = None) -> list[dict[str, Any]]:
        return self._select(lambda r: r["project_id"] == project_id, since, limit, before)

    def _select(self, match: Any, since: str, limit: int, before: str | None) -> list[dict[str, Any]]:
        live = [
            r
            for r in self.records
            if match(r)
            and r["evaluated_at"] >= since
            and r["expires_at"] > now()
            and (before is None or f"{r['evaluated_at']}#{r['decision_id']}" < before)
        ]
        live.sort(key=lambda r: (r["evaluated_at"], r["decision_id"]), reverse=True)
        return copy.deepcopy(live[:limit])


class MemoryBundleStore:
    """A versioned bucket in memory: every put adds a version, reads see the latest or a given one."""

    def __init__(self) -> None:
        self.objects: dict[str, list[tuple[str, bytes]]] = {}
        self.reads = 0
        self._lock = threading.Lock()
        self._versions = 0

    def put(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> str | None:
        with self._lock:
            self._versions += 1
            version = f"v{self._versions}"
            self.objects.setdefault(key, []).append((version, bytes(body)))
        return version

    def get(self, key: str, version_id: str | None = None) -> bytes | None:
        self.reads += 1
        versions = self.objects.get(key)
        if not versions:
            return None
        if version_id is None:
            return versions[-1][1]
        return next((body for v, body in versions if v == version_id), None)

    def head(self, key: str) -> str | None:
        self.reads += 1
        versions = self.objects.get(key)
        return versions[-1][0] if versions else None

    def versions(self, key: str, limit: int) -> list[str]:
        return [v for v, _ in reversed(self.objects.get(key, []))][:limit]
