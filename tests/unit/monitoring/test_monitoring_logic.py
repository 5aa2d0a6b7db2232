"""Monitoring's logic on the in-memory store: fingerprints, severity, batches, flood control, backoff."""

from __future__ import annotations

import pytest

from puraify import clock
from puraify.auth import Principal
from puraify.errors import PayloadTooLargeError, ValidationFailedError
from puraify.monitoring.alerts import backoff_seconds
from puraify.monitoring.entitlement import entitlement
from puraify.monitoring.fingerprint import fingerprint, normalize_message, parse_rules, severity_of
from puraify.monitoring.ingest import parse_payload
from puraify.monitoring.models import LogsQuery, StatsQuery
from puraify.monitoring.queries import percentile, stats, summarize
from puraify.settings import Settings
from tests.fakes.monitoring import memory_monitoring


class FakeTopic:
    def __init__(self) -> None:
        self.published: list[str] = []
        self.failures = 0

    def publish(self, topic_arn: str, subject: str, message: str) -> str:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("sns: throttled")
        self.published.append(message)
        return "m-1"


@pytest.fixture
def topic() -> FakeTopic:
    return FakeTopic()


@pytest.fixture
def service(topic):
    settings = Settings(alerts_topic_arn="arn:aws:sns:us-east-1:123456789012:alerts", slack_webhook_parameter="")
    return memory_monitoring(settings, topic=topic)


# An engine entitled to report for every environment (``report``): its floods are critical.
REPORTS = entitlement(Principal("execution", scopes=frozenset({"report"})))


def ingest(service, batch):
    return service.ingest("execution", batch, REPORTS)


def _error(i: int, **overrides):
    event = {
        "project_id": "pf_1",
        "event_type": "execution",
        "engine": "execution",
        "platform": "slack",
        "action": "send_message",
        "status": "error",
        "error_type": "api_timeout",
        "message": f"request {i} timed out",
        "duration_ms": 10 + i,
    }
    return {**event, **overrides}


def test_fingerprint_ignores_ids_numbers_tokens_and_timestamps():
    a = "Request 8f14e45f-ceea-467f-a8f2-1b1a5e2a6a3c for user 42 failed at 2025-07-25T14:01:00Z (token=xoxb-123abc)"
    b = "Request 0b9d1a2c-0000-4000-8000-123456789abc for user 7 failed at 2026-01-01T00:00:00.5Z (token=other)"
    assert normalize_message(a) == normalize_message(b)
    assert fingerprint("api_timeout", "Slack", "execution", a) == fingerprint("api_timeout", "slack", "execution", b)


def test_fingerprint_separates_type_platform_engine_and_wording():
    base = fingerprint("api_timeout", "slack", "execution", "timed out")
    assert base != fingerprint("rate_limited", "slack", "execution", "timed out")
    assert base != fingerprint("api_timeout", "gmail", "execution", "timed out")
    assert base != fingerprint("api_timeout", "slack", "validation", "timed out")
    assert base != fingerprint("api_timeout", "slack", "execution", "connection refused")


def test_severity_rules_default_and_configured():
    rules = parse_rules("")
    assert severity_of(rules, "auth_error", "token expired") == "high"
    assert severity_of(rules, None, "HTTP 401 from Slack") == "high"
    assert severity_of(rules, "api_timeout", "timed out after 3000 ms") == "medium"
    custom = parse_rules('[{"pattern": "quota", "severity": "critical"}]')
    assert severity_of(custom, "quota_exceeded", "daily quota") == "critical"
    with pytest.raises(ValueError):
        parse_rules('[{"pattern": "x", "severity": "apocalyptic"}]')


def test_batch_rejects_bad_events_by_index():
    batch = parse_payload({"events": [_error(0), {"event_type": "x"}, _error(2, retries=-1)]})
    assert len(batch.events) == 1
    assert [r["index"] for r in batch.rejected] == [1, 2]
    assert "project_id" in batch.rejected[0]["error"] and "retries" in batch.rejected[1]["error"]


