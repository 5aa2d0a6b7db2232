"""The console overview's series: check counters per minute and a project's windows, from stored counters."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from puraify import clock
from puraify.monitoring.ingest import parse_payload
from puraify.monitoring.overview import OverviewQuery, check_series, minute_key, minute_of, overview
from puraify.settings import Settings
from tests.fakes.engine_control import MemoryCheckCountStore
from tests.fakes.monitoring import memory_monitoring

NOW = 1_796_160_000.0  # a whole minute


def _minute(offset_minutes: int, **counts: int) -> dict:
    at = NOW + offset_minutes * 60
    return {"pk": "CHECKS", "sk": minute_key(at), "expires_at": int(NOW + 86400), **counts}


def test_minute_key_is_the_utc_minute_of_the_contract():
    assert minute_key(NOW + 59.9) == "MIN#" + clock.iso(NOW)[:16]


def test_check_series_puts_counts_in_their_minute_and_fills_the_rest_with_zeros():
    items = [_minute(-10, allowed=5, denied=2, failed=1, **{"deny#not_granted": 2}), _minute(-1, allowed=3)]
    series = check_series(items, NOW - 15 * 60, NOW)
    assert series["step_seconds"] == 60
    assert len(series["t"]) == 16 and series["t"][-1] == NOW
    assert series["allowed"][series["t"].index(NOW - 600)] == 5
    assert series["allowed"][series["t"].index(NOW - 60)] == 3
    assert sum(series["allowed"]) == 8 and series["totals"] == {"allowed": 8, "denied": 2, "failed": 1}
    assert series["top_deny_rules"] == [{"rule": "not_granted", "count": 2}]


def test_check_series_ranks_deny_rules_by_count():
    items = [
        _minute(-3, denied=5, **{"deny#platform_maintenance": 4, "deny#not_granted": 1}),
        _minute(-2, denied=3, **{"deny#flag_disabled": 3}),
    ]
    ranked = [r["rule"] for r in check_series(items, NOW - 600, NOW)["top_deny_rules"]]
    assert ranked == ["platform_maintenance", "flag_disabled", "not_granted"]


def test_check_series_over_a_day_sums_minutes_into_five_minute_steps():
    items = [_minute(-m, allowed=1) for m in range(1, 11)]
    series = check_series(items, NOW - 24 * 3600, NOW)
    assert series["step_seconds"] == 300
    assert len(series["t"]) <= 24 * 12 + 1
    assert series["totals"]["allowed"] == 10 and max(series["allowed"]) == 5


def test_overview_query_rejects_ranges_over_a_day_and_inverted_ranges():
    with pytest.raises(ValidationError, match="24 hours"):
        OverviewQuery.model_validate({"since": str(NOW - 25 * 3600), "until": str(NOW)})
    with pytest.raises(ValidationError, match="before until"):
        OverviewQuery.model_validate({"since": str(NOW), "until": str(NOW - 60)})
    assert OverviewQuery.model_validate({}).since is not None


def test_overview_gives_a_projects_errors_per_window_and_groups_with_their_trend():
    settings = Settings(alerts_topic_arn="", slack_webhook_parameter="")
    service = memory_monitoring(settings)
    error = {"project_id": "pf_1", "event_type": "execution", "engine": "ex", "platform": "slack", "status": "error"}
    events = [{**error, "error_type": "api_timeout", "message": f"request {i} timed out"} for i in range(3)]
    events.append({**error, "status": "success"})
    service.ingest("ex", parse_payload({"events": events}))
    now = clock.now()
    counts = MemoryCheckCountStore()
    counts.add(minute_of(now), {"allowed": 1, "denied": 1, "deny#not_granted": 1}, int(now + 86400))
    query = OverviewQuery.model_validate({"project_id": "pf_1", "since": str(now - 3600)})
    result = overview(service.store, service.window_seconds, counts, query, every_project=True, flush_seconds=5)
    assert overview(service.store, service.window_seconds, counts, query, every_project=False)["checks"] is None
    assert result["checks"]["totals"] == {"allowed": 1, "denied": 1, "failed": 0}
    assert result["checks"]["top_deny_rules"] == [{"rule": "not_granted", "count": 1}]
    assert result["checks"]["flush_seconds"] == 5 and "last 5 s" in result["checks"]["loss_bound"]
    project = result["project"]
    assert project["totals"] == {"events": 4, "errors": 3}
    (group,) = project["error_groups"]
    assert group["error_type"] == "api_timeout" and group["count"] == 3
    assert sum(group["trend"]) == 3 and len(group["trend"]) == len(project["t"])


def test_overview_query_clamps_a_range_a_moment_over_a_day_to_the_last_24_hours():
    q = OverviewQuery.model_validate({"since": str(NOW - 24 * 3600 - 2.5), "until": str(NOW)})
    assert q.until - q.since == 24 * 3600
