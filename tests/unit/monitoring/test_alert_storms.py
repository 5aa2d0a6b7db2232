"""Telemetry that cannot freeze production, and alert storms held to a cap (in-memory store)."""

from __future__ import annotations

import itertools
import string

import pytest

from puraify import clock
from puraify.auth import Principal
from puraify.monitoring.entitlement import entitlement, nobody
from puraify.monitoring.ingest import parse_payload
from puraify.settings import Settings
from tests.fakes.monitoring import memory_monitoring
from tests.unit.monitoring.test_monitoring_logic import FakeTopic

EVERYWHERE = entitlement(Principal("execution", scopes=frozenset({"report"})))
WORDS = ["".join(w) for w in itertools.product(string.ascii_lowercase, repeat=3)]


@pytest.fixture
def topic() -> FakeTopic:
    return FakeTopic()


@pytest.fixture(autouse=True)
def one_minute(monkeypatch):
    """Every request of a test falls in the same minute (one budget)."""
    at = clock.now()
    monkeypatch.setattr(clock, "now", lambda: at)


@pytest.fixture
def service(topic):
    settings = Settings(alerts_topic_arn="arn:aws:sns:us-east-1:123456789012:alerts", slack_webhook_parameter="")
    return memory_monitoring(settings, topic=topic)


def _error(message: str, project: str = "pf_1") -> dict:
    return {"project_id": project, "engine": "execution", "platform": "slack", "status": "error",
            "error_type": "api_timeout", "message": message}  # fmt: skip


def _varied(n: int, project: str = "pf_1") -> list[dict]:
    """Errors that each get their own fingerprint and a notifying severity (auth errors are high)."""
    return [_error(f"auth rejected for tenant {WORDS[i]}", project) for i in range(n)]


def _alerts(service, project: str = "pf_1") -> list[dict]:
    return service.alerts.list_alerts(project, None, None, 1000, None)["alerts"]


def test_identical_errors_from_an_engine_not_entitled_page_but_do_not_freeze(service):
    # Given 20 identical errors from an engine granted the project but not entitled to report
    batch = parse_payload({"events": [_error("Notion API timed out") for _ in range(20)]})
    result = service.ingest("intruder", batch, nobody)
    # Then the flood is an alert (it pages), never a critical one that holds the production gate
    assert [a["severity"] for a in result.alerts] == ["high"]
    assert "0 from engines entitled to report" in result.alerts[0]["message"]
    assert service.alerts.open_critical("pf_1") == 0


def test_identical_errors_from_an_entitled_engine_are_critical(service):
    result = service.ingest("execution", parse_payload({"events": [_error("Notion API timed out")] * 20}), EVERYWHERE)
    assert [a["severity"] for a in result.alerts] == ["critical"]
    assert service.alerts.open_critical("pf_1") == 1


def test_forged_errors_cannot_push_an_entitled_alert_over_the_threshold(service):
    # Given 19 forged errors, then one real error of the same fingerprint from an entitled engine
    service.ingest("intruder", parse_payload({"events": [_error("Notion API timed out")] * 19}), nobody)
    service.ingest("execution", parse_payload({"events": [_error("Notion API timed out")]}), EVERYWHERE)
    # Then 20 within the window, but only 1 entitled: nothing critical
    assert service.alerts.open_critical("pf_1") == 0


def test_500_varied_errors_raise_at_most_the_cap_and_one_storm_alert(service, topic):
    # Given one request of 500 errors, each with its own text (its own fingerprint)
    result = service.ingest("execution", parse_payload({"events": _varied(500)}), EVERYWHERE)
    # Then at most the engine's cap (10) of alerts and notifications, plus one storm alert
    alerts = _alerts(service)
    assert len(result.alerts) == len(alerts) == 11
    assert len(topic.published) == 11
    storm = [a for a in alerts if a["event_type"] == "alert_storm"]
    assert len(storm) == 1 and storm[0]["severity"] == "high"
    assert storm[0]["details"]["held_back"] == 490
    assert len(storm[0]["details"]["sample_fingerprints"]) == 5


def test_a_second_storm_updates_the_storm_alert_instead_of_raising_another(service, topic):
    service.ingest("execution", parse_payload({"events": _varied(500)}), EVERYWHERE)
    more = [_error(f"auth rejected for account {WORDS[i]}") for i in range(500, 800)]
    result = service.ingest("execution", parse_payload({"events": more}), EVERYWHERE)
    assert result.alerts == []
    alerts = _alerts(service)
    assert len(alerts) == 11 and len(topic.published) == 11
    assert next(a for a in alerts if a["event_type"] == "alert_storm")["details"]["held_back"] == 790


def test_engines_share_the_projects_cap(service, topic):
    # Given three engines each sending 500 varied errors to one project within a minute
    for n, engine in enumerate(("a", "b", "c")):
        events = [_error(f"auth rejected for user {WORDS[1000 * n + i]}") for i in range(500)]
        service.ingest(engine, parse_payload({"events": events}), EVERYWHERE)
    # Then the project's cap (20) holds across them: 20 alerts and one storm alert
    assert len(_alerts(service)) == 21
    assert len(topic.published) == 21


def test_the_engine_cap_spans_projects(service):
    for project in ("pf_1", "pf_2", "pf_3"):
        service.ingest("execution", parse_payload({"events": _varied(8, project)}), EVERYWHERE)
    raised = [a for p in ("pf_1", "pf_2", "pf_3") for a in _alerts(service, p) if a["event_type"] == "error"]
    assert len(raised) == 10


def test_an_event_cannot_declare_itself_entitled(service):
    # Given events that carry "entitled": true themselves, from an engine nobody entitled
    forged = [{**_error("Notion API timed out"), "entitled": True, "reported_by": "execution"} for _ in range(20)]
    result = service.ingest("intruder", parse_payload({"events": forged}), nobody)
    # Then the claim is kept as an attribute and counts for nothing
    assert [a["severity"] for a in result.alerts] == ["high"]
    stored = next(iter(service.store.events.values()))
    assert "entitled" not in stored and stored["reported_by"] == "intruder"
    assert stored["attributes"]["entitled"] is True
