"""The read side: logs pages and filters, error groups, stats, the audit timeline, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from puraify import clock, wiring
from puraify.monitoring.queries import encode_cursor

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def _at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event(project: str, i: int, **overrides):
    body = {
        "project_id": project,
        "event_type": "execution",
        "engine": "execution",
        "platform": "slack",
        "action": "send_message",
        "status": "success",
        "duration_ms": i + 1,
        "timestamp": _at(i),
        "event_id": f"e{i:04d}",
    }
    body.update(overrides)
    return body


def _ingest(invoke, writer, events):
    reply = invoke("log/ingest", engine=writer, body={"events": events})
    assert reply.status == 202 and not reply.body["rejected"], reply.body


def test_logs_are_newest_first_and_pages_cover_everything_once(aws, project, writer, reader, invoke):
    _ingest(invoke, writer, [_event(project, i) for i in range(250)])
    seen, cursor, pages = [], None, 0
    while True:
        query = {"project_id": project, "limit": "100"} | ({"cursor": cursor} if cursor else {})
        body = invoke("log/logs", engine=reader, query=query).body
        seen.extend(e["event_id"] for e in body["logs"])
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert seen == [f"e{i:04d}" for i in reversed(range(250))]


def test_logs_filters_and_time_range(aws, project, writer, reader, invoke):
    _ingest(
        invoke,
        writer,
        [_event(project, i) for i in range(10)]
        + [
            _event(project, 100 + i, platform="gmail", status="error", error_type="quota", flow_id="f1")
            for i in range(4)
        ]
        + [_event(project, 200, engine="planning", event_type="validation", flow_id="f1")],
    )

    def ids(**query):
        body = invoke("log/logs", engine=reader, query={"project_id": project, **query}).body
        return [e["event_id"] for e in body["logs"]]

    assert ids(platform="gmail") == ["e0103", "e0102", "e0101", "e0100"]
    assert ids(status="error") == ["e0103", "e0102", "e0101", "e0100"]
    assert ids(status="error", platform="slack") == []
    assert ids(engine="planning") == ["e0200"]
    assert ids(event_type="validation") == ["e0200"]
    assert ids(flow_id="f1", platform="gmail", limit="2") == ["e0103", "e0102"]
    assert ids(since=_at(5), until=_at(8)) == ["e0008", "e0007", "e0006", "e0005"]
    assert ids(project_id="pf_other") == []
    assert ids(since=_at(5), cursor=encode_cursor(_at(1))) == []  # a cursor before `since`: an empty page


def test_logs_bad_query_is_422(aws, project, reader, invoke):
    for query, field in [
        ({}, "query.project_id"),
        ({"project_id": "pf_1", "limit": "5000"}, "query.limit"),
        ({"project_id": "pf_1", "since": "yesterday"}, "query.since"),
        ({"project_id": "pf_1", "cursor": "garbage"}, "query.cursor"),
        ({"project_id": "pf_1", "colour": "red"}, "query.colour"),
        ({"project_id": "pf_1", "since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "query"),
    ]:
        reply = invoke("log/logs", engine=reader, query=query)
        assert reply.status == 422, query
        assert field in {d["field"] for d in reply.body["error"]["details"]}, reply.body


def test_errors_are_grouped_by_fingerprint_most_frequent_first(aws, project, writer, reader, invoke):
    timeouts = [
        _event(
            project,
            i,
            status="error",
            error_type="api_timeout",
            message=f"request {9000 + i} timed out after {i}ms at {_at(i)}",
        )
        for i in range(6)
    ]
    tokens = [
        _event(project, 50 + i, status="error", error_type="auth", message=f"token abc{i}def0123456789xyz expired")
        for i in range(2)
    ]
    other_platform = [
        _event(project, 60, status="error", error_type="api_timeout", platform="gmail", message="request 1 timed out")
    ]
    _ingest(invoke, writer, timeouts + tokens + other_platform)
    body = invoke("log/errors", engine=reader, query={"project_id": project}).body
    groups = body["errors"]
    assert [(g["error_type"], g["platform"], g["count"]) for g in groups] == [
        ("api_timeout", "slack", 6),
        ("auth", "slack", 2),
        ("api_timeout", "gmail", 1),
    ]
    assert groups[0]["first_seen"].startswith(_at(0)[:19]) and groups[0]["last_seen"].startswith(_at(5)[:19])
    assert "timed out" in groups[0]["sample_message"]
    only_gmail = invoke("log/errors", engine=reader, query={"project_id": project, "platform": "gmail"}).body
    assert [g["count"] for g in only_gmail["errors"]] == [1]
    # An error group's events: the logs filtered by its fingerprint (the console's group -> events link)
    query = {"project_id": project, "fingerprint": groups[1]["fingerprint"], "status": "error"}
    events = invoke("log/logs", engine=reader, query=query).body["logs"]
    assert sorted(e["event_id"] for e in events) == ["e0050", "e0051"]


def test_stats_per_platform_and_action(aws, project, writer, reader, invoke):
    events = [_event(project, i, duration_ms=i + 1, retries=1 if i % 10 == 0 else 0) for i in range(100)]
    events += [
        _event(project, 200 + i, platform="gmail", action="send_email", status="error", duration_ms=5000)
        for i in range(3)
    ]
    events += [_event(project, 300, platform="gmail", action="send_email", duration_ms=100)]
    _ingest(invoke, writer, events)
    body = invoke("log/stats", engine=reader, query={"project_id": project, "since": _at(-1)}).body
    rows = {(r["platform"], r["action"]): r for r in body["stats"]}
    slack = rows[("slack", "send_message")]
    assert slack["count"] == 100 and slack["errors"] == 0 and slack["retries"] == 10
    assert slack["duration_ms"] == {"p50": 50, "p95": 95, "max": 100}
    gmail = rows[("gmail", "send_email")]
    assert gmail["count"] == 4 and gmail["error_rate"] == 0.75
    assert gmail["duration_ms"]["max"] == 5000
    assert body["events"] == 104


def test_audit_timeline_merges_events_alerts_and_decisions(aws, project, admin, writer, alerter, reader, invoke):
    # Given a decision, an event and an alert for flow f1, and noise from another flow
    check = {"platform": "gmail", "action_type": "send_email", "project_id": project, "flow_id": "f1"}
    invoke("check/check", engine=admin, body=check)
    invoke("check/check", engine=admin, body={**check, "flow_id": "f2"})
    now = datetime.now(UTC)
    _ingest(
        invoke, writer, [_event(project, 1, flow_id="f1", timestamp=now.isoformat()), _event(project, 2, flow_id="f2")]
    )
    alert = {"project_id": project, "flow_id": "f1", "event_type": "error", "severity": "low", "message": "m",
             "triggered_by": "execution_engine"}  # fmt: skip
    invoke("log/alert", engine=alerter, body=alert)
    # When
    body = invoke("log/audit", engine=reader, query={"project_id": project, "flow_id": "f1"}).body
    # Then
    assert [e["kind"] for e in body["timeline"]] == ["decision", "event", "alert"]
    assert body["timeline"][0]["flow_id"] == "f1" and body["timeline"][0]["platform"] == "gmail"
    stamps = [e["timestamp"] for e in body["timeline"]]
    assert stamps == sorted(stamps)
    whole = invoke("log/audit", engine=reader, query={"project_id": project}).body
    assert whole["counts"] == {"events": 2, "alerts": 1, "alert_transitions": 0, "decisions": 2, "deployments": 0}


def test_expired_items_are_never_returned(aws, project, sample, writer, alerter, reader, invoke, monkeypatch):
    _ingest(invoke, writer, [_event(project, 1, status="error", error_type="x", message="boom")])
    invoke("log/alert", engine=alerter, body=sample("alert"))
    # When 31 days pass (no emulator deletes TTL items: reads must filter them)
    later = clock.now() + 31 * 86400
    monkeypatch.setattr(clock, "now", lambda: later)
    # Then events and error groups are gone, the alert (90 days) is still there
    assert invoke("log/logs", engine=reader, query={"project_id": project}).body["logs"] == []
    assert invoke("log/errors", engine=reader, query={"project_id": project, "since": "0"}).body["errors"] == []
    timeline = invoke("log/audit", engine=reader, query={"project_id": project}).body["timeline"]
    assert [e["kind"] for e in timeline] == ["alert"]


def test_error_summary_for_the_planning_engine(aws, project, writer, invoke):
    start = clock.now()
    _ingest(
        invoke,
        writer,
        [_event(project, i) for i in range(8)] + [_event(project, 10 + i, status="error") for i in range(2)],
    )
    summary = wiring.current().monitoring.error_summary(project, start - 1)
    assert (summary["events"], summary["errors"], summary["error_rate"]) == (10, 2, 0.2)
    assert wiring.current().monitoring.error_summary("pf_none", start - 1)["error_rate"] == 0.0


def test_an_event_that_names_no_engine_is_its_senders_and_found_by_engine(aws, project, writer, reader, invoke):
    # Given events sent as engine `execution`, one naming no engine and one naming another
    events = [
        {"project_id": project, "event_type": "execution", "status": "success", "event_id": "own"},
        {"project_id": project, "event_type": "execution", "status": "success", "event_id": "other",
         "engine": "validation"},
    ]  # fmt: skip
    assert invoke("log/ingest", engine=writer, body={"events": events}).status == 202
    # When the logs are read, whole and by engine
    shown = invoke("log/logs", engine=reader, query={"project_id": project}).body["logs"]
    sender = writer[0]
    by_engine = invoke("log/logs", engine=reader, query={"project_id": project, "engine": sender}).body["logs"]
    # Then the event without an engine is stored as the sender's
    assert {e["event_id"]: (e["engine"], e["reported_by"]) for e in shown} == {
        "own": (sender, sender), "other": ("validation", sender)
    }  # fmt: skip
    assert [e["event_id"] for e in by_engine] == ["own"]
