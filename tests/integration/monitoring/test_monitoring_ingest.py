"""POST /monitoring/logs through the real handler, real boto3 against the embedded endpoint."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from local.template import Template


def _event(project: str, i: int = 0, **overrides):
    body = {
        "project_id": project,
        "flow_id": "lead_submit",
        "event_type": "execution",
        "engine": "execution",
        "platform": "Slack",
        "action": "send_message",
        "status": "success",
        "duration_ms": 800 + i,
        "retries": 0,
        "timestamp": (datetime.now(UTC) - timedelta(seconds=600 - i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    body.update(overrides)
    return body


def _stored(aws, project: str) -> list[dict]:
    """Every event item in the events table (test inspection only; the service never scans)."""
    items = aws.client("dynamodb").scan(TableName=aws.name("EventsTable"))["Items"]
    return [i for i in items if i["pk"]["S"].startswith(f"EV#{project}#")]


def test_single_event_is_accepted_and_readable(aws, project, sample, writer, reader, invoke):
    # When
    reply = invoke("log/ingest", engine=writer, body=sample("ingest"))
    # Then
    assert reply.status == 202, reply.body
    assert reply.body == {"accepted": 1, "rejected": []}
    logs = invoke("log/logs", engine=reader, query={"project_id": project}).body["logs"]
    assert [e["event_id"] for e in logs] == ["evt-0001"]
    assert logs[0]["platform"] == "Slack" and logs[0]["duration_ms"] == 842
    assert logs[0]["reported_by"] == writer[0]
    assert logs[0]["expires_at"] > datetime.now(UTC).timestamp() + 29 * 86400


def test_batch_with_one_bad_event_keeps_the_others(aws, project, writer, reader, invoke):
    events = [_event(project, i) for i in range(5)]
    events[1] = {**events[1], "duration_ms": -5}
    events[2] = {**events[2], "duration_ms": 1e-300}  # DynamoDB stores no number this small
    events[3] = {**events[3], "message": "\ud800 lone surrogate"}
    events[4] = {**events[4], "surprise": {"nested": [1e200]}}
    # When
    reply = invoke("log/ingest", engine=writer, body={"events": events})
    # Then
    assert reply.status == 202, reply.body
    assert reply.body["accepted"] == 1
    assert [r["index"] for r in reply.body["rejected"]] == [1, 2, 3, 4]
    errors = [r["error"] for r in reply.body["rejected"]]
    assert "duration_ms" in errors[0] and "1e-130" in errors[1] and "Unicode" in errors[2]
    assert "attributes" in errors[3]
    assert len(_stored(aws, project)) == 1


def test_retried_events_with_event_id_are_stored_and_counted_once(aws, project, writer, reader, invoke):
    events = [
        _event(project, i, event_id=f"e-{i}", status="error", error_type="api_timeout", message="timed out")
        for i in range(3)
    ]
    # When the engine sends the batch twice (and one event twice within it)
    first = invoke("log/ingest", engine=writer, body={"events": events + [events[0]]})
    second = invoke("log/ingest", engine=writer, body={"events": events})
    # Then
    assert first.status == second.status == 202
    assert len(_stored(aws, project)) == 3
    groups = invoke("log/errors", engine=reader, query={"project_id": project}).body["errors"]
    assert [g["count"] for g in groups] == [3]


def test_single_invalid_event_is_422_with_fields_and_writes_nothing(aws, project, writer, invoke):
    reply = invoke("log/ingest", engine=writer, body={"event_type": "execution", "retries": "many"})
    assert reply.status == 422
    fields = {d["field"] for d in reply.body["error"]["details"]}
    assert {"body.project_id", "body.retries"} <= fields
    assert "Traceback" not in json.dumps(reply.body)
    assert _stored(aws, project) == []


def test_future_timestamp_is_rejected(aws, project, writer, invoke):
    late = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    reply = invoke(
        "log/ingest",
        engine=writer,
        body={
            "events": [
                _event(
                    project,
                ),
                _event(project, timestamp=late),
            ]
        },
    )
    assert reply.body["accepted"] == 1 and reply.body["rejected"][0]["index"] == 1


def test_more_than_500_events_is_413_and_writes_nothing(aws, project, writer, invoke):
    reply = invoke("log/ingest", engine=writer, body={"events": [_event(project, i % 500) for i in range(501)]})
    assert reply.status == 413
    assert reply.body["error"]["code"] == "too_many_events"
    assert _stored(aws, project) == []


def test_oversized_body_is_413(aws, project, writer, invoke):
    reply = invoke("log/ingest", engine=writer, body={"events": [_event(project, message="x" * 4000)] * 300})
    assert reply.status == 413
    assert reply.body["error"]["code"] == "payload_too_large"


def test_malformed_json_is_400_and_wrong_shape_is_422(aws, project, writer, invoke):
    assert invoke("log/ingest", engine=writer, body="{nope").status == 400
    assert invoke("log/ingest", engine=writer, body=json.dumps([1, 2])).status == 422
    reply = invoke("log/ingest", engine=writer, body={"events": [], "more": 1})
    assert reply.status == 422 and reply.body["error"]["details"][0]["field"] == "body.more"


def test_writing_needs_a_registered_engine(aws, project, invoke):
    reply = invoke("log/ingest", engine=("ghost", "pfk_not-a-real-key"))
    assert reply.status == 401


def test_reading_needs_logs_read_scope(aws, project, writer, reader, admin, invoke):
    for route in ("log/logs", "log/errors", "log/stats", "log/audit"):
        assert invoke(route, engine=writer).status == 403, route
        assert invoke(route, engine=reader).status == 200, route
        assert invoke(route, engine=admin).status == 200, route


def test_engine_event_route_keeps_its_contract(aws, project, writer, invoke):
    reply = invoke("log/engine_event", engine=writer)
    assert reply.status == 202 and reply.body["event_id"]


def test_busy_project_spreads_over_shards(aws, project, writer, invoke):
    invoke("log/ingest", engine=writer, body={"events": [_event(project, i) for i in range(200)]})
    partitions = {i["pk"]["S"] for i in _stored(aws, project)}
    shards = int(Template().parameters["EventShards"])
    assert partitions == {f"EV#{project}#{n}" for n in range(shards)}


def test_store_outage_is_503_without_internals(aws, project, writer, reader, invoke, monkeypatch):
    from puraify import wiring

    # Given the events table is unreachable (a name that does not exist)
    monkeypatch.setenv("EVENTS_TABLE", "missing-events-table")
    wiring.reset()
    try:
        reply = invoke("log/ingest", engine=writer, body={"events": [_event(project, 1)]})
        read = invoke("log/logs", engine=reader, query={"project_id": project})
    finally:
        monkeypatch.undo()
        wiring.reset()
    # Then
    assert reply.status == 503 and read.status == 503
    assert reply.body["error"]["code"] == "store_unavailable"
    assert "missing-events-table" not in json.dumps(reply.body) and "Traceback" not in json.dumps(reply.body)


def test_details_round_trip_and_unstorable_values_reject_only_their_event(aws, project, writer, reader, invoke):
    details = {"http_status": 504, "latency": 1.25, "tags": ["a", {"b": None}], "note": ""}
    nan = {"project_id": project, "event_type": "x", "duration_ms": float("nan")}
    body = json.dumps({"events": [_event(project, 1, details=details, event_id="keep"), nan]})  # NaN literal
    reply = invoke("log/ingest", engine=writer, body=body)
    assert reply.status == 202 and reply.body["accepted"] == 1
    assert [r["index"] for r in reply.body["rejected"]] == [1]
    (stored,) = invoke("log/logs", engine=reader, query={"project_id": project}).body["logs"]
    assert stored["details"] == {"http_status": 504, "latency": 1.25, "tags": ["a", {}], "note": ""}
