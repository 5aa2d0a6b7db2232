"""``POST /monitoring/logs``: validate each event, store the batch, count errors exactly, raise alerts.

Counting is exact. A writer first stores a *ledger* (the events it is about to create), then
creates each event with a conditional write marked with the ledger's id: exactly one writer
creates an event, so the same batch arriving at several function instances at once is counted
once. The counts of the events it created are added and the ledger deleted in one transaction;
a ledger left behind (the counter write failed, or the function died) is applied by the
schedule's repair pass (``repair_counts``), which counts the events carrying its id: also
exactly once.

Writes per batch: one ledger (per 98 counters), one transaction of conditional Puts per 100
events, one transaction adding the counts; alerts only when a rule or the threshold asks.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from puraify import clock
from puraify.errors import PayloadTooLargeError, UnavailableError, ValidationFailedError, validation_error
from puraify.monitoring.alerts import Alerts
from puraify.monitoring.entitlement import Entitled, nobody
from puraify.monitoring.error_alerts import evaluate_alerts
from puraify.monitoring.fingerprint import fingerprint, severity_of
from puraify.monitoring.models import MAX_BATCH, SEVERITIES, LogEvent
from puraify.monitoring.ports import MonitoringStore, VersionCounterStore
from puraify.monitoring.versions import count as count_versions
from puraify.observability import logger


@dataclass
class ParsedBatch:
    events: list[LogEvent]
    rejected: list[dict[str, Any]]
    indexes: list[int] = field(default_factory=list)  # each event's position in the request
    single: bool = False


def _summary(error: ValidationError) -> str:
    parts = []
    for e in error.errors():
        where = ".".join(str(p) for p in e.get("loc", ())) or "event"
        parts.append(f"{where}: {e.get('msg', '')}")
    return "; ".join(parts)[:500]


def parse_payload(payload: Any) -> ParsedBatch:
    """One event object, or ``{"events": [...]}`` with up to 500 events checked one by one.

    A bad single event is a 422 with field details; in a batch it is rejected by index and the
    others still go in. More than 500 events is a 413.
    """
    if isinstance(payload, dict) and "events" in payload:
        extra = sorted(set(payload) - {"events"})
        if extra:
            raise _invalid(f"body.{extra[0]}", "Extra inputs are not permitted", "extra_forbidden")
        items = payload["events"]
        if not isinstance(items, list) or not items:
            raise _invalid("body.events", "must be a non-empty list of events", "list_type")
        if len(items) > MAX_BATCH:
            raise PayloadTooLargeError(
                f"a batch holds at most {MAX_BATCH} events, got {len(items)}", code="too_many_events"
            )
        events, rejected, indexes = [], [], []
        for index, item in enumerate(items):
            try:
                events.append(LogEvent.model_validate(item))
                indexes.append(index)
            except ValidationError as error:
                rejected.append({"index": index, "error": _summary(error)})
        return ParsedBatch(events, rejected, indexes)
    if not isinstance(payload, dict):
        raise _invalid("body", 'must be an event object or {"events": [...]}', "model_type")
    try:
        return ParsedBatch([LogEvent.model_validate(payload)], [], [0], single=True)
    except ValidationError as error:
        raise validation_error([{**e, "loc": ("body", *e.get("loc", ()))} for e in error.errors()]) from error


def _invalid(field_name: str, message: str, kind: str) -> ValidationFailedError:
    return ValidationFailedError(
        "1 invalid field(s)", details=[{"field": field_name, "message": message, "type": kind}]
    )


@dataclass
class IngestConfig:
    event_retention_days: int
    aggregate_retention_days: int
    window_seconds: int
    threshold_count: int
    notify_min_severity: str
    rules: list[Any]
    alerts_per_minute_project: int = 20
    alerts_per_minute_engine: int = 10


@dataclass
class IngestResult:
    accepted: int
    rejected: list[dict[str, Any]]
    stored: int = 0
    duplicates: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)


MAX_TX_ITEMS = 100  # DynamoDB's TransactWriteItems limit
SAMPLE_CHARS = 500


def ingest(
    store: MonitoringStore,
    alerts: Alerts,
    config: IngestConfig,
    reporter: str,
    batch: ParsedBatch,
    versions: VersionCounterStore | None = None,
    entitled: Entitled = nobody,
) -> IngestResult:
    """Store the batch's valid events once each, count each stored event once, and raise the alerts they call for.

    ``versions`` (a version counter store) also counts events that name a ``version`` per version,
    environment and minute: what the deployment watch and ``GET /monitoring/stats?version=`` read
    (the events this writer created).

    ``entitled(environment)`` says whether the reporter's events for an environment steer the gate,
    the watch and critical alerts (``puraify.monitoring.entitlement``); every valid event is stored.

    An event without ``event_id`` gets a fresh one: it is stored and counted once per request that
    carries it (a client retry of such a request stores a second copy).
    """
    at = clock.now()
    received = clock.iso(at)
    expires = clock.expires_at(config.event_retention_days, at)
    records: dict[tuple[str, str], dict[str, Any]] = {}
    positions: dict[tuple[str, str], int] = {}
    given_ids: list[tuple[str, str]] = []
    for event, index in zip(batch.events, batch.indexes or range(len(batch.events)), strict=True):
        event_id = event.event_id or uuid.uuid4().hex
        key = (event.project_id, event_id)
        if key in records:
            continue
        if event.event_id:
            given_ids.append(key)
        records[key] = _record(event, event_id, received, expires, reporter, config, entitled(event.environment))
        positions[key] = index
    existing = store.existing_events(given_ids) if given_ids else set()  # skips known retries without a write
    fresh = [record for key, record in records.items() if key not in existing]

    ledgers = [build_ledger(chunk, at, config) for chunk in _chunks(fresh)]
    outcomes = []
    for ledger, chunk in zip(ledgers, _chunks(fresh), strict=True):
        # The ledger first: if this writer dies after creating events, the repair pass finds them by it.
        store.put_ledger({**ledger, "events": [[r["project_id"], r["event_id"]] for r in chunk]})
        made, bad = store.create_events(chunk, ledger["ledger_id"])
        outcomes.append((ledger, chunk, made, bad))
    created = [record for _, _, made, _ in outcomes for record in made]
    refused = [
        {"index": positions[(r["project_id"], r["event_id"])], "error": reason}
        for _, _, _, bad in outcomes
        for r, reason in bad
    ]
    if batch.single and refused:
        raise ValidationFailedError(
            "1 invalid field(s)", details=[{"field": "body", "message": refused[0]["error"], "type": "value_error"}]
        )
    rejected = sorted(batch.rejected + refused, key=lambda r: r["index"])
    result = IngestResult(
        accepted=len(batch.events) - len(refused),
        rejected=rejected,
        stored=len(created),
        duplicates=len(records) - len(fresh) + (len(fresh) - len(created) - len(refused)),
    )
    if versions is not None:
        try:
            count_versions(versions, created, at, clock.expires_at(config.aggregate_retention_days, at))
        except UnavailableError:
            logger.exception("version counters failed after the events were stored")
    # Count what this writer created (a ledger whose events all existed counts nothing).
    ledgers = [
        ledger if len(made) == len(chunk) else build_ledger(made, at, config, ledger["ledger_id"])
        for ledger, chunk, made, _ in outcomes
    ]
    # The ledgers were written with the events; counting them here is the fast path, the repair
    # pass the safety net: either way each ledger is applied exactly once.
    try:
        applied = apply_counts(store, ledgers)
    except UnavailableError:
        logger.exception("counting failed after the events were stored; the repair pass will count them")
        return result
    try:
        result.alerts = evaluate_alerts(store, alerts, config, applied, at, reporter)
    except UnavailableError:
        logger.exception("alert evaluation failed after the events were counted")
    return result


def _chunks(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Groups of events whose counters (totals + fingerprints) and ledger fit one transaction."""
    chunks: list[list[dict[str, Any]]] = []
    chunk: list[dict[str, Any]] = []
    counters: set[tuple[str, str]] = set()
    for record in records:
        mine = {(record["project_id"], "")} | (
            {(record["project_id"], record["fingerprint"])} if record.get("is_error") else set()
        )
        if chunk and len(counters | mine) + 1 >= MAX_TX_ITEMS:
            chunks.append(chunk)
            chunk, counters = [], set()
        chunk.append(record)
        counters |= mine
    if chunk:
        chunks.append(chunk)
    return chunks


