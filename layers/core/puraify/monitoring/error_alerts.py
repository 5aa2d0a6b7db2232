"""The alerts that just-counted error groups call for, under a per-minute cap that stops alert storms.

A fingerprint has at most one unresolved alert. It is raised (or escalated) when its severity asks
for a notification, when it regressed, or when its count in the last window crosses the threshold.
Crossing the threshold makes it ``critical`` (which holds the pre-deploy gate) only when the
entitled occurrences alone cross it (``puraify.monitoring.entitlement``); a flood reported by
engines not entitled to report is ``high`` at most: it pages, it does not freeze production.

Flood control keys on the fingerprint, so errors with varied text would each raise an alert. A cap
bounds the new alerts and escalations per minute, per project and per reporting engine
(``AlertsPerMinutePerProject``, ``AlertsPerMinutePerEngine``). The most severe go first; the rest
are held back and summarised by the project's one ``alert_storm`` alert (how many, a few sample
fingerprints), which later storms update instead of raising another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from puraify.errors import UnavailableError
from puraify.monitoring.alerts import Alerts
from puraify.monitoring.fingerprint import at_least
from puraify.monitoring.models import SEVERITIES
from puraify.monitoring.ports import MonitoringStore
from puraify.observability import logger

STORM_FINGERPRINT = "alert_storm"
STORM_SAMPLES = 5


@dataclass
class Wanted:
    """One alert (or escalation of the fingerprint's unresolved alert) a group calls for."""

    group: dict[str, Any]
    severity: str
    message: str
    count: float
    escalate: str | None = None  # the unresolved alert's sort key
    regression: bool = False
    details: dict[str, Any] = field(default_factory=dict)


def evaluate_alerts(
    store: MonitoringStore,
    alerts: Alerts,
    config: Any,
    groups: list[dict[str, Any]],
    at: float,
    reporter: str | None = None,
) -> list[dict[str, Any]]:
    """Raise or escalate the alerts the just-counted error groups call for, within the per-minute caps.

    The threshold count is this window's count plus the previous window's, weighted by how much
    of it still lies in the last ``window_seconds`` (read consistently after counting).
    ``reporter`` is the engine whose batch was counted (None for the repair pass: project cap only).
    """
    if not groups:
        return []
    keys = [(g["project_id"], g["window"] - w, g["fingerprint"]) for g in groups for w in (0, config.window_seconds)]
    counts = store.group_counts(keys)
    states = store.fingerprint_states([(g["project_id"], g["fingerprint"]) for g in groups])
    wanted: dict[str, list[Wanted]] = {}
    for group in groups:
        project, fp, window = group["project_id"], group["fingerprint"], group["window"]
        carry = max(0.0, 1 - (at - window) / config.window_seconds)
        now, before = (
            counts.get((project, window, fp), {}),
            counts.get((project, window - config.window_seconds, fp), {}),
        )
        count = now.get("occurrences", group["count"]) + before.get("occurrences", 0) * carry
        entitled = now.get("entitled", group.get("entitled", 0)) + before.get("entitled", 0) * carry
        want = _wanted(config, group, count, entitled, states.get((project, fp), {}))
        if want is not None:
            wanted.setdefault(project, []).append(want)
    raised = []
    for project, wants in wanted.items():
        wants.sort(key=lambda w: -SEVERITIES.index(w.severity))
        granted = _slots(store, config, project, reporter, len(wants), at)
        for want in wants[:granted]:
            try:
                alert = _raise(store, alerts, want, reporter)
            except UnavailableError:
                # One fingerprint's alert failing must not cost the others theirs.
                logger.exception("alert failed for one fingerprint", extra={"fingerprint": want.group["fingerprint"]})
                continue
            if alert is not None:
                raised.append(alert)
        if wants[granted:]:
            try:
                storm = _storm(store, alerts, config, project, wants[granted:], reporter)
            except UnavailableError:
                logger.exception("the alert storm summary failed", extra={"project_id": project})
                continue
            if storm is not None:
                raised.append(storm)
    return raised


def _slots(store: MonitoringStore, config: Any, project: str, reporter: str | None, wanted: int, at: float) -> int:
    """How many of ``wanted`` new alerts this minute's caps still allow (taken from both budgets)."""
    minute = int(at // 60) * 60
    cap = config.alerts_per_minute_project
    granted = store.take_alert_slots(f"P#{project}", minute, min(wanted, cap), cap)
    if reporter is not None and granted:
        engine = store.take_alert_slots(f"E#{reporter}", minute, granted, config.alerts_per_minute_engine)
        if engine < granted:  # the project's slots this engine may not use go back to the others
            store.take_alert_slots(f"P#{project}", minute, engine - granted, cap)
        granted = engine
    return granted


def _wanted(config: Any, group: dict[str, Any], count: float, entitled: float, state: dict[str, Any]) -> Wanted | None:
    where = "/".join(p for p in (group.get("platform"), group.get("engine")) if p) or "unknown"
    sample = (group.get("sample") or group.get("error_type") or "error")[:300]
    critical = entitled >= config.threshold_count
    flood = count >= config.threshold_count
    severity = group["severity"]
    if not entitled and severity == "critical":
        severity = "high"  # a severity rule's critical needs an entitled occurrence too
    vouched = "" if entitled >= count else f" ({round(entitled)} from engines entitled to report)"
    threshold_message = (
        f"{group.get('error_type') or 'error'} on {where} seen {round(count)} times within "
        f"{config.window_seconds} s{vouched}: {sample}"
    )
    # An unentitled flood pages (high), but only entitled occurrences make an alert critical.
    flood_severity = "critical" if critical else severity if at_least(severity, "high") else "high"
    if state.get("alert_sk"):
        # The fingerprint already has an unresolved alert: a flood escalates it, never a second alert.
        current = state.get("severity") or "low"
        if flood and SEVERITIES.index(flood_severity) > SEVERITIES.index(current):
            return Wanted(group, flood_severity, threshold_message, count, escalate=state["alert_sk"])
        return None
    regression = state.get("resolved_at") is not None
    if flood:
        severity, message = flood_severity, threshold_message
    elif at_least(severity, config.notify_min_severity) or regression:
        message = f"{group.get('error_type') or 'error'} on {where}: {sample}"
    else:
        return None
    if regression:
        message = f"regression: {message}"
    return Wanted(group, severity, message, count, regression=regression)


def _raise(store: MonitoringStore, alerts: Alerts, want: Wanted, reporter: str | None) -> dict[str, Any] | None:
    group = want.group
    project, fp = group["project_id"], group["fingerprint"]
    if want.escalate is not None:
        if not store.claim_escalation(project, fp, want.escalate, want.severity):
            return None
        return alerts.escalate(want.escalate, project, want.severity, want.message, f"FP#{fp}#{want.severity}")
    details = {
        "fingerprint": fp,
        "error_type": group.get("error_type"),
        "platform": group.get("platform"),
        "engine": group.get("engine"),
        "window_count": round(want.count),
    }
    if reporter is not None:
        details["reported_by"] = reporter
    return alerts.raise_alert(
        project_id=project,
        event_type="error",
        severity=want.severity,
        message=want.message,
        triggered_by="monitoring",
        raised_by="monitoring",
        flow_id=group["flows"][0] if len(group["flows"]) == 1 else None,  # only when unambiguous
        gate_key=f"FP#{fp}#{want.severity}",
        fingerprint=fp,
        regression=want.regression,
        details=details,
        claim=lambda alert: store.claim_fingerprint(project, fp, alert),
    )


def _storm(
    store: MonitoringStore, alerts: Alerts, config: Any, project: str, held: list[Wanted], reporter: str | None
) -> dict[str, Any] | None:
    """Raise the project's ``alert_storm`` alert for ``held``, or add them to its unresolved one."""
    samples = [w.group["fingerprint"] for w in held[:STORM_SAMPLES]]
    for _ in range(2):
        state = store.fingerprint_states([(project, STORM_FINGERPRINT)]).get((project, STORM_FINGERPRINT), {})
        if state.get("alert_sk"):
            store.add_to_storm(project, state["alert_sk"], len(held), samples, reporter)
            return None
        details: dict[str, Any] = {"held_back": len(held), "sample_fingerprints": samples}
        if reporter is not None:
            details["reporters"] = [reporter]
        alert = alerts.raise_alert(
            project_id=project,
            event_type=STORM_FINGERPRINT,
            severity="high",
            message=(
                f"alert storm: more new alerts than the cap ({config.alerts_per_minute_project} a minute per "
                f"project, {config.alerts_per_minute_engine} per reporting engine); those held back are counted "
                "in details.held_back (see GET /monitoring/errors for every error group)"
            ),
            triggered_by="monitoring",
            raised_by="monitoring",
            gate_key="STORM",
            fingerprint=STORM_FINGERPRINT,
            details=details,
            claim=lambda alert: store.claim_fingerprint(project, STORM_FINGERPRINT, alert),
        )
        if alert is not None:
            return alert
    return None  # claimed and resolved twice in between: the held alerts stay counted in the error groups
