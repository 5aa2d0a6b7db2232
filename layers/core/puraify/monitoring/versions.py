"""Per-version health: counters written at ingest, read back as a version's error rate and latency.

Only entitled events are counted (``puraify.monitoring.entitlement``): these counters are what the
deployment watch judges and the pre-deploy gate's error rate reads, so an engine nobody entitled
cannot move them. Every entitled event that names a ``version`` is counted into one item per
(version, environment, reporting engine, minute): events, errors, and a duration histogram (fixed
buckets, about 1.5x apart, 1 ms to 60 s). Keeping each reporter apart lets the watch judge each
engine's traffic on its own, so one reporter's successes cannot dilute another's errors. Every
entitled event, with or without a version, is also counted per (environment, minute): the gate's
error rate. A batch (one reporter) costs one ``UpdateItem`` per distinct (version, environment) and
one per environment it carries. Percentiles are estimated from the histogram (linear within a
bucket), so a read is a handful of items whatever the traffic. Events without an ``environment`` are
counted under ``-`` and count for every environment (only a reporter holding ``report``, every
environment, has them counted).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from puraify import clock
from puraify.monitoring.ports import VersionCounterStore

WINDOW_SECONDS = 60
ANY_ENVIRONMENT = "-"
BOUNDS: tuple[float, ...] = (
    1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700,
    1000, 1500, 2000, 3000, 5000, 7000, 10000, 15000, 20000, 30000, 60000,
)  # fmt: skip
BUCKETS = len(BOUNDS) + 1  # the last holds everything above 60 s


def bucket(duration_ms: float) -> int:
    """The histogram bucket of a duration: the first whose upper bound holds it."""
    for index, bound in enumerate(BOUNDS):
        if duration_ms <= bound:
            return index
    return len(BOUNDS)


def count(store: VersionCounterStore, records: list[dict[str, Any]], at: float, expires_at: int) -> None:
    """Count stored entitled events into their per-version-and-reporter and per-environment counters."""
    window = int(at // WINDOW_SECONDS) * WINDOW_SECONDS
    counters: dict[tuple[str, str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    reported: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for record in records:
        if not record.get("entitled"):
            continue
        environment = record.get("environment") or ANY_ENVIRONMENT
        failed = int(bool(record.get("is_error")))
        totals = reported[(record["project_id"], environment)]
        totals["events"] += 1
        totals["errors"] += failed
        version = record.get("version")
        if not version:
            continue
        counts = counters[(record["project_id"], version, environment, record["reported_by"])]
        counts["events"] += 1
        counts["errors"] += failed
        duration = record.get("duration_ms")
        if duration is not None:
            counts["dur_n"] += 1
            counts["dur_sum"] += round(float(duration))
            counts[f"d{bucket(float(duration)):02d}"] += 1
    for (project, version, environment, reporter), counts in counters.items():
        store.add_version_counts(project, version, environment, window, dict(counts), expires_at, reporter)
    for (project, environment), counts in reported.items():
        store.add_reported_counts(project, environment, window, dict(counts), expires_at)


def _percentile(histogram: list[int], q: float) -> float | None:
    total = sum(histogram)
    if not total:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for index, n in enumerate(histogram):
        if n and seen + n >= rank:
            low = BOUNDS[index - 1] if index > 0 else 0.0
            if index == len(BOUNDS):
                return float(BOUNDS[-1])
            return round(low + (BOUNDS[index] - low) * (rank - seen) / n, 1)
        seen += n
    return float(BOUNDS[-1])


def summarize(windows: list[dict[str, Any]]) -> dict[str, Any]:
    """Events, errors, error rate and latency percentiles over counter windows."""
    events = sum(int(w.get("events", 0)) for w in windows)
    errors = sum(int(w.get("errors", 0)) for w in windows)
    timed = sum(int(w.get("dur_n", 0)) for w in windows)
    histogram = [sum(int(w.get(f"d{i:02d}", 0)) for w in windows) for i in range(BUCKETS)]
    return {
        "events": events,
        "errors": errors,
        "error_rate": round(errors / events, 4) if events else 0.0,
        "timed_events": timed,
        "latency_mean_ms": round(sum(int(w.get("dur_sum", 0)) for w in windows) / timed, 1) if timed else None,
        "latency_p50_ms": _percentile(histogram, 0.50),
        "latency_p95_ms": _percentile(histogram, 0.95),
        "latency_p99_ms": _percentile(histogram, 0.99),
    }


def health(
    store: VersionCounterStore,
    project_id: str,
    version: str,
    environment: str,
    since: float,
    until: float | None = None,
) -> dict[str, Any]:
    """One version's health in one environment between ``since`` and ``until`` (default: now).

    The totals are every entitled reporter's together; ``reporters`` holds each reporting engine's
    own ``events``, ``errors``, ``error_rate`` and ``latency_p95_ms`` (what the watch judges).
    Counted in whole minutes, both ends included: a baseline that ends where a deployment started
    keeps that minute (the previous version's last traffic is in it).
    """
    low = int(since // WINDOW_SECONDS) * WINDOW_SECONDS
    high = int(until // WINDOW_SECONDS) * WINDOW_SECONDS if until is not None else int(clock.now())
    windows = []
    for env in dict.fromkeys([environment, ANY_ENVIRONMENT]):
        windows += store.version_windows(project_id, version, env, low, high) if high >= low else []
    by_reporter: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for window in windows:
        if window.get("reporter"):  # counters from before reporters were kept apart are not judged
            by_reporter[window["reporter"]].append(window)
    reporters = {}
    for reporter, items in sorted(by_reporter.items()):
        own = summarize(items)
        reporters[reporter] = {k: own[k] for k in ("events", "errors", "error_rate", "latency_p95_ms")}
    return {
        "version": version,
        "environment": environment,
        "since": clock.iso(low),
        "until": clock.iso(high + WINDOW_SECONDS) if until is not None else None,
        **summarize([w for items in by_reporter.values() for w in items]),
        "reporters": reporters,
    }


def reported(
    store: VersionCounterStore, project_id: str, environment: str, since: float, until: float | None = None
) -> dict[str, Any]:
    """Entitled events and errors in ``environment`` (and of reporters of every environment) since ``since``."""
    low = int(since // WINDOW_SECONDS) * WINDOW_SECONDS
    high = int(clock.now() if until is None else until)
    windows = []
    for env in dict.fromkeys([environment, ANY_ENVIRONMENT]):
        windows += store.reported_windows(project_id, env, low, high)
    events = sum(int(w.get("events", 0)) for w in windows)
    errors = sum(int(w.get("errors", 0)) for w in windows)
    return {
        "project_id": project_id,
        "environment": environment,
        "since": clock.iso(low),
        "events": events,
        "errors": errors,
        "error_rate": round(errors / events, 4) if events else 0.0,
    }


def stats(store: VersionCounterStore, project_id: str, version: str, environment: str | None, since: float) -> dict:
    """``GET /monitoring/stats?version=``: a version's health per environment since ``since``."""
    low = int(since // WINDOW_SECONDS) * WINDOW_SECONDS
    windows = [w for w in store.versions_seen(project_id, version) if int(w["window_start"]) >= low]
    by_env: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for w in windows:
        by_env[w["environment"]].append(w)
    rows = [
        {"environment": env, **summarize(items)}
        for env, items in sorted(by_env.items())
        if environment is None or env in (environment, ANY_ENVIRONMENT)
    ]
    return {
        "project_id": project_id,
        "version": version,
        "environment": environment,
        "since": clock.iso(low),
        "source": "aggregates",
        "total": summarize(
            [
                w
                for env, items in by_env.items()
                for w in items
                if environment is None or env in (environment, ANY_ENVIRONMENT)
            ]
        ),
        "environments": rows,
    }
