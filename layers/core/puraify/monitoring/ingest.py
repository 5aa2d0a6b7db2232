"""``POST /monitoring/logs``: validate each event, store the batch, count errors, raise alerts.

Writes per batch: the events (25 per BatchWriteItem), one totals update per project, one update
per distinct error fingerprint; alerts only when a rule or the threshold asks for one.
Events that carry an ``event_id`` are checked against the store first (a read), so a retried
batch stores and counts nothing twice.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from puraify import clock
from puraify.errors import PayloadTooLargeError, UnavailableError, ValidationFailedError, validation_error
from puraify.monitoring.fingerprint import at_least, fingerprint, severity_of
from puraify.monitoring.models import MAX_BATCH, SEVERITIES, LogEvent
from puraify.monitoring.versions import count as count_versions
from puraify.observability import logger


@dataclass
class ParsedBatch:
    events: list[LogEvent]
    rejected: list[dict[str, Any]]


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
        events, rejected = [], []
        for index, item in enumerate(items):
            try:
                events.append(LogEvent.model_validate(item))
            except ValidationError as error:
                rejected.append({"index": index, "error": _summary(error)})
        return ParsedBatch(events, rejected)
    if not isinstance(payload, dict):
        raise _invalid("body", 'must be an event object or {"events": [...]}', "model_type")
    try:
        return ParsedBatch([LogEvent.model_validate(payload)], [])
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


@dataclass
class IngestResult:
    accepted: int
    rejected: list[dict[str, Any]]
    stored: int = 0
    duplicates: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)


def ingest(
    store: Any, alerts: Any, config: IngestConfig, reporter: str, batch: ParsedBatch, versions: Any = None
) -> IngestResult:
    """Store the batch's valid events once each, update counters, and raise the alerts they call for.

    ``versions`` (a version counter store) also counts events that name a ``version`` per version,
    environment and minute: what the deployment watch and ``GET /monitoring/stats?version=`` read.
    """
    at = clock.now()
    received = clock.iso(at)
    expires = clock.expires_at(config.event_retention_days, at)
    records: dict[tuple[str, str], dict[str, Any]] = {}
    given_ids: list[tuple[str, str]] = []
    for event in batch.events:
        event_id = event.event_id or uuid.uuid4().hex
        key = (event.project_id, event_id)
        if key in records:
            continue
        if event.event_id:
            given_ids.append(key)
        records[key] = _record(event, event_id, received, expires, reporter, config)
    existing = store.existing_events(given_ids) if given_ids else set()
    fresh = [record for key, record in records.items() if key not in existing]
    if fresh:
        store.put_events(fresh)
    result = IngestResult(
        accepted=len(batch.events), rejected=batch.rejected, stored=len(fresh), duplicates=len(records) - len(fresh)
    )
    try:
        result.alerts = _aggregate(store, alerts, config, fresh, at)
    except UnavailableError:
        # The events are stored (they are the record); counters and alerts are best effort here.
        logger.exception("error aggregation failed after the events were stored")
    if versions is not None:
        try:
            count_versions(versions, fresh, at, clock.expires_at(config.aggregate_retention_days, at))
        except UnavailableError:
            logger.exception("version counters failed after the events were stored")
    return result


def _record(
    event: LogEvent, event_id: str, received: str, expires: int, reporter: str, config: IngestConfig
) -> dict[str, Any]:
    record = event.model_dump(exclude={"event_id", "timestamp"}, exclude_none=True)
    record.update(
        event_id=event_id,
        timestamp=clock.iso(event.timestamp.timestamp()) if event.timestamp else received,
        received_at=received,
        reported_by=reporter,
        expires_at=expires,
    )
    if event.is_error:
        record["is_error"] = True
        record["fingerprint"] = fingerprint(event.error_type, event.platform, event.engine, event.message)
        record["severity"] = severity_of(config.rules, event.error_type, event.message)
    return record


def _aggregate(
    store: Any, alerts: Any, config: IngestConfig, records: list[dict[str, Any]], at: float
) -> list[dict[str, Any]]:
    window = int(at // config.window_seconds) * config.window_seconds
    expires = clock.expires_at(config.aggregate_retention_days, at)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        project = record["project_id"]
        totals[project][0] += 1
        if not record.get("is_error"):
            continue
        totals[project][1] += 1
        group = groups.setdefault(
            (project, record["fingerprint"]),
            {
                "fingerprint": record["fingerprint"],
                "error_type": record.get("error_type"),
                "platform": record.get("platform"),
                "engine": record.get("engine"),
                "platform_key": (record.get("platform") or "").lower() or None,
                "engine_key": (record.get("engine") or "").lower() or None,
                "severity": record["severity"],
                "count": 0,
                "first_seen": record["timestamp"],
                "last_seen": record["timestamp"],
                "first_seen_version": record.get("version"),
                "last_seen_version": record.get("version"),
                "sample": record.get("message"),
                "flows": set(),
            },
        )
        group["count"] += 1
        group["flows"].add(record.get("flow_id"))
        if record["timestamp"] < group["first_seen"]:
            group["first_seen"] = record["timestamp"]
            group["first_seen_version"] = record.get("version") or group["first_seen_version"]
        if record["timestamp"] >= group["last_seen"]:
            group["last_seen"] = record["timestamp"]
            group["sample"] = record.get("message") or group["sample"]
            group["last_seen_version"] = record.get("version") or group["last_seen_version"]
        if SEVERITIES.index(record["severity"]) > SEVERITIES.index(group["severity"]):
            group["severity"] = record["severity"]
    for project, (events, errors) in totals.items():
        store.add_totals(project, window, events, errors, expires)
    raised = []
    carry = 1 - (at - window) / config.window_seconds
    for (project, fp), group in groups.items():
        try:
            count = store.add_error_group(project, window, group, expires)
            before = count - group["count"]
            if before < config.threshold_count:
                # Sliding window: the previous window's count, weighted by how much of it still overlaps.
                before += store.error_group_count(project, window - config.window_seconds, fp) * carry
            alert = _alert_for(alerts, config, project, group, before, before + group["count"])
        except UnavailableError:
            # One fingerprint's counter or alert failing must not cost the others theirs.
            logger.exception("error aggregation failed for one fingerprint", extra={"fingerprint": fp})
            continue
        if alert is not None:
            raised.append(alert)
    return raised


def _alert_for(
    alerts: Any, config: IngestConfig, project: str, group: dict[str, Any], before: float, count: float
) -> dict[str, Any] | None:
    where = "/".join(p for p in (group.get("platform"), group.get("engine")) if p) or "unknown"
    common = {
        "project_id": project,
        "event_type": "error",
        "triggered_by": "monitoring",
        "flow_id": next(iter(group["flows"])) if len(group["flows"]) == 1 else None,  # only when unambiguous
        "gate_key": f"FP#{group['fingerprint']}",
        "details": {
            "fingerprint": group["fingerprint"],
            "error_type": group.get("error_type"),
            "platform": group.get("platform"),
            "engine": group.get("engine"),
            "window_count": round(count),
        },
    }
    sample = (group.get("sample") or group.get("error_type") or "error")[:300]
    if before < config.threshold_count <= count:
        return alerts.raise_alert(
            severity="critical",
            message=(
                f"{group.get('error_type') or 'error'} on {where} seen {round(count)} times within "
                f"{config.window_seconds} s: {sample}"
            ),
            keep_suppressed=True,
            **common,
        )
    if at_least(group["severity"], config.notify_min_severity):
        return alerts.raise_alert(
            severity=group["severity"],
            message=f"{group.get('error_type') or 'error'} on {where}: {sample}",
            keep_suppressed=False,
            **common,
        )
    return None