def build_ledger(
    records: list[dict[str, Any]], at: float, config: IngestConfig, ledger_id: str | None = None
) -> dict[str, Any]:
    """The counts ``records`` add: events/errors per project, occurrences per fingerprint, in ``at``'s window."""
    window = int(at // config.window_seconds) * config.window_seconds
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    groups: dict[str, dict[str, Any]] = {}
    for record in records:
        project = record["project_id"]
        totals[project][0] += 1
        if not record.get("is_error"):
            continue
        totals[project][1] += 1
        group = groups.setdefault(
            f"{project}#{record['fingerprint']}",
            {
                "project_id": project,
                "fingerprint": record["fingerprint"],
                "error_type": record.get("error_type"),
                "platform": record.get("platform"),
                "engine": record.get("engine"),
                "platform_key": (record.get("platform") or "").lower() or None,
                "engine_key": (record.get("engine") or "").lower() or None,
                "severity": record["severity"],
                "count": 0,
                "entitled": 0,
                "first_seen": record["timestamp"],
                "last_seen": record["timestamp"],
                "first_seen_version": record.get("version"),
                "last_seen_version": record.get("version"),
                "sample": (record.get("message") or "")[:SAMPLE_CHARS] or None,
                "flows": [],
            },
        )
        group["count"] += 1
        group["entitled"] += int(bool(record.get("entitled")))
        if record.get("flow_id") and record["flow_id"] not in group["flows"] and len(group["flows"]) < 2:
            group["flows"].append(record["flow_id"])
        if record["timestamp"] < group["first_seen"]:
            group["first_seen"] = record["timestamp"]
            group["first_seen_version"] = record.get("version") or group["first_seen_version"]
        if record["timestamp"] >= group["last_seen"]:
            group["last_seen"] = record["timestamp"]
            group["sample"] = (record.get("message") or "")[:SAMPLE_CHARS] or group["sample"]
            group["last_seen_version"] = record.get("version") or group["last_seen_version"]
        if SEVERITIES.index(record["severity"]) > SEVERITIES.index(group["severity"]):
            group["severity"] = record["severity"]
    return {
        "ledger_id": ledger_id or uuid.uuid4().hex,
        "at": at,
        "window": window,
        "expires_at": clock.expires_at(config.aggregate_retention_days, at),
        "totals": dict(totals),
        "groups": list(groups.values()),
    }


def counter_updates(ledgers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ledgers' counts merged into one update per counter item (project totals, fingerprint windows)."""
    merged: dict[tuple[str, ...], dict[str, Any]] = {}
    for ledger in ledgers:
        common = {"window": ledger["window"], "expires_at": ledger["expires_at"], "at": ledger["at"]}
        for project, (events, errors) in ledger["totals"].items():
            update = merged.setdefault(
                ("T", project, str(ledger["window"])),
                {"kind": "totals", "project_id": project, "events": 0, "errors": 0, **common},
            )
            update["events"] += events
            update["errors"] += errors
        for group in ledger["groups"]:
            key = ("F", group["project_id"], str(ledger["window"]), group["fingerprint"])
            found = merged.get(key)
            if found is None:
                merged[key] = {"kind": "group", **common, **group, "flows": list(group["flows"])}
                continue
            found["count"] += group["count"]
            found["entitled"] = found.get("entitled", 0) + group.get("entitled", 0)
            if group["first_seen"] < found["first_seen"]:
                found["first_seen"] = group["first_seen"]
                found["first_seen_version"] = group.get("first_seen_version") or found.get("first_seen_version")
            if group["last_seen"] >= found["last_seen"]:
                found["last_seen"], found["sample"] = group["last_seen"], group["sample"] or found["sample"]
                found["last_seen_version"] = group.get("last_seen_version") or found.get("last_seen_version")
            found["flows"] = list(dict.fromkeys(found["flows"] + group["flows"]))[:2]
            found["at"] = max(found["at"], ledger["at"])
            if SEVERITIES.index(group["severity"]) > SEVERITIES.index(found["severity"]):
                found["severity"] = group["severity"]
    return list(merged.values())


def apply_counts(store: MonitoringStore, ledgers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Apply ledgers (as few transactions as fit 100 items); returns the counter updates applied here."""
    applied: list[dict[str, Any]] = []
    group: list[dict[str, Any]] = []
    for ledger in ledgers:
        if group and len(counter_updates([*group, ledger])) + len(group) + 1 > MAX_TX_ITEMS:
            applied += store.apply_ledgers(group, counter_updates)
            group = []
        group.append(ledger)
    if group:
        applied += store.apply_ledgers(group, counter_updates)
    return [u for u in counter_updates(applied) if u["kind"] == "group"]


def repair_counts(store: MonitoringStore, alerts: Alerts, config: IngestConfig, at: float | None = None) -> int:
    """Apply the ledgers their writers left behind (older than a minute); returns how many were applied."""
    at = clock.now() if at is None else at
    stale = store.stale_ledgers(at - 60)
    if not stale:
        return 0
    # Count exactly the events each ledger's writer created (they carry the ledger's id).
    ledgers = [build_ledger(store.events_of_ledger(s), s["at"], config, s["ledger_id"]) for s in stale]
    groups = apply_counts(store, ledgers)
    evaluate_alerts(store, alerts, config, groups, at)
    return len(stale)


def _record(
    event: LogEvent, event_id: str, received: str, expires: int, reporter: str, config: IngestConfig, entitled: bool
) -> dict[str, Any]:
    record = event.model_dump(exclude={"event_id", "timestamp"}, exclude_none=True)
    # An event that names no engine is the sender's: shown, filtered and grouped under it.
    engine = event.engine or reporter
    record.update(
        event_id=event_id,
        engine=engine,
        timestamp=clock.iso(event.timestamp.timestamp()) if event.timestamp else received,
        received_at=received,
        reported_by=reporter,
        expires_at=expires,
    )
    if entitled:
        record["entitled"] = True
    if event.is_error:
        record["is_error"] = True
        record["fingerprint"] = fingerprint(event.error_type, event.platform, engine, event.message)
        record["severity"] = severity_of(config.rules, event.error_type, event.message)
    return record
