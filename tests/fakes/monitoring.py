"""In-memory Monitoring store with the DynamoDB store's behaviour, for unit tests and benchmarks."""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from puraify import clock
from puraify.errors import UnavailableError
from puraify.monitoring.ports import HIGH
from puraify.store.monitoring import GROUP_FIELDS, SUBJECT_FIELDS, window_key
from puraify.store.monitoring_versions import _last, _prefix, _reported_sk, _sk
from tests.fakes.alert_caps import MemoryAlertCaps


def _alert_key(alert: dict[str, Any]) -> tuple[str, str]:
    return (alert["project_id"], f"{alert['created_at']}#{alert['alert_id']}")


def _shown(item: dict[str, Any], field: str) -> Any:
    """A field as the DynamoDB store filters it (``platform_key`` is the lower-cased ``platform``)."""
    if field.endswith("_key") and item.get(field) is None and isinstance(item.get(field[:-4]), str):
        return item[field[:-4]].lower()
    if field == "engine_key" and item.get(field) is None:
        return item.get("reported_by")  # an event stored without an engine is its sender's
    return item.get(field)


class MemoryMonitoringStore(MemoryAlertCaps):
    def __init__(self, shards: int = 4) -> None:
        super().__init__()
        self.events: dict[tuple[str, str], dict[str, Any]] = {}
        self.aggregates: dict[tuple[str, str], dict[str, Any]] = {}
        self.alert_items: dict[tuple[str, str], dict[str, Any]] = {}
        self.gates: dict[tuple[str, str], dict[str, Any]] = {}
        self.ledgers: dict[str, dict[str, Any]] = {}
        self.alert_ids: dict[str, tuple[str, str]] = {}
        self.fingerprints: dict[tuple[str, str], dict[str, Any]] = {}
        self.shards = shards
        self.fail_counting = False  # tests: the counter write fails after the events are stored
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def shard(self, event_id: str) -> int:
        """The DynamoDB store's shard of an event id (``shards`` of them)."""
        return int.from_bytes(hashlib.blake2b(event_id.encode(), digest_size=4).digest(), "big") % self.shards

    def event_key(self, project_id: str, event_id: str) -> dict[str, str]:
        return {"pk": f"EV#{project_id}#{self.shard(event_id)}", "sk": event_id}

    def existing_events(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        self.calls["read"] += 1
        return {k for k in keys if k in self.events}

    def put_ledger(self, ledger: dict[str, Any]) -> None:
        self.calls["write"] += 1
        self.ledgers[ledger["ledger_id"]] = copy.deepcopy(ledger)

    def create_events(
        self, records: list[dict[str, Any]], ledger_id: str
    ) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]]:
        self.calls["write"] += -(-len(records) // 100)  # as the DynamoDB store: transactions of up to 100 Puts
        created = []
        with self._lock:
            for record in records:
                key = (record["project_id"], record["event_id"])
                if key not in self.events:
                    self.events[key] = {**copy.deepcopy(record), "ledger_id": ledger_id}
                    created.append(record)
                elif self.events[key]["ledger_id"] == ledger_id:  # our own write, retried: ours, as in DynamoDB
                    created.append(record)
        return created, []

    def events_of_ledger(self, ledger: dict[str, Any]) -> list[dict[str, Any]]:
        self.calls["read"] += 1
        found = [self.events.get((p, e)) for p, e in ledger.get("events", [])]
        return [copy.deepcopy(e) for e in found if e and e.get("ledger_id") == ledger["ledger_id"]]

    def apply_ledgers(
        self, ledgers: list[dict[str, Any]], counts_of: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        if self.fail_counting:
            raise UnavailableError("the error aggregates are temporarily unavailable", code="store_unavailable")
        self.calls["write"] += 1
        with self._lock:
            pending = [ledger for ledger in ledgers if ledger["ledger_id"] in self.ledgers]
            for update in counts_of(pending):
                if update["kind"] == "totals":
                    item = self.aggregates.setdefault(
                        (update["project_id"], f"T#{window_key(update['window'])}"), {"events": 0, "errors": 0}
                    )
                    item.update(events=item["events"] + update["events"], errors=item["errors"] + update["errors"])
                else:
                    key = (update["project_id"], f"F#{window_key(update['window'])}#{update['fingerprint']}")
                    item = self.aggregates.setdefault(key, {"occurrences": 0, "first_seen": update["first_seen"]})
                    item["occurrences"] += update["count"]
                    item["entitled"] = item.get("entitled", 0) + update.get("entitled", 0)
                    if update.get("first_seen_version"):
                        item.setdefault("first_seen_version", update["first_seen_version"])
                    if update.get("last_seen_version"):
                        item["last_seen_version"] = update["last_seen_version"]
                    item.update(
                        {k: update[k] for k in GROUP_FIELDS if update.get(k)},
                        last_seen=update["last_seen"],
                        last_received=update["at"],
                    )
                item.update(expires_at=update["expires_at"], window_start=update["window"])
            for ledger in pending:
                del self.ledgers[ledger["ledger_id"]]
            return pending

    def stale_ledgers(self, before: float, limit: int = 200) -> list[dict[str, Any]]:
        self.calls["read"] += 1
        return [copy.deepcopy(ledger) for ledger in self.ledgers.values() if ledger["at"] < before][:limit]

    def group_counts(self, keys: list[tuple[str, int, str]]) -> dict[tuple[str, int, str], dict[str, Any]]:
        self.calls["read"] += 1
        found = {}
        for project, window, fp in keys:
            item = self.aggregates.get((project, f"F#{window_key(window)}#{fp}"))
            if item:
                found[(project, window, fp)] = {
                    "occurrences": item["occurrences"],
                    "entitled": item.get("entitled", 0),
                    "last_received": item.get("last_received", 0.0),
                }
        return found

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
        return found[:limit], len(found) >= limit  # as the DynamoDB store: truncated when it reached the limit

    def totals(self, project_id: str, since_window: int) -> tuple[list[dict[str, Any]], bool]:
        self.calls["read"] += 1
        return self._aggregates(project_id, "T", since_window), False

    def create_alert(self, alert: dict[str, Any]) -> None:
        self.calls["write"] += 2
        self.alert_items[_alert_key(alert)] = copy.deepcopy(alert)
        self.alert_ids[alert["alert_id"]] = _alert_key(alert)

    def update_delivery(self, alert: dict[str, Any]) -> None:
        self.calls["write"] += 1
        stored = self.alert_items[_alert_key(alert)]
        stored.update(delivery=copy.deepcopy(alert["delivery"]), next_attempt_at=alert.get("next_attempt_at"))

    def find_alert(self, alert_id: str) -> dict[str, Any] | None:
        self.calls["read"] += 1
        key = self.alert_ids.get(alert_id)
        return copy.deepcopy(self.alert_items[key]) if key else None

    def transition_alert(
        self, alert: dict[str, Any], to: str, allowed_from: tuple[str, ...], step: dict[str, Any]
    ) -> dict[str, Any] | None:
        self.calls["write"] += 1
        with self._lock:
            stored = self.alert_items[_alert_key(alert)]
            if stored["status"] not in allowed_from:
                return None
            stored.update({"status": to, f"{to}_by": step["by"], f"{to}_at": step["at"]})
            stored.setdefault("history", []).append(dict(step))
            if to == "resolved" and stored.get("fingerprint"):
                state = self.fingerprints.setdefault((stored["project_id"], stored["fingerprint"]), {})
                for name in ("alert_sk", "alert_id", "severity"):
                    state.pop(name, None)
                state["resolved_at"] = step["at"]
            return copy.deepcopy(stored)

    def escalate_alert(
        self, alert_sk: str, project_id: str, severity: str, step: dict[str, Any]
    ) -> dict[str, Any] | None:
        self.calls["write"] += 1
        with self._lock:
            stored = self.alert_items.get((project_id, alert_sk))
            if stored is None or stored["status"] == "resolved" or stored["severity"] == severity:
                return None
            stored.update(severity=severity, message=step["reason"])
            stored.setdefault("history", []).append(dict(step))
            return copy.deepcopy(stored)

    def list_alerts(
        self, project_id: str, *, status: str | None, severity: str | None, limit: int, before: str | None
    ) -> tuple[list[dict[str, Any]], bool]:
        self.calls["read"] += 1
        found = [
            copy.deepcopy(a)
            for (project, sk), a in sorted(self.alert_items.items(), reverse=True)
            if project == project_id
            and (before is None or sk < before)
            and a["expires_at"] > clock.now()
            and (status is None or a["status"] == status or (status == "unresolved" and a["status"] != "resolved"))
            and (severity is None or a["severity"] == severity)
        ]
        return found[:limit], len(found) >= limit  # as the DynamoDB store: a full page may have a next one

    def count_unresolved(self, project_id: str, severity: str) -> int:
        self.calls["read"] += 1
        return sum(
            1
            for (project, _), a in self.alert_items.items()
            if project == project_id and a["severity"] == severity and a["status"] != "resolved"
            and a["expires_at"] > clock.now()
        )  # fmt: skip

    def unresolved_fingerprint_alerts(self, limit: int = 1000) -> list[dict[str, Any]]:
        self.calls["read"] += 1
        return [
            copy.deepcopy(a) for a in self.alert_items.values() if a["status"] != "resolved" and a.get("fingerprint")
        ][:limit]

    def fingerprint_states(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        self.calls["read"] += 1
        return {k: copy.deepcopy(self.fingerprints[k]) for k in keys if k in self.fingerprints}

    def claim_fingerprint(self, project_id: str, fingerprint: str, alert: dict[str, Any]) -> bool:
        self.calls["write"] += 1
        with self._lock:
            state = self.fingerprints.setdefault((project_id, fingerprint), {})
            if state.get("alert_sk"):
                return False
            state.update(alert_sk=_alert_key(alert)[1], alert_id=alert["alert_id"], severity=alert["severity"])
            return True

    def claim_escalation(self, project_id: str, fingerprint: str, alert_sk: str, severity: str) -> bool:
        self.calls["write"] += 1
        with self._lock:
            state = self.fingerprints.get((project_id, fingerprint), {})
            if state.get("alert_sk") != alert_sk or state.get("severity") == severity:
                return False
            state["severity"] = severity
            return True

    def claim_retry(self, alert: dict[str, Any], until: float) -> bool:
        self.calls["write"] += 1
        with self._lock:
            stored = self.alert_items[_alert_key(alert)]
            if stored.get("next_attempt_at") != alert["next_attempt_at"]:
                return False
            stored["next_attempt_at"] = until
            return True

    def alerts(self, project_id: str, since: str = "", limit: int = 1000) -> list[dict[str, Any]]:
        self.calls["read"] += 1
        found = [
            copy.deepcopy(a)
            for (project, sk), a in sorted(self.alert_items.items())
            if project == project_id and sk >= since and a["expires_at"] > clock.now()
        ]
        return found[:limit]

    def due_alerts(self, at: float, limit: int = 100) -> list[dict[str, Any]]:
        self.calls["read"] += 1
        due = [
            a for a in self.alert_items.values() if a.get("next_attempt_at") is not None and a["next_attempt_at"] <= at
        ]
        return [copy.deepcopy(a) for a in sorted(due, key=lambda a: a["next_attempt_at"])][:limit]

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


class MemoryVersionCounterStore:
    """The same counters in memory, for unit tests."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def add_version_counts(
        self,
        project_id: str,
        version: str,
        environment: str,
        window_start: int,
        counts: dict[str, int],
        expires_at: int,
        reporter: str,
    ) -> None:
        sk = _sk(version, environment, window_start, reporter)
        self._add(project_id, sk, counts, expires_at=expires_at, window_start=window_start, version=version,
                  environment=environment, reporter=reporter)  # fmt: skip

    def add_reported_counts(
        self, project_id: str, environment: str, window_start: int, counts: dict[str, int], expires_at: int
    ) -> None:
        sk = _reported_sk(environment, window_start)
        self._add(project_id, sk, counts, expires_at=expires_at, window_start=window_start, environment=environment)

    def _add(self, project_id: str, sk: str, counts: dict[str, int], **sets: Any) -> None:
        with self._lock:
            item = self.items.setdefault((project_id, sk), {})
            for name, n in counts.items():
                item[name] = item.get(name, 0) + n
            item.update(sets)

    def version_windows(
        self, project_id: str, version: str, environment: str, low: int, high: int
    ) -> list[dict[str, Any]]:
        lo, hi = _sk(version, environment, max(low, 0)), _last(version, environment, max(high, 0))
        return [dict(i) for (p, sk), i in sorted(self.items.items()) if p == project_id and lo <= sk <= hi and _live(i)]

    def reported_windows(self, project_id: str, environment: str, low: int, high: int) -> list[dict[str, Any]]:
        lo, hi = _reported_sk(environment, max(low, 0)), _reported_sk(environment, max(high, 0))
        return [dict(i) for (p, sk), i in sorted(self.items.items()) if p == project_id and lo <= sk <= hi]

    def versions_seen(self, project_id: str, version: str) -> list[dict[str, Any]]:
        prefix = _prefix(version)
        return [
            dict(i)
            for (p, sk), i in sorted(self.items.items())
            if p == project_id and sk.startswith(prefix) and _live(i)
        ]


def _live(item: dict[str, Any]) -> bool:
    """Not expired: the adapters' reads filter ``expires_at`` (DynamoDB's TTL deletes late, emulators never)."""
    return bool(item["expires_at"] > clock.now())


class MemoryParameters:
    """SSM parameters in memory: ``values`` by name."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values = dict(values or {})

    def get(self, name: str) -> str | None:
        return self.values.get(name)


def memory_monitoring(
    settings: Any,
    store: MemoryMonitoringStore | None = None,
    parameters: Any = None,
    topic: Any = None,
    sender: Any = None,
) -> Any:
    """A Monitoring service over in-memory stores (the wiring's ``_monitoring`` with fakes)."""
    from puraify.monitoring.service import create
    from tests.fakes.engine_control import MemoryCheckCountStore, MemoryEventStore
    from tests.fakes.environments import MemorySecretStore
    from tests.fakes.routes import MemoryRouteStore

    return create(
        settings,
        store if store is not None else MemoryMonitoringStore(),
        parameters if parameters is not None else MemoryParameters(),
        topic,
        versions=MemoryVersionCounterStore(),
        check_counts=MemoryCheckCountStore(),
        engine_events=MemoryEventStore(),
        route_store=MemoryRouteStore(),
        channel_secrets=MemorySecretStore("puraify/test/alert-routes"),
        sender=sender,
    )
