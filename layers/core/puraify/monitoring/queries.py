"""The read side: logs, error groups, performance stats, the audit timeline, and the facts that
the Planning Engine reads (``error_summary``, ``open_critical_alerts``). Every read is a Query.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from puraify import clock
from puraify.monitoring.alerts import decode_position as decode_cursor
from puraify.monitoring.alerts import encode_position as encode_cursor
from puraify.monitoring.alerts import view
from puraify.monitoring.models import ERROR_STATUSES, AuditQuery, ErrorsQuery, LogsQuery, StatsQuery, default_since
from puraify.monitoring.ports import HIGH, AuditReader, MonitoringStore, VersionCounterStore
from puraify.monitoring.versions import stats as version_stats

STATS_MAX_EVENTS = 100_000
MAX_ALERTS_READ = 5_000
_HIDDEN = frozenset(
    {
        "pk",
        "sk",
        "ts",
        "err_pk",
        "flow_pk",
        "user_pk",
        "session_pk",
        "is_error",
        "platform_key",
        "engine_key",
        "ledger_id",
        "entitled",
    }
)
# Filters that ignore case compare the lower-cased copy stored beside the value.
_FOLDED = {"platform": "platform_key", "engine": "engine_key"}


def _event_view(item: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in item.items() if k not in _HIDDEN}
    shown["type"] = item.get("event_type")
    return shown


def _filters(values: dict[str, str | None]) -> dict[str, str]:
    """Equality filters for the store: platform and engine compared case-insensitively."""
    found = {}
    for name, value in values.items():
        if value is not None:
            found[_FOLDED.get(name, name)] = value.lower() if name in _FOLDED else value
    return found


def logs(store: MonitoringStore, q: LogsQuery) -> dict[str, Any]:
    """One page of a project's events, newest first, and the cursor of the next page (or None)."""
    index, subject = _index(q.flow_id, q.session_id, q.user_id, q.status)
    filters = _filters(
        {
            "engine": q.engine,
            "platform": q.platform,
            "status": q.status,
            "event_type": q.event_type,
            "environment": q.environment,
            "version": q.version,
            "request_id": q.request_id,
            "fingerprint": q.fingerprint,  # an error group's events
            # the subject the index does not select on is a filter
            **{k: v for k, v in (("flow_id", q.flow_id), ("session_id", q.session_id), ("user_id", q.user_id))
               if v is not None and k != subject},
        }
    )  # fmt: skip
    low = clock.iso(q.since) if q.since is not None else ""
    high = f"{clock.iso(q.until)}#{HIGH}" if q.until is not None else HIGH
    before = decode_cursor(q.cursor) if q.cursor else None
    if before is not None:
        high = min(high, before)
    items, more = store.query_events(
        q.project_id, index=index, key=_subject_value(q, subject), low=low, high=high, filters=filters,
        limit=q.limit + 1,
    )  # fmt: skip
    items = [i for i in items if i["ts"] != before]
    more = more or len(items) > q.limit
    page = items[: q.limit]
    return {
        "logs": [_event_view(i) for i in page],
        "next_cursor": encode_cursor(page[-1]["ts"]) if more and page else None,
    }


_SUBJECT_INDEXES = (("flow_id", "by_flow"), ("session_id", "by_session"), ("user_id", "by_user"))


def _index(flow_id: str | None, session_id: str | None, user_id: str | None, status: str | None) -> tuple[str, str]:
    """The index a read uses: a flow, session or user timeline when asked, else errors or all by time."""
    given = {"flow_id": flow_id, "session_id": session_id, "user_id": user_id}
    for field, index in _SUBJECT_INDEXES:
        if given[field] is not None:
            return index, field
    return ("errors" if (status or "").lower() in ERROR_STATUSES else "by_time"), ""


def _subject_value(q: Any, subject: str) -> str | None:
    return getattr(q, subject) if subject else None