def test_batch_over_500_is_413_and_single_bad_event_is_422():
    with pytest.raises(PayloadTooLargeError):
        parse_payload({"events": [_error(i) for i in range(501)]})
    with pytest.raises(ValidationFailedError) as raised:
        parse_payload({"project_id": "pf_1", "event_type": "x", "retries": "many"})
    assert raised.value.details[0]["field"] == "body.retries"


def test_ingest_writes_one_update_per_fingerprint_per_batch(service):
    # Given 500 events: 450 successes and 50 errors of 2 fingerprints
    events = [_error(i, status="success", error_type=None, message=None) for i in range(450)]
    events += [_error(i) for i in range(25)] + [_error(i, error_type="rate_limited") for i in range(25)]
    # When
    result = ingest(service, parse_payload({"events": events}))
    # Then 1 ledger + 5 transactions of 100 conditional event writes + 1 transaction adding every count
    assert result.stored == 500
    assert service.store.calls["write"] == 1 + 5 + 1 + _alert_writes(result)
    groups, _ = service.store.error_groups("pf_1", 0)
    assert sorted(g["occurrences"] for g in groups) == [25, 25]


def _alert_writes(result) -> int:
    # each critical alert (threshold crossed): fingerprint claim + gate (2) + alert and its pointer + delivery
    return 6 * len(result.alerts)


def test_flood_of_10000_identical_errors_sends_one_notification(service, topic):
    for start in range(0, 10_000, 500):
        batch = parse_payload({"events": [_error(start + i) for i in range(500)]})
        ingest(service, batch)
    assert len(topic.published) == 1
    assert "seen 500 times" in topic.published[0]
    assert len(service.store.events) == 10_000
    assert summarize(service.store, service.window_seconds, "pf_1", 0)["errors"] == 10_000


def test_flood_control_reports_what_it_held_back(service, topic, monkeypatch):
    alerts = service.alerts
    args = {"project_id": "pf_1", "event_type": "error", "severity": "high", "message": "token expired",
            "triggered_by": "x"}  # fmt: skip
    results = [alerts.raise_alert(**args) for _ in range(4)]
    assert [r["notified"] for r in results] == [True, False, False, False]
    later = clock.now() + 601
    monkeypatch.setattr(clock, "now", lambda: later)
    assert alerts.raise_alert(**args)["notified"] is True
    assert "3 similar notification(s) suppressed" in topic.published[-1]


def test_failed_dispatch_is_kept_and_given_up_after_max_attempts(service, topic):
    topic.failures = 100
    alert = service.alerts.raise_alert(
        project_id="pf_1", event_type="error", severity="critical", message="down", triggered_by="x"
    )
    assert alert["delivery"]["status"] == "retrying" and alert["notified"] is False
    at = clock.now()
    for _ in range(20):
        at += 3600
        service.alerts.retry_due(at)
    (stored,) = service.store.alert_items.values()
    assert stored["delivery"]["status"] == "failed"
    assert stored["delivery"]["attempts"] == service.alerts.policy.max_attempts
    assert "throttled" in stored["delivery"]["last_error"]


def test_backoff_doubles_and_is_capped():
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff_seconds(20) == 3600


def test_percentile_is_nearest_rank():
    ordered = [float(v) for v in range(1, 101)]
    assert (percentile(ordered, 0.5), percentile(ordered, 0.95), percentile([7.0], 0.95)) == (50, 95, 7)


def test_stats_group_by_platform_and_action(service):
    events = [_error(i, status="success") for i in range(9)] + [_error(9)]
    ingest(service, parse_payload({"events": events}))
    (row,) = stats(service.store, StatsQuery(project_id="pf_1", since=0))["stats"]
    assert (row["count"], row["errors"], row["error_rate"]) == (10, 1, 0.1)
    assert row["duration_ms"] == {"p50": 14, "p95": 19, "max": 19}


def test_logs_query_rejects_pages_over_1000():
    with pytest.raises(ValueError):
        LogsQuery(project_id="pf_1", limit=1001)


