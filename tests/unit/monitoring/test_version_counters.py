"""Per-version counters: what ingest writes and how a version's health is read back (memory store)."""

from __future__ import annotations

from puraify.monitoring import versions
from tests.fakes.monitoring import MemoryVersionCounterStore

AT = 1_800_000_030.0


def _events(
    version: str | None,
    n: int,
    *,
    error: bool = False,
    ms: float = 100.0,
    environment: str | None = "production",
    reporter: str = "execution",
    entitled: bool = True,
):
    base = {"project_id": "pf-1", "version": version, "duration_ms": ms, "reported_by": reporter}
    if entitled:
        base["entitled"] = True
    if environment:
        base["environment"] = environment
    return [{**base, **({"is_error": True} if error else {})} for _ in range(n)]


def test_health_counts_errors_and_estimates_p95_from_the_histogram():
    store = MemoryVersionCounterStore()
    versions.count(store, _events("v2", 90) + _events("v2", 10, error=True, ms=2500), AT, 2_000_000_000)
    health = versions.health(store, "pf-1", "v2", "production", AT - 10, AT + 10)
    assert (health["events"], health["errors"], health["error_rate"]) == (100, 10, 0.1)
    assert 70 < health["latency_p50_ms"] <= 100
    assert 2000 < health["latency_p95_ms"] <= 3000


def test_health_includes_events_without_environment_but_not_other_environments():
    store = MemoryVersionCounterStore()
    events = _events("v2", 5) + _events("v2", 3, environment=None) + _events("v2", 7, environment="staging")
    versions.count(store, events, AT, 2_000_000_000)
    assert versions.health(store, "pf-1", "v2", "production", AT - 10, AT + 10)["events"] == 8


def test_health_of_a_version_without_traffic_is_zero_and_has_no_latency():
    health = versions.health(MemoryVersionCounterStore(), "pf-1", "v9", "production", AT - 60, AT)
    assert (health["events"], health["error_rate"], health["latency_p95_ms"]) == (0, 0.0, None)


def test_events_without_a_version_count_only_for_the_environment():
    store = MemoryVersionCounterStore()
    versions.count(store, _events(None, 3) + _events(None, 1, error=True), AT, 2_000_000_000)
    assert [sk for _, sk in store.items] == ["R#production#001800000000"]
    reported = versions.reported(store, "pf-1", "production", AT - 10, AT + 10)
    assert (reported["events"], reported["errors"], reported["error_rate"]) == (4, 1, 0.25)


def test_events_of_an_engine_not_entitled_are_not_counted_anywhere():
    # Given 20 forged errors of an engine nobody entitled to report for production
    store = MemoryVersionCounterStore()
    versions.count(store, _events("v2", 20, error=True, reporter="intruder", entitled=False), AT, 2_000_000_000)
    # Then neither the watch's version health nor the gate's error rate sees them
    assert store.items == {}
    assert versions.health(store, "pf-1", "v2", "production", AT - 10, AT + 10)["errors"] == 0
    assert versions.reported(store, "pf-1", "production", AT - 10, AT + 10)["errors"] == 0


def test_health_keeps_each_reporters_traffic_apart():
    store = MemoryVersionCounterStore()
    events = _events("v2", 40, error=True, reporter="execution") + _events("v2", 1000, reporter="validation")
    versions.count(store, events, AT, 2_000_000_000)
    health = versions.health(store, "pf-1", "v2", "production", AT - 10, AT + 10)
    assert (health["events"], health["errors"]) == (1040, 40)
    assert health["reporters"]["execution"] == {"events": 40, "errors": 40, "error_rate": 1.0, "latency_p95_ms": 98.5}
    assert health["reporters"]["validation"]["error_rate"] == 0.0


def test_stats_reports_a_version_per_environment():
    store = MemoryVersionCounterStore()
    versions.count(store, _events("v2", 4) + _events("v2", 2, environment="staging", error=True), AT, 2_000_000_000)
    stats = versions.stats(store, "pf-1", "v2", None, AT - 3600)
    assert [(r["environment"], r["events"], r["errors"]) for r in stats["environments"]] == [
        ("production", 4, 0),
        ("staging", 2, 2),
    ]
    assert stats["total"]["events"] == 6 and stats["source"] == "aggregates"


def test_a_hash_in_a_version_cannot_read_another_versions_counters():
    store = MemoryVersionCounterStore()
    versions.count(store, _events("v2#production", 3, environment="x"), AT, 2_000_000_000)
    assert versions.health(store, "pf-1", "v2", "production", AT - 10, AT + 10)["events"] == 0
