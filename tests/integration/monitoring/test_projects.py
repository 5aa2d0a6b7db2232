"""GET /monitoring/projects: the project picker's list, read from project marks (real handlers, boto3 on moto).

A project is marked when its events are ingested or its first environment is made; the list is a Query
of the marks, in id order, one page at a time, and an engine not granted ``*`` sees only its own.
"""

from __future__ import annotations

from puraify.store.project_marks import PARTITION

LATEST = "2026-12-07"  # the list envelope: {items, next_cursor}


def _ingest(invoke, writer, *projects: str) -> None:
    events = [{"project_id": p, "event_type": "action", "status": "ok"} for p in projects]
    reply = invoke("log/ingest", engine=writer, body={"events": events})
    assert reply.status == 202 and reply.body["accepted"] == len(events), reply.body


def _publish(invoke, admin, project: str) -> None:
    body = {"project_id": project, "environment": "development", "state": {"entities": ["User"]}}
    reply = invoke("env/publish", engine=admin, body=body)
    assert reply.status == 201, reply.body


def _list(invoke, engine, **query: str):
    return invoke("log/projects", engine=engine, query=query, version=LATEST)


def _marks(aws, table: str, project: str) -> list[dict]:
    found = aws.client("dynamodb").query(
        TableName=aws.name(table),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues={":pk": {"S": PARTITION}, ":p": {"S": project}},
    )
    return found["Items"]


def test_projects_with_events_or_environments_are_listed_in_id_order_with_what_they_have(
    aws, project, writer, reader, admin, invoke
):
    # Given two projects with events (one of them twice) and a third with only an environment
    _ingest(invoke, writer, f"{project}-b", f"{project}-a")
    _ingest(invoke, writer, f"{project}-a")
    _publish(invoke, admin, f"{project}-c")
    # When an engine granted every project lists those starting with the test's prefix
    reply = _list(invoke, reader, q=project)
    # Then each is there once, in id order, with what it has
    assert reply.status == 200, reply.body
    assert reply.body["items"] == [
        {"project_id": f"{project}-a", "events": True, "environments": False},
        {"project_id": f"{project}-b", "events": True, "environments": False},
        {"project_id": f"{project}-c", "events": False, "environments": True},
    ]
    assert reply.body["next_cursor"] is None


def test_each_project_is_one_mark_written_once_per_instance(aws, project, writer, admin, invoke):
    _ingest(invoke, writer, project)
    first = _marks(aws, "AggregatesTable", project)
    _ingest(invoke, writer, project)
    _ingest(invoke, writer, project)
    again = _marks(aws, "AggregatesTable", project)
    assert len(first) == 1 and again == first  # the same item, not rewritten (its marked_at is unchanged)
    _publish(invoke, admin, project)
    assert [m["sk"]["S"] for m in _marks(aws, "EnvironmentsTable", project)] == [project]


def test_pages_follow_the_cursor_across_both_registries(aws, project, writer, reader, admin, invoke):
    names = [f"{project}-{n}" for n in ("a", "b", "c", "d", "e")]
    _ingest(invoke, writer, names[0], names[2], names[4])
    _publish(invoke, admin, names[1])
    _publish(invoke, admin, names[3])
    _ingest(invoke, writer, names[3])
    seen, cursor, pages = [], None, 0
    while True:
        reply = _list(invoke, reader, q=project, limit="2", **({"cursor": cursor} if cursor else {}))
        assert reply.status == 200, reply.body
        assert len(reply.body["items"]) <= 2
        seen += [p["project_id"] for p in reply.body["items"]]
        cursor, pages = reply.body["next_cursor"], pages + 1
        if cursor is None:
            break
    assert seen == names and pages == 3
    # A cursor from another search: nothing after it, or the search from its start
    assert _list(invoke, reader, q=project, cursor=f"{project}-zzz").body["items"] == []
    assert len(_list(invoke, reader, q=project, cursor="0").body["items"]) == 5


def test_an_engine_granted_some_projects_sees_only_those_that_have_events_or_environments(
    aws, project, writer, admin, invoke
):
    _ingest(invoke, writer, f"{project}-mine", f"{project}-other")
    registered = invoke(
        "register/register",
        engine=admin,
        body={
            "engine_id": f"picker-{project}"[:64],
            "scopes": ["logs:read"],
            "projects": [f"{project}-mine", f"{project}-empty"],
        },
    )
    assert registered.status == 201, registered.body
    scoped = (registered.body["engine_id"], registered.body["engine_key"])
    reply = _list(invoke, scoped)
    assert reply.status == 200, reply.body
    assert reply.body["items"] == [{"project_id": f"{project}-mine", "events": True, "environments": False}]


def test_bad_search_or_limit_is_a_field_level_422(aws, reader, invoke):
    for query, field in (
        ({"q": "a b"}, "query.q"),
        ({"limit": "101"}, "query.limit"),
        ({"cursor": "a/b"}, "query.cursor"),
    ):
        reply = _list(invoke, reader, **query)
        assert reply.status == 422, (query, reply.body)
        assert [d["field"] for d in reply.body["error"]["details"]] == [field]


def test_without_logs_read_the_list_is_403(aws, writer, invoke):
    reply = _list(invoke, writer)
    assert reply.status == 403 and reply.body["error"]["code"] == "missing_scope"


def test_projects_written_before_marks_existed_are_listed_after_the_schedules_backfill(
    aws, project, reader, admin, invoke
):
    from puraify import wiring

    # Given a project with an environment and another with events, both stored without a mark (an older stack)
    dynamodb = aws.client("dynamodb")
    dynamodb.put_item(
        TableName=aws.name("EnvironmentsTable"), Item={"pk": {"S": f"PROJECT#{project}-env"}, "sk": {"S": "PROJECT"}}
    )
    dynamodb.put_item(
        TableName=aws.name("AggregatesTable"),
        Item={"pk": {"S": f"AG#{project}-ev"}, "sk": {"S": "T#2026-12-01T10:00"}, "events": {"N": "3"}},
    )
    assert _list(invoke, reader, q=project).body["items"] == []
    # When the monitoring schedule runs its passes
    passes = [wiring.current().monitoring.scheduled()["projects_backfilled"] for _ in range(3)]
    # Then both are listed, with what they have, and the backfill is done after its one page per table
    assert passes[0] >= 2 and passes[1:] == [0, 0]  # with the ids the fixtures wrote
    assert _list(invoke, reader, q=project).body["items"] == [
        {"project_id": f"{project}-env", "events": False, "environments": True},
        {"project_id": f"{project}-ev", "events": True, "environments": False},
    ]
