"""The console's overview: checks per minute and a project's events, errors and error groups over a
time range, all from stored counters (never a scan of events, never thousands of rows to a browser).

Check counters are global (the check path counts every decision, ``pk = CHECKS``), so they are
shown only to a caller granted every project; the project's event and error counters are the
monitoring windows (``AG#<project>``, 5 minutes by default).
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from puraify import clock
from puraify.errors import validation_error
from puraify.monitoring.models import Id, TimeParam
from puraify.monitoring.ports import CheckCounts, MonitoringStore

DENY_PREFIX = "deny#"
MAX_RANGE_SECONDS = 24 * 3600
# A client that sends ``since = now - 24 h`` reaches the server a little later: a range over 24 hours
# by at most this much is clamped to the last 24 hours before ``until`` instead of refused.
RANGE_TOLERANCE_SECONDS = 300
DEFAULT_RANGE_SECONDS = 3600
MAX_POINTS = 360  # per series: 6 h at one point a minute; longer ranges are summed into 5-minute steps
TOP_RULES = 10
TOP_GROUPS = 10
PROJECT_REQUIRED = "Field required: name one of your projects (only an engine granted every project may omit it)"


def minute_of(epoch: float) -> str:
    """The UTC minute holding ``epoch``: ``2026-12-01T21:05``."""
    return time.strftime("%Y-%m-%dT%H:%M", time.gmtime(epoch))


def minute_key(epoch: float) -> str:
    """The sort key of the minute holding ``epoch``: ``MIN#2026-12-01T21:05``."""
    return "MIN#" + minute_of(epoch)


def _minute_epoch(sk: str) -> int:
    return int(clock.parse_iso(sk.removeprefix("MIN#") + ":00Z"))


class OverviewQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    project_id: Id | None = None
    since: TimeParam = None
    until: TimeParam = None
    top: int = Field(default=TOP_GROUPS, ge=1, le=50)

    @model_validator(mode="after")
    def _bounded(self) -> OverviewQuery:
        until = self.until if self.until is not None else clock.now()
        since = self.since if self.since is not None else until - DEFAULT_RANGE_SECONDS
        if since >= until:
            raise ValueError("since must be before until")
        if until - since > MAX_RANGE_SECONDS + RANGE_TOLERANCE_SECONDS:
            raise ValueError("the range may span at most 24 hours")
        since = max(since, until - MAX_RANGE_SECONDS)
        self.since, self.until = since, until
        return self


def _step(range_seconds: float) -> int:
    return 60 if range_seconds <= MAX_POINTS * 60 else 300


def _buckets(since: float, until: float, step: int) -> list[int]:
    first = int(since // step) * step
    return list(range(first, int(until // step) * step + 1, step))


def check_series(items: list[dict[str, Any]], since: float, until: float) -> dict[str, Any]:
    """Allowed/denied/failed per step (zeros where nothing was counted), totals and the top deny rules."""
    step = _step(until - since)
    starts = _buckets(since, until, step)
    index = {start: n for n, start in enumerate(starts)}
    series: dict[str, list[int]] = {name: [0] * len(starts) for name in ("allowed", "denied", "failed")}
    rules: dict[str, int] = defaultdict(int)
    for item in items:
        slot = index.get(_minute_epoch(item["sk"]) // step * step)
        if slot is None:
            continue
        for name, values in series.items():
            values[slot] += int(item.get(name, 0))
        for key, value in item.items():
            if key.startswith(DENY_PREFIX):
                rules[key.removeprefix(DENY_PREFIX)] += int(value)
    top = sorted(rules.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_RULES]
    return {
        "step_seconds": step,
        "t": starts,
        **series,
        "totals": {name: sum(values) for name, values in series.items()},
        "top_deny_rules": [{"rule": rule, "count": n} for rule, n in top],
    }


def project_series(
    store: MonitoringStore, window: int, project_id: str, since: float, until: float, top: int
) -> dict[str, Any]:
    """A project's events and errors per aggregation window and its top error groups, each with its trend."""
    first = int(since // window) * window
    starts = _buckets(since, until, window)
    index = {start: n for n, start in enumerate(starts)}
    totals, _ = store.totals(project_id, first)
    events, errors = [0] * len(starts), [0] * len(starts)
    for item in totals:
        slot = index.get(int(item.get("window_start", -1)))
        if slot is not None:
            events[slot] += int(item.get("events", 0))
            errors[slot] += int(item.get("errors", 0))
    windows, truncated = store.error_groups(project_id, first)
    groups: dict[str, dict[str, Any]] = {}
    for item in windows:
        slot = index.get(int(item.get("window_start", -1)))
        if slot is None:
            continue
        group = groups.setdefault(
            item["fingerprint"],
            {
                "fingerprint": item["fingerprint"],
                "error_type": item.get("error_type"),
                "platform": item.get("platform"),
                "engine": item.get("engine"),
                "severity": item.get("severity"),
                "count": 0,
                "first_seen": item["first_seen"],
                "last_seen": item["last_seen"],
                "sample_message": item.get("sample"),
                "trend": [0] * len(starts),
            },
        )
        group["count"] += int(item["occurrences"])
        group["trend"][slot] += int(item["occurrences"])
        group["first_seen"] = min(group["first_seen"], item["first_seen"])
        if item["last_seen"] >= group["last_seen"]:
            group["last_seen"] = item["last_seen"]
            group["sample_message"] = item.get("sample") or group["sample_message"]
    ranked = sorted(groups.values(), key=lambda g: (-g["count"], g["last_seen"]))
    return {
        "window_seconds": window,
        "t": starts,
        "events": events,
        "errors": errors,
        "totals": {"events": sum(events), "errors": sum(errors)},
        "error_groups": ranked[:top],
        "error_groups_total": len(ranked),
        "truncated": truncated,
    }


def _with_bound(series: dict[str, Any], flush_seconds: float) -> dict[str, Any]:
    """The check series and how far behind it may be: each function instance adds its tally at most
    every ``flush_seconds`` (a timer, or its next check), and one reclaimed while frozen loses what it
    counted since its last flush."""
    seconds = f"{flush_seconds:g}"
    series["flush_seconds"] = flush_seconds
    series["loss_bound"] = (
        f"counts arrive within {seconds} s of a check; a function instance reclaimed while idle loses at most "
        f"the checks of its last {seconds} s"
    )
    return series


def overview(
    store: MonitoringStore,
    window: int,
    checks: CheckCounts,
    q: OverviewQuery,
    *,
    every_project: bool,
    flush_seconds: float = 5.0,
) -> dict[str, Any]:
    """Everything the console's overview charts, for ``q.since``..``q.until`` (at most 24 h).

    ``checks`` counts every engine's checks in every project: ``None`` unless ``every_project``
    (the caller holds ``"*"``), so an engine granted some projects learns nothing of the others.
    """
    assert q.since is not None and q.until is not None  # set by the query's validator
    if q.project_id is None and not every_project:
        raise validation_error([{"loc": ("query", "project_id"), "msg": PROJECT_REQUIRED, "type": "missing"}])
    minutes = checks.minutes(minute_of(q.since), minute_of(q.until)) if every_project else None
    return {
        "project_id": q.project_id,
        "since": clock.iso(q.since),
        "until": clock.iso(q.until),
        "checks": _with_bound(check_series(minutes, q.since, q.until), flush_seconds) if minutes is not None else None,
        "project": project_series(store, window, q.project_id, q.since, q.until, q.top) if q.project_id else None,
    }
