"""In-memory stores with the same behaviour as the DynamoDB ones: for unit tests and benchmarks."""

from __future__ import annotations

import copy
import threading
from typing import Any

from puraify.audit import REPLAYED
from puraify.auth import ADMIN_SCOPE
from puraify.clock import now
from puraify.engine_control.records import Catalog, EngineRecord, Flag, GrantChangeRecord, Platform
from puraify.errors import ConflictError, NotFoundError
from tests.fakes import stored


class MemoryEngineStore:
    def __init__(self) -> None:
        self.records: dict[str, EngineRecord] = {}
        self.reads = 0
        self._lock = threading.Lock()

    def get(self, engine_id: str) -> EngineRecord | None:
        self.reads += 1
        record = self.records.get(engine_id)
        return record.model_copy(deep=True) if record else None

    def list(self) -> list[EngineRecord]:
        return [r.model_copy(deep=True) for r in self.records.values()]

    def create(self, record: EngineRecord) -> None:
        with self._lock:
            if record.engine_id in self.records:
                raise ConflictError(f"engine '{record.engine_id}' already exists", code="engine_exists")
            self.records[record.engine_id] = record.model_copy(deep=True)

    def update(self, record: EngineRecord, expected_key_hash: str, *, keep_admin: str | None = None) -> None:
        with self._lock:
            current = self.records.get(record.engine_id)
            if current is None or current.status != "active":
                raise NotFoundError(f"engine '{record.engine_id}' not found", code="engine_not_found")
            if current.key_hash != expected_key_hash:
                raise ConflictError(
                    f"engine '{record.engine_id}' changed concurrently; retry", code="concurrent_change"
                )
            if keep_admin is not None:
                other = self.records.get(keep_admin)
                if other is None or other.status != "active" or ADMIN_SCOPE not in other.scopes or other.suspended:
                    raise ConflictError(f"engine '{keep_admin}' is no longer an active admin", code="last_admin")
            self.records[record.engine_id] = record.model_copy(deep=True)


class MemoryCatalogStore:
    def __init__(self) -> None:
        self.catalog = Catalog()
        self.reads = 0

    def load(self) -> Catalog:
        self.reads += 1
        return self.catalog.model_copy(deep=True)

    def put_platform(self, platform: Platform) -> None:
        self.catalog.platforms[platform.name] = platform.model_copy(deep=True)

    def put_flag(self, flag: Flag) -> None:
        stored = self.catalog.flags.get(flag.name)
        if (stored.revision if stored else 0) != flag.revision:
            raise ConflictError(f"flag '{flag.name}' changed concurrently; retry", code="concurrent_change")
        self.catalog.flags[flag.name] = flag.model_copy(deep=True, update={"revision": flag.revision + 1})