def errors(store: MonitoringStore, window_seconds: int, q: ErrorsQuery) -> dict[str, Any]:
    """Errors grouped by fingerprint since ``q.since`` (at window granularity), most frequent first."""
    since = default_since(q.since)
    window = int(since // window_seconds) * window_seconds
    windows, truncated = store.error_groups(
        q.project_id, window, _filters({"engine": q.engine, "platform": q.platform})
    )
    grouped: dict[str, dict[str, Any]] = {}
    for w in windows:
        group = grouped.get(w["fingerprint"])
        if group is None:
            grouped[w["fingerprint"]] = {
                "fingerprint": w["fingerprint"],
                "error_type": w.get("error_type"),
                "platform": w.get("platform"),
                "engine": w.get("engine"),
                "severity": w.get("severity"),
                "count": int(w["occurrences"]),
                "first_seen": w["first_seen"],
                "last_seen": w["last_seen"],
                "first_seen_version": w.get("first_seen_version"),
                "last_seen_version": w.get("last_seen_version"),
                "sample_message": w.get("sample"),
            }
            continue
        group["count"] += int(w["occurrences"])
        if w["first_seen"] < group["first_seen"]:
            group["first_seen"] = w["first_seen"]
            group["first_seen_version"] = w.get("first_seen_version") or group["first_seen_version"]
        if w["last_seen"] >= group["last_seen"]:
            group["last_seen"] = w["last_seen"]
            group["sample_message"] = w.get("sample") or group["sample_message"]
            group["last_seen_version"] = w.get("last_seen_version") or group["last_seen_version"]
    ranked = sorted(grouped.values(), key=lambda g: g["last_seen"], reverse=True)
    ranked.sort(key=lambda g: g["count"], reverse=True)
    return {
        "project_id": q.project_id,
        "since": clock.iso(window),
        "errors": ranked,
        "total": sum(g["count"] for g in ranked),
        "truncated": truncated,
    }


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def stats(store: MonitoringStore, q: StatsQuery, versions: VersionCounterStore | None = None) -> dict[str, Any]:
    """Per platform and action: count, errors, error rate, retries, duration p50/p95/max.

    Asked for a ``version``: that version's health per environment from the per-version counters
    (stored aggregates: a few items whatever the traffic; latency percentiles from a histogram).
    """
    since = default_since(q.since)
    if q.version is not None and versions is not None:
        return version_stats(versions, q.project_id, q.version, q.environment, since)
    items, truncated = store.query_events(
        q.project_id,
        index="by_time",
        low=clock.iso(since),
        limit=STATS_MAX_EVENTS,
        newest_first=False,
        attributes=["platform", "action", "status", "event_type", "duration_ms", "retries"],
    )
    rows: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"count": 0, "errors": 0, "retries": 0, "durations": []}
    )
    for item in items:
        row = rows[(item.get("platform") or "-", item.get("action") or "-")]
        row["count"] += 1
        is_error = (item.get("status") or "").lower() in ERROR_STATUSES or item.get("event_type") == "error"
        row["errors"] += int(is_error)
        row["retries"] += int(item.get("retries") or 0)
        if item.get("duration_ms") is not None:
            row["durations"].append(float(item["duration_ms"]))
    result = []
    for (platform, action), row in sorted(rows.items()):
        durations = sorted(row.pop("durations"))
        result.append(
            {
                "platform": platform,
                "action": action,
                **row,
                "error_rate": round(row["errors"] / row["count"], 4),
                "duration_ms": {
                    "p50": percentile(durations, 0.50),
                    "p95": percentile(durations, 0.95),
                    "max": durations[-1],
                }
                if durations
                else None,
            }
        )
    return {"project_id": q.project_id, "since": clock.iso(since), "events": len(items), "stats": result,
            "truncated": truncated}  # fmt: skip


