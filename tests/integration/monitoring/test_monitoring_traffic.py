"""What engines really send: optional event_type, action_type, first-class ids, unknown fields kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def _now(seconds_ago: int = 0) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_seed_error_event_without_event_type_is_stored_as_an_error(aws, project, writer, reader, invoke):
    # Given the seed's own error example, which carries no event_type
    event = {
        "project_id": project,
        "flow_id": "lead_submit",
        "engine": "execution",
        "status": "error",
        "error_type": "api_timeout",
        "platform": "Notion",
        "duration_ms": 4232,
        "timestamp": _now(60),
    }
    # When
    reply = invoke("log/ingest", engine=writer, body=event)
    # Then
    assert reply.status == 202, reply.body
    assert reply.body == {"accepted": 1, "rejected": []}
    logs = invoke("log/logs", engine=reader, query={"project_id": project}).body["logs"]
    assert logs[0]["type"] == logs[0]["event_type"] == "error"
    errors = invoke("log/errors", engine=reader, query={"project_id": project}).body
    assert errors["total"] == 1 and errors["errors"][0]["platform"] == "Notion"


def test_event_type_defaults_from_status(aws, project, writer, reader, invoke):
    events = [
        {"project_id": project, "status": "success", "event_id": "a", "timestamp": _now(3)},
        {"project_id": project, "event_id": "b", "timestamp": _now(2)},
        {"project_id": project, "status": "FAILED", "event_id": "c", "timestamp": _now(1)},
    ]
    assert invoke("log/ingest", engine=writer, body={"events": events}).body["accepted"] == 3
    logs = invoke("log/logs", engine=reader, query={"project_id": project}).body["logs"]
    assert {e["event_id"]: e["type"] for e in logs} == {"a": "action", "b": "event", "c": "error"}


def test_action_type_is_a_synonym_of_action_and_comes_back_as_action(aws, project, writer, reader, invoke):
    # When
    ok = invoke("log/ingest", engine=writer, body={"project_id": project, "action_type": "send_message"})
    clash = invoke("log/ingest", engine=writer, body={"project_id": project, "action": "a", "action_type": "b"})
    # Then
    assert ok.status == 202, ok.body
    assert clash.status == 422 and "action_type" in clash.body["error"]["details"][0]["message"]
    logs = invoke("log/logs", engine=reader, query={"project_id": project}).body["logs"]
    assert logs[0]["action"] == "send_message" and "action_type" not in logs[0]
    stats = invoke("log/stats", engine=reader, query={"project_id": project}).body["stats"]
    assert stats[0]["action"] == "send_message"


def test_first_class_ids_are_filterable_and_unknown_fields_kept_as_attributes(aws, project, writer, reader, invoke):
    base = {"project_id": project, "engine": "execution", "platform": "slack", "status": "success"}
    events = [
        {**base, "event_id": "u1-1", "user_id": "u1", "session_id": "s1", "environment": "production",
         "version": "1.4.2", "request_id": "req-1", "tenant": "acme", "plan": {"tier": "pro"}, "timestamp": _now(30)},
        {**base, "event_id": "u1-2", "user_id": "u1", "session_id": "s2", "environment": "staging",
         "version": "1.5.0", "timestamp": _now(20)},
        {**base, "event_id": "u2-1", "user_id": "u2", "session_id": "s1", "environment": "production",
         "version": "1.4.2", "timestamp": _now(10)},
    ]  # fmt: skip
    assert invoke("log/ingest", engine=writer, body={"events": events}).body == {"accepted": 3, "rejected": []}

    def ids(**query: str) -> list[str]:
        reply = invoke("log/logs", engine=reader, query={"project_id": project, **query})
        assert reply.status == 200, reply.body
        return [e["event_id"] for e in reply.body["logs"]]

    assert ids(user_id="u1") == ["u1-2", "u1-1"]
    assert ids(session_id="s1") == ["u2-1", "u1-1"]
    assert ids(user_id="u1", session_id="s1") == ["u1-1"]
    assert ids(environment="production", version="1.4.2") == ["u2-1", "u1-1"]
    assert ids(request_id="req-1") == ["u1-1"]
    first = [e for e in invoke("log/logs", engine=reader, query={"project_id": project}).body["logs"]
             if e["event_id"] == "u1-1"][0]  # fmt: skip
    assert first["attributes"] == {"tenant": "acme", "plan": {"tier": "pro"}}
    assert first["user_id"] == "u1" and first["environment"] == "production" and first["version"] == "1.4.2"


def test_attributes_over_bounds_reject_that_event_only(aws, project, writer, invoke):
    many = {f"field_{i}": i for i in range(33)}
    events = [
        {"project_id": project, "event_id": "ok"},
        {"project_id": project, "event_id": "many", **many},
        {"project_id": project, "event_id": "big", "blob": "x" * 9000},
    ]
    reply = invoke("log/ingest", engine=writer, body={"events": events})
    assert reply.status == 202
    assert reply.body["accepted"] == 1
    assert [(r["index"], "attributes" in r["error"]) for r in reply.body["rejected"]] == [(1, True), (2, True)]


def test_audit_builds_one_users_trail_and_one_sessions_replay(aws, project, writer, reader, invoke):
    events = [
        {"project_id": project, "event_id": f"e{i}", "user_id": user, "session_id": session, "timestamp": _now(50 - i)}
        for i, (user, session) in enumerate([("u1", "s1"), ("u2", "s9"), ("u1", "s1"), ("u1", "s2")])
    ]
    invoke("log/ingest", engine=writer, body={"events": events})
    # When
    trail = invoke("log/audit", engine=reader, query={"project_id": project, "user_id": "u1"}).body
    replay = invoke("log/audit", engine=reader, query={"project_id": project, "session_id": "s1"}).body
    both = invoke("log/audit", engine=reader, query={"project_id": project, "user_id": "u1", "session_id": "s1"})
    # Then: oldest first
    assert [e["event_id"] for e in trail["timeline"]] == ["e0", "e2", "e3"]
    assert [e["event_id"] for e in replay["timeline"]] == ["e0", "e2"]
    assert both.status == 422


def test_platform_and_engine_filters_ignore_case(aws, project, writer, reader, invoke):
    events = [
        {"project_id": project, "event_id": "a", "platform": "slack", "engine": "Execution", "status": "error",
         "error_type": "api_timeout", "message": "timed out", "timestamp": _now(2)},
        {"project_id": project, "event_id": "b", "platform": "Slack", "engine": "execution", "timestamp": _now(1)},
        {"project_id": project, "event_id": "c", "platform": "gmail", "timestamp": _now(0)},
    ]  # fmt: skip
    invoke("log/ingest", engine=writer, body={"events": events})
    logs = invoke("log/logs", engine=reader, query={"project_id": project, "platform": "SLACK"}).body["logs"]
    assert [e["event_id"] for e in logs] == ["b", "a"]
    logs = invoke("log/logs", engine=reader, query={"project_id": project, "engine": "EXECUTION"}).body["logs"]
    assert [e["event_id"] for e in logs] == ["b", "a"]
    errors = invoke("log/errors", engine=reader, query={"project_id": project, "platform": "Slack"}).body
    assert errors["total"] == 1


def test_messages_differing_in_request_ids_are_one_error_group(aws, project, writer, reader, invoke):
    messages = [
        "Slack API timed out after 3000 ms (request 8f1c2a)",
        "Slack API timed out after 3000 ms (request 99aa11)",
        "Slack API timed out after 3000 ms (request 0b7e4d2f-6c1a-4e0b-9a6f-2d3c4b5a6e7f)",
        "Slack API timed out for ops@example.com at https://slack.com/api/chat.postMessage?channel=C1&ts=12",
        "Slack API timed out for dev@example.org at https://slack.com/api/chat.postMessage?channel=C9",
    ]
    events = [
        {"project_id": project, "event_id": f"m{i}", "platform": "slack", "status": "error",
         "error_type": "api_timeout", "message": message}
        for i, message in enumerate(messages)
    ]  # fmt: skip
    invoke("log/ingest", engine=writer, body={"events": events})
    groups = invoke("log/errors", engine=reader, query={"project_id": project}).body["errors"]
    assert sorted(g["count"] for g in groups) == [2, 3]