class MemoryAuditStore:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.auth_failures: dict[tuple[str, str], dict[str, Any]] = {}

    def put(self, record: dict[str, Any]) -> None:
        self.records.append(stored(record))

    def last_seen(self, engine_id: str) -> str | None:
        key = f"ENGINE#{engine_id}"
        seen = [r["timestamp"] for r in self.records if r["pk"] == key and r["kind"] != "auth"]
        return max(seen, default=None)

    def put_many(self, records: list[dict[str, Any]]) -> None:
        self.records.extend(stored(r) for r in records)

    def add_auth_failure(self, aggregate: dict[str, Any], sample: dict[str, Any], *, samples: int, at: str) -> int:
        item = self.auth_failures.setdefault((aggregate["pk"], aggregate["sk"]), {**aggregate, "count": 0})
        item["count"] += 1
        item["last_at"] = at
        if len(item.setdefault("samples", [])) < samples:
            item["samples"].append(dict(sample))
        return int(item["count"])

    def by_project(
        self, project_id: str, *, since: str = "", flow_id: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        attribute, key = ("project_pk", f"PROJECT#{project_id}")
        if flow_id is not None:
            attribute, key = ("flow_pk", f"PROJECT#{project_id}#FLOW#{flow_id}")
        live = [
            r for r in self.records if r.get(attribute) == key and r["project_sk"] >= since and r["expires_at"] > now()
        ]
        return sorted(live, key=lambda r: r["project_sk"], reverse=True)[:limit]

    def checks_about(
        self, engine_id: str, *, since: str, until: str, limit: int, replayed: bool = False
    ) -> list[dict[str, Any]]:
        found = self._window("subject_pk", f"CHECK#{engine_id}", since, until, limit)
        return [{k: r[k] for k in REPLAYED if k in r} for r in found] if replayed else found

    def checks_on(self, platform: str, *, since: str, until: str, limit: int) -> list[dict[str, Any]]:
        prefix = f"PLATFORM#{platform}#"
        live = [
            r
            for r in self.records
            if r.get("platform_pk", "").startswith(prefix) and since <= r["sk"] < until and r["expires_at"] > now()
        ]
        newest = sorted(live, key=lambda r: r["sk"], reverse=True)[:limit]
        return [{k: r[k] for k in REPLAYED if k in r} for r in newest]

    def admin_changes(self, *, since: str, until: str, limit: int) -> list[dict[str, Any]]:
        return self._window("subject_pk", "ADMIN", since, until, limit)

    def _window(self, attribute: str, key: str, since: str, until: str, limit: int) -> list[dict[str, Any]]:
        live = [
            r for r in self.records if r.get(attribute) == key and since <= r["sk"] < until and r["expires_at"] > now()
        ]
        return sorted(live, key=lambda r: r["sk"], reverse=True)[:limit]

    def by_engine(self, engine_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        key = f"ENGINE#{engine_id}"
        live = [r for r in self.records if r["pk"] == key and r["expires_at"] > now()]
        return sorted(live, key=lambda r: r["sk"])[:limit]


class MemoryEventStore:
    def __init__(self) -> None:
        self.events: dict[tuple[str, str], dict[str, Any]] = {}

    def put(self, event: dict[str, Any]) -> None:
        self.events[(event["pk"], event["sk"])] = copy.deepcopy(event)


class MemoryCheckCountStore:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.writes = 0

    def add(self, minute: str, counts: dict[str, int], expires_at: int) -> None:
        self.writes += 1
        item = self.items.setdefault(minute, {"pk": "CHECKS", "sk": f"MIN#{minute}"})
        for name, value in counts.items():
            item[name] = item.get(name, 0) + value
        item["expires_at"] = expires_at

    def minutes(self, first: str, last: str) -> list[dict[str, Any]]:
        live = [m for m in sorted(self.items) if first <= m <= last and self.items[m]["expires_at"] > now()]
        return [dict(self.items[m]) for m in live]


class MemoryUsageStore:
    """The shared rate-limit totals (``puraify.ratelimit.UsageStore``): one running total per key."""

    def __init__(self) -> None:
        self.totals: dict[str, int] = {}
        self.writes = 0
        self._lock = threading.Lock()

    def add_usage(self, used: dict[str, int]) -> dict[str, int]:
        if not used:
            return {}
        with self._lock:
            self.writes += 1
            for key, count in used.items():
                self.totals[key] = self.totals.get(key, 0) + count
            return {key: self.totals[key] for key in used}


class MemoryGrantChangeStore:
    """Grant changes; writes after the first conditional on ``seq``, as in DynamoDB."""

    def __init__(self) -> None:
        self.records: dict[str, GrantChangeRecord] = {}
        self._lock = threading.Lock()

    def create(self, record: GrantChangeRecord) -> None:
        with self._lock:
            if record.change_id in self.records:
                raise ConflictError(f"grant change {record.change_id} changed concurrently", code="change_changed")
            self.records[record.change_id] = record.model_copy(deep=True)

    def get(self, change_id: str) -> GrantChangeRecord | None:
        found = self.records.get(change_id)
        return found.model_copy(deep=True) if found else None

    def replace(self, record: GrantChangeRecord, expected_seq: int) -> None:
        with self._lock:
            current = self.records.get(record.change_id)
            if current is None or current.seq != expected_seq:
                raise ConflictError(f"grant change {record.change_id} changed concurrently", code="change_changed")
            self.records[record.change_id] = record.model_copy(deep=True)

    def page(self, limit: int, before: str | None = None) -> list[GrantChangeRecord]:
        found = sorted((c for i, c in self.records.items() if before is None or i < before), key=lambda c: c.change_id)
        return [c.model_copy(deep=True) for c in reversed(found)][:limit]