def audit(
    store: MonitoringStore, audit_store: AuditReader, q: AuditQuery, deployments: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The ordered timeline of a project or one flow: events, alerts, control-plane decisions, and the
    deployments (markers) that happened meanwhile, with the end of each bake."""
    low = clock.iso(q.since) if q.since is not None else ""
    index, subject = _index(q.flow_id, q.session_id, q.user_id, None)
    value = _subject_value(q, subject)
    events, _ = store.query_events(q.project_id, index=index, key=value, low=low, limit=q.limit)

    def about(item: dict[str, Any]) -> bool:
        return not subject or item.get(subject) == value

    # Every alert of the project (not only those raised since ``low``): a transition after ``low``
    # of an older alert belongs to the timeline.
    alerts = [a for a in store.alerts(q.project_id, "", MAX_ALERTS_READ) if about(a)]
    transitions = [
        {"kind": "alert_" + step["status"], "timestamp": step["at"], "alert_id": a["alert_id"],
         "severity": a["severity"], "status": step["status"], "by": step.get("by"), "reason": step.get("reason")}
        for a in alerts for step in a.get("history", [])[1:] if step["at"] >= low
    ]  # fmt: skip
    alerts = [a for a in alerts if a["created_at"] >= low]
    # Decisions carry a flow but no user or session; read newest first, bounded in the key condition.
    decisions = (
        []
        if subject in ("user_id", "session_id")
        else audit_store.by_project(q.project_id, since=low, flow_id=q.flow_id, limit=q.limit)
    )
    timeline = (
        [{"kind": "event", **_event_view(e)} for e in events]
        + [_alert_raised(a) for a in alerts]
        + transitions
        + _deployment_entries(deployments or [], low)
        + [
            {
                **{k: v for k, v in d.items() if k not in ("pk", "sk", "project_pk", "project_sk", "flow_pk", "kind")},
                "kind": "decision",
                "decision": d.get("kind"),
            }
            for d in decisions
        ]
    )
    timeline.sort(key=lambda entry: entry.get("timestamp", ""))
    return {
        "project_id": q.project_id,
        "flow_id": q.flow_id,
        "user_id": q.user_id,
        "session_id": q.session_id,
        "timeline": timeline[-q.limit :],
        "counts": {
            "events": len(events),
            "alerts": len(alerts),
            "alert_transitions": len(transitions),
            "decisions": len(decisions),
            "deployments": len(deployments or []),
        },
    }


def _alert_raised(alert: dict[str, Any]) -> dict[str, Any]:
    """The alert's row at its creation: its status then (``open``), and the one it has now beside it;
    each later transition is a row of its own with the status it set."""
    shown = view(alert)
    history = shown.get("history") or []
    raised = history[0].get("status", "open") if history else "open"
    return {"kind": "alert", "timestamp": alert["created_at"], **shown, "status": raised,
            "current_status": shown.get("status")}  # fmt: skip


def _deployment_entries(deployments: list[dict[str, Any]], low: str) -> list[dict[str, Any]]:
    """A marker per deployment, and one more where its bake ended (``deployment_rolled_back``, ...).

    Each row holds the state as of that row: the marker the state the deployment started in
    (``baking`` with a bake, else ``deployed``), the end of the bake the state it ended in; both
    carry ``current_state``."""
    entries = []
    for d in deployments:
        shown = {k: d.get(k) for k in ("deployment_id", "environment", "action", "version", "previous_version",
                                        "actor", "state", "reason", "rolled_back_from")}  # fmt: skip
        shown["current_state"] = d.get("state")
        if d["created_at"] >= low:
            started = "baking" if d.get("bake_seconds") else "deployed"
            entries.append({"kind": "deployment", "timestamp": d["created_at"], **shown, "state": started,
                            "reason": None if d.get("bake_seconds") else shown["reason"]})  # fmt: skip
        if d.get("finished_at") and d.get("bake_seconds") and d["finished_at"] >= low:
            entries.append({"kind": f"deployment_{d['state']}", "timestamp": d["finished_at"], **shown})
    return entries


def summarize(store: MonitoringStore, window_seconds: int, project_id: str, since_epoch: float) -> dict[str, Any]:
    """Events and errors since ``since_epoch`` (from the per-window counters)."""
    window = int(since_epoch // window_seconds) * window_seconds
    windows, _ = store.totals(project_id, window)
    events = sum(int(w.get("events", 0)) for w in windows)
    failures = sum(int(w.get("errors", 0)) for w in windows)
    return {
        "project_id": project_id,
        "since": clock.iso(window),
        "events": events,
        "errors": failures,
        "error_rate": round(failures / events, 4) if events else 0.0,
    }
