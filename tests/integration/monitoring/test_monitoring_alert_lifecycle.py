"""Alerts with a lifecycle: list, acknowledge, resolve (409 once it no longer applies), auto-resolve,
regressions, raised_by, and the plan gate's count of unresolved critical alerts."""

from __future__ import annotations

import pytest

from puraify import clock, wiring
from tests.integration.monitoring.conftest import _register


@pytest.fixture
def manager(aws, admin, invoke) -> tuple[str, str]:
    return _register(invoke, admin, "oncall", ["logs:read", "alerts:manage"])


def _burst(invoke, writer, project: str, n: int, start: int = 0) -> None:
    events = [
        {"project_id": project, "event_id": f"b{start + i}", "engine": "execution", "platform": "slack",
         "status": "error", "error_type": "api_timeout",
         "message": f"Slack API timed out after 3000 ms (request {start + i:06x}a)"}
        for i in range(n)
    ]  # fmt: skip
    reply = invoke("log/ingest", engine=writer, body={"events": events})
    assert reply.status == 202, reply.body


def _alerts(invoke, reader, project: str, **query: str) -> list[dict]:
    reply = invoke("log/alerts", engine=reader, query={"project_id": project, **query})
    assert reply.status == 200, reply.body
    return reply.body["alerts"]


def test_a_burst_raises_one_critical_alert_that_ack_and_resolve_close(aws, project, writer, manager, invoke):
    # Given a burst of 30 identical errors (threshold 20 in 300 s), sent in two batches
    _burst(invoke, writer, project, 15)
    _burst(invoke, writer, project, 15, start=15)
    # Then one critical alert, raised by monitoring, blocks deployments
    [alert] = _alerts(invoke, manager, project)
    assert alert["severity"] == "critical" and alert["status"] == "open"
    assert alert["raised_by"] == "monitoring" and alert["fingerprint"] and alert["regression"] is False
    assert wiring.current().monitoring.open_critical_alerts(project) == 1
    alert_id = alert["alert_id"]
    # When acknowledged: still blocks
    ack = invoke("log/alert_acknowledge", engine=manager, path_params={"alert_id": alert_id},
                 body={"reason": "looking"})  # fmt: skip
    assert ack.status == 200, ack.body
    assert ack.body["status"] == "acknowledged" and ack.body["acknowledged_by"] == manager[0]
    assert wiring.current().monitoring.open_critical_alerts(project) == 1
    # The console's default list, unresolved, still shows it (open and acknowledged); resolved does not
    assert [a["alert_id"] for a in _alerts(invoke, manager, project, status="unresolved")] == [alert_id]
    assert _alerts(invoke, manager, project, status="open") == []
    again = invoke("log/alert_acknowledge", engine=manager, path_params={"alert_id": alert_id})
    assert again.status == 409 and again.body["error"]["details"][0]["status"] == "acknowledged"
    # When resolved (no body): the next plan decision no longer counts it
    done = invoke("log/alert_resolve", engine=manager, path_params={"alert_id": alert_id}, body="")
    assert done.status == 200 and done.body["status"] == "resolved" and done.body["resolved_by"] == manager[0]
    assert [h["status"] for h in done.body["history"]] == ["open", "acknowledged", "resolved"]
    assert wiring.current().monitoring.open_critical_alerts(project) == 0
    assert _alerts(invoke, manager, project, status="unresolved") == []
    late = invoke("log/alert_resolve", engine=manager, path_params={"alert_id": alert_id})
    assert late.status == 409 and late.body["error"]["details"][0]["alert"]["status"] == "resolved"
    # And the audit timeline shows who did what
    timeline = invoke("log/audit", engine=manager, query={"project_id": project}).body["timeline"]
    steps = [(e["kind"], e.get("by"), e.get("reason")) for e in timeline if e["kind"].startswith("alert_")]
    assert steps == [("alert_acknowledged", manager[0], "looking"), ("alert_resolved", manager[0], None)]
    assert [a["status"] for a in _alerts(invoke, manager, project, status="resolved")] == ["resolved"]
    assert _alerts(invoke, manager, project, status="open") == []


def test_more_errors_while_an_alert_is_open_raise_no_second_alert(aws, project, writer, manager, invoke):
    for start in range(0, 100, 25):
        _burst(invoke, writer, project, 25, start=start)
    assert len(_alerts(invoke, manager, project)) == 1


def test_alert_routes_check_scopes_and_unknown_ids(aws, project, writer, reader, admin, invoke):
    _burst(invoke, writer, project, 20)
    [alert] = _alerts(invoke, reader, project)
    # a logs:read reader may list but not manage
    denied = invoke("log/alert_resolve", engine=reader, path_params={"alert_id": alert["alert_id"]})
    assert denied.status == 403 and "alerts:manage" in denied.body["error"]["message"]
    assert invoke("log/alerts", engine=writer, query={"project_id": project}).status == 403
    unknown = invoke("log/alert_resolve", engine=admin, path_params={"alert_id": "nope"})
    assert unknown.status == 404
    bad = invoke("log/alert_resolve", engine=admin, path_params={"alert_id": alert["alert_id"]},
                 body={"reason": "", "extra": 1})  # fmt: skip
    assert bad.status == 422


def test_posted_alert_carries_raised_by_and_pages_newest_first(aws, project, alerter, reader, invoke):
    for i in range(3):
        body = {"project_id": project, "event_type": "deploy", "severity": "low", "message": f"m{i}",
                "triggered_by": "someone else"}  # fmt: skip
        reply = invoke("log/alert", engine=alerter, body=body)
        assert reply.status == 201 and reply.body["raised_by"] == alerter[0]
        assert reply.body["triggered_by"] == "someone else"
    first = invoke("log/alerts", engine=reader, query={"project_id": project, "limit": "2"}).body
    assert [a["message"] for a in first["alerts"]] == ["m2", "m1"]
    rest = invoke("log/alerts", engine=reader, query={"project_id": project, "cursor": first["next_cursor"]}).body
    assert [a["message"] for a in rest["alerts"]] == ["m0"] and rest["next_cursor"] is None
    assert _alerts(invoke, reader, project, severity="critical") == []


def test_quiet_fingerprint_alert_resolves_itself_and_a_recurrence_is_a_regression(
    aws, project, writer, manager, invoke, monkeypatch
):
    _burst(invoke, writer, project, 20)
    [alert] = _alerts(invoke, manager, project)
    service = wiring.current().monitoring
    # Not quiet yet
    service.alerts.auto_resolve()
    assert _alerts(invoke, manager, project)[0]["status"] == "open"
    # When the fingerprint has been quiet for 31 minutes (the schedule's pass runs then)
    later = clock.now() + 31 * 60
    assert service.alerts.auto_resolve(at=later) >= 1  # other tests' alerts in these tables go quiet too
    [resolved] = _alerts(invoke, manager, project)
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == "monitoring"
    assert wiring.current().monitoring.open_critical_alerts(project) == 0
    # Then the same error again opens a new alert, marked as a regression
    monkeypatch.setattr(clock, "now", lambda: later + 60)
    _burst(invoke, writer, project, 1, start=500)
    newest = _alerts(invoke, manager, project)[0]
    assert newest["alert_id"] != alert["alert_id"] and newest["regression"] is True
    assert newest["fingerprint"] == alert["fingerprint"] and newest["status"] == "open"
    assert newest["severity"] == "medium"  # one error: below the threshold, so not critical