def test_overlapping_retry_runs_send_a_due_alert_once(service, topic, monkeypatch):
    topic.failures = 1
    service.alerts.raise_alert(project_id="pf_1", event_type="error", severity="high", message="m", triggered_by="x")
    at = clock.now() + 31
    (stale,) = service.store.due_alerts(at)
    # Given another run claimed the alert after this run listed it
    assert service.store.claim_retry(stale, at + 30)
    monkeypatch.setattr(service.store, "due_alerts", lambda when, limit=100: [dict(stale)])
    # When this run gets to it, it skips it
    assert service.alerts.retry_due(at) == {"attempted": 0, "delivered": 0, "failed": 0}
    assert topic.published == []
    # Then the claiming run's attempt is the only one
    monkeypatch.undo()
    assert service.alerts.retry_due(at + 31)["delivered"] == 1
    assert len(topic.published) == 1


def test_threshold_slides_across_window_boundaries(service, topic, monkeypatch):
    window = service.window_seconds
    boundary = (int(clock.now()) // window + 1) * window
    # Given 15 errors just before a window boundary and 10 just after (25 within 5 minutes)
    monkeypatch.setattr(clock, "now", lambda: boundary - 10)
    ingest(service, parse_payload({"events": [_error(i) for i in range(15)]}))
    monkeypatch.setattr(clock, "now", lambda: boundary + 20)
    result = ingest(service, parse_payload({"events": [_error(i) for i in range(10)]}))
    # Then the threshold is crossed although neither fixed window holds 20
    assert [a["severity"] for a in result.alerts] == ["critical"]
    assert len(topic.published) == 1


def test_continuing_flood_does_not_raise_a_critical_alert_per_window(service, monkeypatch):
    window = service.window_seconds
    start = (int(clock.now()) // window + 1) * window
    raised = []
    for n in range(4):
        monkeypatch.setattr(clock, "now", lambda n=n: start + n * window + 5)
        raised += ingest(service, parse_payload({"events": [_error(i) for i in range(100)]})).alerts
    assert [a["severity"] for a in raised] == ["critical"]


@pytest.mark.parametrize(
    "details",
    [{"n": float("nan")}, {"n": float("inf")}, {"n": 10**40}, {"n": 1e200}, {"deep": [[[[[[[[[[1]]]]]]]]]]}],
)
def test_details_dynamodb_would_refuse_reject_only_that_event(details):
    batch = parse_payload({"events": [_error(0), _error(1, details=details)]})
    assert len(batch.events) == 1 and batch.rejected[0]["index"] == 1


def test_a_failing_alert_store_does_not_lose_events_or_other_counters(service, monkeypatch):
    from puraify.errors import UnavailableError

    def down(*args, **kwargs):
        raise UnavailableError("the alert store is temporarily unavailable; retry later")

    monkeypatch.setattr(service.store, "pass_gate", down)
    events = [_error(i, error_type="auth", message="token expired") for i in range(3)] + [_error(9)]
    result = ingest(service, parse_payload({"events": events}))
    assert result.stored == 4 and result.alerts == []
    groups, _ = service.store.error_groups("pf_1", 0)
    assert sorted(g["occurrences"] for g in groups) == [1, 3]


def test_threshold_alert_names_a_flow_only_when_all_its_errors_share_it(service):
    one = ingest(service, parse_payload({"events": [_error(i, flow_id="f1") for i in range(20)]}))
    mixed = [_error(i, error_type="quota", flow_id=f"f{i % 2}") for i in range(20)]
    two = ingest(service, parse_payload({"events": mixed}))
    assert [a["flow_id"] for a in one.alerts + two.alerts] == ["f1", None]


def test_alert_without_any_channel_is_stored_and_not_notified(topic):
    service = memory_monitoring(Settings(alerts_topic_arn="", slack_webhook_parameter=""), topic=topic)
    args = {"project_id": "pf_1", "event_type": "e", "message": "m", "triggered_by": "x"}
    alert = service.alerts.raise_alert(severity="critical", **args)
    assert alert["notified"] is False and alert["delivery"] == {"status": "no_channels"}
    assert service.alerts.open_critical("pf_1") == 1
