"""Who may send telemetry (``logs:write``) and whose telemetry counts (``report``): real handler, real boto3."""

from __future__ import annotations

from puraify import clock
from tests.integration.monitoring.conftest import _register


def _errors(project: str, n: int, **fields) -> dict:
    event = {"project_id": project, "engine": "execution", "platform": "notion", "status": "error",
             "error_type": "api_timeout", "message": "Notion API timed out", "environment": "production",
             "version": "v1.1.0", **fields}  # fmt: skip
    return {"events": [event] * n}


def _aggregates(aws, project: str) -> list[str]:
    """The sort keys of the project's counters (test inspection only)."""
    items = aws.client("dynamodb").scan(TableName=aws.name("AggregatesTable"))["Items"]
    return sorted(i["sk"]["S"] for i in items if i["pk"]["S"] == f"AG#{project}")


def test_ingest_without_logs_write_is_403_and_nothing_is_written(aws, project, admin, invoke):
    # Given an engine granted the project, without any scope
    bare = _register(invoke, admin, "bare", [])
    # When it sends events, or an engine event
    batch = invoke("log/ingest_batch", engine=bare, body=_errors(project, 20))
    single = invoke("log/engine_event", engine=bare)
    # Then both are refused before anything is read or written
    assert (batch.status, batch.body["error"]["code"]) == (403, "missing_scope"), batch.body
    assert "logs:write" in batch.body["error"]["message"]
    assert (single.status, single.body["error"]["code"]) == (403, "missing_scope"), single.body
    assert _aggregates(aws, project) == []


def test_events_of_an_engine_not_entitled_are_stored_but_counted_nowhere_that_decides(
    aws, project, admin, reader, invoke
):
    # Given an engine that may write logs, entitled to report for staging only
    staging = _register(invoke, admin, "staging-only", ["logs:write", "report:staging"])
    # When it sends 20 identical production errors
    reply = invoke("log/ingest_batch", engine=staging, body=_errors(project, 20))
    assert reply.status == 202 and reply.body["accepted"] == 20
    # Then they are stored and shown, and counted for the error groups
    logs = invoke("log/logs", engine=reader, query={"project_id": project, "limit": "100"}).body["logs"]
    assert len(logs) == 20 and "entitled" not in logs[0]
    groups = invoke("log/errors", engine=reader, query={"project_id": project}).body["errors"]
    assert groups[0]["count"] == 20
    # ... but no per-version or per-environment counter moved, and the flood is not critical
    assert not [sk for sk in _aggregates(aws, project) if sk.startswith(("V#", "R#"))]
    alerts = invoke("log/alerts", engine=reader, query={"project_id": project}).body["alerts"]
    assert [a["severity"] for a in alerts] == ["high"]


def test_events_of_an_entitled_engine_count_per_reporter(aws, project, admin, invoke):
    entitled = _register(invoke, admin, "prod", ["logs:write", "report:production"])
    assert invoke("log/ingest_batch", engine=entitled, body=_errors(project, 3)).status == 202
    keys = _aggregates(aws, project)
    assert [k for k in keys if k.startswith("V#")] == [k for k in keys if k.startswith("V#v1.1.0#production#")]
    assert any(k.endswith(f"#{entitled[0]}") for k in keys if k.startswith("V#"))
    assert any(k.startswith("R#production#") for k in keys)


def _varied(project: str, n: int, start: int = 0) -> dict:
    """Errors that each get their own fingerprint (three-letter words survive normalisation) and page."""
    words = [f"{chr(97 + i // 676)}{chr(97 + i // 26 % 26)}{chr(97 + i % 26)}" for i in range(start, start + n)]
    event = {"project_id": project, "engine": "execution", "platform": "slack", "status": "error",
             "error_type": "auth_failed"}  # fmt: skip
    return {"events": [{**event, "message": f"auth rejected for tenant {w}"} for w in words]}


def test_varied_errors_raise_at_most_the_cap_and_one_storm_alert(
    aws, project, writer, reader, slack, invoke, monkeypatch
):
    # 30 fingerprints, not 500: on a loaded machine moto can take more than the client's 5 s timeout
    # for a counter transaction of 100 distinct fingerprints, and then no alert is evaluated at all.
    # 500 in one request: tests/unit/monitoring/test_alert_storms.py (the same code on the fake store).
    at = clock.now()
    monkeypatch.setattr(clock, "now", lambda: at)  # both storms within one minute's budget
    # When one request carries 30 errors, each with its own text
    assert invoke("log/ingest_batch", engine=writer, body=_varied(project, 30)).status == 202
    # Then at most the engine's cap (10) of alerts and notifications, plus one alert_storm
    alerts = invoke("log/alerts", engine=reader, query={"project_id": project, "limit": "100"}).body["alerts"]
    assert len(alerts) == 11 and len(slack.received) == 11
    storm = [a for a in alerts if a["event_type"] == "alert_storm"]
    assert len(storm) == 1 and storm[0]["details"]["held_back"] == 20
    assert len(storm[0]["details"]["sample_fingerprints"]) == 5
    # When another storm follows within the minute
    assert invoke("log/ingest_batch", engine=writer, body=_varied(project, 20, start=30)).status == 202
    # Then the storm alert is updated, not raised again, and nothing more is sent
    alerts = invoke("log/alerts", engine=reader, query={"project_id": project, "limit": "100"}).body["alerts"]
    assert len(alerts) == 11 and len(slack.received) == 11
    storm = [a for a in alerts if a["event_type"] == "alert_storm"]
    assert storm[0]["details"]["held_back"] == 40 and storm[0]["details"]["last_reporter"] == writer[0]
