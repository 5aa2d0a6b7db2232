"""In-memory Monitoring store with the DynamoDB store's behaviour, for unit tests and benchmarks."""

from __future__ import annotations

import copy
import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

from puraify import clock
from puraify.store.monitoring import HIGH, SUBJECT_FIELDS, window_key


def _shown(item: dict[str, Any], field: str) -> Any:
    """A field as the DynamoDB store filters it (``platform_key`` is the lower-cased ``platform``)."""
    if field.endswith("_key") and item.get(field) is None and isinstance(item.get(field[:-4]), str):
        return item[field[:-4]].lower()
    return item.get(field)


class MemoryMonitoringStore:
    def __init__(self) -> None:
        self.events: dict[tuple[str, str], dict[str, Any]] = {}
        self.aggregates: dict[tuple[str, str], dict[str, Any]] = {}
        self.alert_items: dict[tuple[str, str], dict[str, Any]] = {}
        self.gates: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def existing_events(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        self.calls["read"] += 1
        return {k for k in keys if k in self.events}

    def put_events(self, events: list[dict[str, Any]]) -> None:
        self.calls["write"] += -(-len(events) // 25)
        for event in events:
            self.events[(event["project_id"], event["event_id"])] = copy.deepcopy(event)

    def query_events(
        self,
        project_id: str,
        *,
        index: str,
        key: str | None = None,
        low: str = "",
        high: str = HIGH,
        filters: dict[str, str] | None = None,
        limit: int,
        newest_first: bool = True,
        attributes: list[str] | None = None,
    ) -> tuple[list[dict[str, Any]], bool]:
        self.calls["read"] += 1
        found = []
        for (project, event_id), event in self.events.items():
            ts = f"{event['timestamp']}#{event_id}"
            if project != project_id or not (low <= ts <= high) or event["expires_at"] <= clock.now():
                continue
            if index == "errors" and not event.get("is_error"):
                continue
            if index in SUBJECT_FIELDS and event.get(SUBJECT_FIELDS[index]) != key:
                continue
            if any(_shown(event, k) != v for k, v in (filters or {}).items()):
                continue
            found.append({**copy.deepcopy(event), "ts": ts})
        found.sort(key=lambda e: e["ts"], reverse=newest_first)
        return found[:limit], len(found) > limit

    def add_totals(self, project_id: str, window_start: int, events: int, errors: int, expires_at: int) -> None:
        self.calls["write"] += 1
        with self._lock:
            item = self.aggregates.setdefault((project_id, f"T#{window_key(window_start)}"), {"events": 0, "errors": 0})
            item.update(
                events=item["events"] + events,
                errors=item["errors"] + errors,
                expires_at=expires_at,
                window_start=window_start,
            )

    def add_error_group(self, project_id: str, window_start: int, group: dict[str, Any], expires_at: int) -> int:
        self.calls["write"] += 1
        with self._lock:
            key = (project_id, f"F#{window_key(window_start)}#{group['fingerprint']}")
            item = self.aggregates.setdefault(key, {"occurrences": 0, "first_seen": group["first_seen"]})
            item["occurrences"] += group["count"]
            if group.get("first_seen_version"):
                item.setdefault("first_seen_version", group["first_seen_version"])
            if group.get("last_seen_version"):
                item["last_seen_version"] = group["last_seen_version"]
            item.update(
                {k: group[k] for k in ("fingerprint", "error_type", "platform", "engine", "severity") if group.get(k)},
                last_seen=group["last_seen"],
                sample=group.get("sample"),
                expires_at=expires_at,
                window_start=window_start,
            )
            return item["occurrences"]

    def error_group_count(self, project_id: str, window_start: int, fingerprint: str) -> int:
        self.calls["read"] += 1
        item = self.aggregates.get((project_id, f"F#{window_key(window_start)}#{fingerprint}"))
        return item["occurrences"] if item else 0

    def _aggregates(self, project_id: str, kind: str, since_window: int) -> list[dict[str, Any]]:
        low = f"{kind}#{window_key(since_window)}"
        return [
            copy.deepcopy(item)
            for (project, sk), item in sorted(self.aggregates.items())
            if project == project_id and sk.startswith(f"{kind}#") and sk >= low and item["expires_at"] > clock.now()
        ]

    def error_groups(
        self, project_id: str, since_window: int, filters: dict[str, str] | None = None, limit: int = 50_000
    ) -> tuple[list[dict[str, Any]], bool]:
        self.calls["read"] += 1
        found = [
            i
            for i in self._aggregates(project_id, "F", since_window)
            if all(_shown(i, k) == v for k, v in (filters or {}).items())
        ]
        return found[:limit], len(found) > limit

    def totals(self, project_id: str, since_window: int) -> tuple[list[dict[str, Any]], bool]:
        self.calls["read"] += 1
        return self._aggregates(project_id, "T", since_window), False

    def put_alert(self, alert: dict[str, Any]) -> None:
        self.calls["write"] += 1
        self.alert_items[(alert["project_id"], f"{alert['created_at']}#{alert['alert_id']}")] = copy.deepcopy(alert)

    def alerts(self, project_id: str, since: str = "", limit: int = 1000) -> list[dict[str, Any]]:
        self.calls["read"] += 1
        return [
            copy.deepcopy(a)
            for (project, sk), a in sorted(self.alert_items.items())
            if project == project_id and sk >= since and a["expires_at"] > clock.now()
        ][:limit]

    def claim_retry(self, alert: dict[str, Any], until: float) -> bool:
        self.calls["write"] += 1
        with self._lock:
            stored = self.alert_items[(alert["project_id"], f"{alert['created_at']}#{alert['alert_id']}")]
            if stored.get("next_attempt_at") != alert["next_attempt_at"]:
                return False
            stored["next_attempt_at"] = until
            return True

    def due_alerts(self, at: float, limit: int = 100) -> list[dict[str, Any]]:
        self.calls["read"] += 1
        due = [
            a for a in self.alert_items.values() if a.get("next_attempt_at") is not None and a["next_attempt_at"] <= at
        ]
        return [copy.deepcopy(a) for a in sorted(due, key=lambda a: a["next_attempt_at"])][:limit]

    def count_alerts(self, project_id: str, since: str, severity: str, status: str) -> int:
        self.calls["read"] += 1
        return sum(1 for a in self.alerts(project_id, since) if a["severity"] == severity and a["status"] == status)

    def pass_gate(self, project_id: str, key: str, at: float, window: float, expires_at: int) -> tuple[bool, int]:
        self.calls["write"] += 1
        with self._lock:
            gate = self.gates.setdefault((project_id, key), {"suppressed": 0})
            gate["suppressed"] += 1
            last = gate.get("last_notified_at")
            if last is not None and last > at - window:
                return False, 0
            self.calls["write"] += 1
            seen = gate["suppressed"]
            gate.update(last_notified_at=at, suppressed=gate["suppressed"] - seen)
            return True, seen - 1
