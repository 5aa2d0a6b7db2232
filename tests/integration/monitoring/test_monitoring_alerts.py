"""Alerts: POST /monitoring/alert, rules and thresholds at ingest, flood control, dispatch and retry."""

from __future__ import annotations

import json

from puraify import clock, wiring

NO_DELIVERIES = {"deliveries_attempted": 0, "deliveries_delivered": 0, "deliveries_failed": 0}  # no routes here


def _error(project: str, i: int, **overrides):
    body = {
        "project_id": project,
        "event_type": "execution",
        "engine": "execution",
        "platform": "slack",
        "action": "send_message",
        "status": "error",
        "error_type": "api_timeout",
        "message": f"request {1000 + i} timed out after {3000 + i} ms",
    }
    body.update(overrides)
    return body


def _alerts(aws, project: str) -> list[dict]:
    items = aws.client("dynamodb").scan(TableName=aws.name("AlertsTable"))["Items"]
    return [i for i in items if i["pk"]["S"] == f"AL#{project}"]


def test_alert_is_stored_and_sent_to_slack_and_sns(aws, project, sample, alerter, reader, slack, sns_inbox, invoke):
    # When
    reply = invoke("log/alert", engine=alerter, body=sample("alert"))
    # Then
    assert reply.status == 201, reply.body
    body = reply.body
    assert body["alert_id"] and body["notified"] is True
    assert body["severity"] == "high" and body["triggered_by"] == "execution_engine"
    assert body["message"] == "Failed to send message - token expired"
    assert len(slack.received) == 1
    assert "token expired" in slack.received[0]["text"] and "[HIGH]" in slack.received[0]["text"]
    assert any("token expired" in m for m in sns_inbox())
    timeline = invoke("log/audit", engine=reader, query={"project_id": project}).body["timeline"]
    assert [e["kind"] for e in timeline] == ["alert"]
    assert timeline[0]["delivery"]["status"] == "delivered"


def test_low_severity_alert_is_stored_but_not_notified(aws, project, alerter, slack, invoke):
    body = {"project_id": project, "event_type": "warning", "severity": "low", "message": "slow", "triggered_by": "x"}
    reply = invoke("log/alert", engine=alerter, body=body)
    assert reply.status == 201 and reply.body["notified"] is False
    assert slack.received == []
    assert len(_alerts(aws, project)) == 1


def test_invalid_alert_is_422(aws, project, alerter, invoke):
    reply = invoke("log/alert", engine=alerter, body={"project_id": project, "severity": "apocalyptic"})
    assert reply.status == 422
    fields = {d["field"] for d in reply.body["error"]["details"]}
    assert {"body.severity", "body.message", "body.event_type", "body.triggered_by"} <= fields
    assert _alerts(aws, project) == []


def test_repeated_alert_is_flood_controlled_and_suppressed_count_is_reported(
    aws, project, sample, alerter, slack, invoke, monkeypatch
):
    # Given three identical alerts within the flood window
    replies = [invoke("log/alert", engine=alerter, body=sample("alert")) for _ in range(3)]
    # Then one notification, all three stored
    assert [r.body["notified"] for r in replies] == [True, False, False]
    assert [r.body["suppressed"] for r in replies] == [False, True, True]
    assert len(slack.received) == 1
    assert len(_alerts(aws, project)) == 3
    # When the window has passed
    later = clock.now() + 601
    monkeypatch.setattr(clock, "now", lambda: later)
    reply = invoke("log/alert", engine=alerter, body=sample("alert"))
    # Then the next notification reports what was held back
    assert reply.body["notified"] is True
    assert len(slack.received) == 2
    assert "2 similar notification(s) suppressed" in slack.received[1]["text"]


def test_failed_slack_delivery_is_kept_and_retried_with_backoff(
    aws, project, sample, alerter, slack, invoke, run_schedule, monkeypatch
):
    # Given Slack is down for the first two attempts
    slack.fail_next = 2
    reply = invoke("log/alert", engine=alerter, body=sample("alert"))
    assert reply.status == 201
    assert reply.body["notified"] is False
    assert reply.body["delivery"]["status"] == "retrying"
    assert reply.body["delivery"]["channels"] == {"sns": "sent", "slack": "failed"}
    assert "HTTP 500" in reply.body["delivery"]["last_error"]
    # When the schedule runs before the backoff has elapsed, nothing is tried
    assert run_schedule()["attempted"] == 0
    # When it runs after 30 s (first backoff): tried again, still failing, next backoff 60 s
    start = clock.now()
    monkeypatch.setattr(clock, "now", lambda: start + 31)
    assert run_schedule() == {
        "attempted": 1,
        "delivered": 0,
        "failed": 0,
        "ledgers_repaired": 0,
        "auto_resolved": 0,
        "projects_backfilled": 0,
        **NO_DELIVERIES,
    }
    monkeypatch.setattr(clock, "now", lambda: start + 31 + 45)
    assert run_schedule()["attempted"] == 0
    monkeypatch.setattr(clock, "now", lambda: start + 31 + 61)
    assert run_schedule() == {
        "attempted": 1,
        "delivered": 1,
        "failed": 0,
        "ledgers_repaired": 0,
        "auto_resolved": 0,
        "projects_backfilled": 0,
        **NO_DELIVERIES,
    }
    # Then Slack got it exactly once, and SNS was not sent again
    assert len(slack.received) == 1
    item = _alerts(aws, project)[0]
    assert "pending" not in item
    delivery = json.loads(json.dumps(item["delivery"]["M"]))
    assert delivery["status"] == {"S": "delivered"} and delivery["attempts"] == {"N": "3"}


def test_high_severity_errors_at_ingest_raise_one_alert(aws, project, writer, slack, invoke):
    events = [_error(project, i, error_type="auth_error", message=f"token expired for user {i}") for i in range(5)]
    invoke("log/ingest", engine=writer, body={"events": events})
    invoke("log/ingest", engine=writer, body={"events": events[:1]})
    assert len(slack.received) == 1
    assert "auth_error" in slack.received[0]["text"]
    assert len(_alerts(aws, project)) == 1


def test_fingerprint_over_threshold_raises_critical_alert(aws, project, writer, reader, slack, invoke):
    # Given 19 timeouts: below the threshold of 20 in 5 minutes
    invoke("log/ingest", engine=writer, body={"events": [_error(project, i) for i in range(19)]})
    assert slack.received == []
    assert runtime_open_critical(project) == 0
    # When the 20th arrives
    invoke("log/ingest", engine=writer, body=_error(project, 99))
    # Then
    assert len(slack.received) == 1
    assert "[CRITICAL]" in slack.received[0]["text"] and "seen 20 times" in slack.received[0]["text"]
    assert runtime_open_critical(project) == 1


def runtime_open_critical(project: str) -> int:

    return wiring.current().monitoring.open_critical_alerts(project)


def test_raise_alert_in_process(aws, project, slack):

    alert = wiring.current().monitoring.raise_alert(
        project_id=project,
        event_type="policy_rejected",
        severity="critical",
        message="bundle rejected",
        triggered_by="planning_engine",
    )
    assert alert["alert_id"] and alert["notified"] is True
    assert "bundle rejected" in slack.received[0]["text"]
