"""GET /monitoring/overview: the console's charts from stored counters (real handler, boto3 on moto)."""

from __future__ import annotations

import time

import pytest

from puraify import clock
from puraify.monitoring.overview import minute_key


def _put_minute(aws, at: float, **counts: int) -> None:
    """A per-minute check counter item as the check path writes it (pk CHECKS, sk MIN#...)."""
    item = {"pk": {"S": "CHECKS"}, "sk": {"S": minute_key(at)}, "expires_at": {"N": str(int(at + 86400))}}
    item.update({name: {"N": str(value)} for name, value in counts.items()})
    aws.client("dynamodb").put_item(TableName=aws.name("AggregatesTable"), Item=item)


def test_overview_charts_check_counters_and_a_projects_errors(aws, project, writer, reader, invoke):
    now = time.time()
    _put_minute(aws, now - 120, allowed=7, denied=3, failed=1, **{"deny#not_granted": 2, "deny#flag_disabled": 1})
    _put_minute(aws, now - 60, allowed=2)
    error = {"project_id": project, "event_type": "execution", "engine": "ex", "platform": "gmail", "status": "error"}
    errors = [
        {**error, "error_type": "quota_exceeded", "message": f"quota hit for user {i}", "event_id": f"q{i}"}
        for i in range(4)
    ]
    assert invoke("log/ingest", engine=writer, body={"events": errors}).status == 202

    reply = invoke("log/overview", engine=reader, query={"project_id": project, "since": clock.iso(now - 600)})

    assert reply.status == 200, reply.body
    checks = reply.body["checks"]
    assert checks["totals"] == {"allowed": 9, "denied": 3, "failed": 1}
    assert checks["top_deny_rules"] == [{"rule": "not_granted", "count": 2}, {"rule": "flag_disabled", "count": 1}]
    assert checks["step_seconds"] == 60 and len(checks["t"]) == len(checks["allowed"]) <= 12
    group = reply.body["project"]["error_groups"][0]
    assert group["error_type"] == "quota_exceeded" and group["count"] == 4 and sum(group["trend"]) == 4
    assert reply.body["project"]["totals"] == {"events": 4, "errors": 4}


def test_an_engine_granted_some_projects_sees_their_series_but_not_every_projects_checks(
    aws, project, writer, admin, invoke
):
    _put_minute(aws, time.time() - 60, allowed=5)
    event = {"project_id": project, "engine": "ex", "status": "error", "error_type": "x", "event_id": "e1"}
    assert invoke("log/ingest", engine=writer, body={"events": [event]}).status == 202
    scoped = f"scoped-{project}"
    registered = invoke(
        "register/register",
        engine=admin,
        body={"engine_id": scoped, "scopes": ["logs:read"], "projects": [project]},
    )
    engine = (scoped, registered.body["engine_key"])

    reply = invoke("log/overview", engine=engine, query={"project_id": project})

    assert reply.status == 200, reply.body
    assert reply.body["checks"] is None  # the check counters are every project's
    assert reply.body["project"]["totals"]["errors"] == 1
    missing = invoke("log/overview", engine=engine, query={})  # not "not granted project 'None'"
    assert missing.status == 422, missing.body
    assert missing.body["error"]["details"][0]["field"] == "query.project_id"
    assert "None" not in missing.body["error"]["message"] + str(missing.body["error"]["details"])


def test_overview_needs_logs_read_and_bounds_the_range(aws, project, writer, reader, invoke):
    assert invoke("log/overview", engine=writer, query={"project_id": project}).status == 403
    too_long = invoke("log/overview", engine=reader, query={"since": str(int(time.time()) - 3 * 86400)})
    assert too_long.status == 422
    assert "24 hours" in str(too_long.body["error"]["details"])


def test_overview_of_the_last_24_hours_as_the_console_sends_it_is_answered(aws, project, reader, invoke):
    # The console computes since = now - 24 h; the request reaches the server a moment later.
    sent = time.time() - 24 * 3600
    time.sleep(0.05)
    reply = invoke("log/overview", engine=reader, query={"project_id": project, "since": clock.iso(sent)})
    assert reply.status == 200, reply.body
    span = clock.parse_iso(reply.body["until"]) - clock.parse_iso(reply.body["since"])
    assert span == pytest.approx(24 * 3600, abs=1)  # clamped to the last 24 hours, not refused


@pytest.mark.parametrize(("since", "hours"), [("1h", 1), ("24h", 24), ("90m", 1.5)])
def test_overview_takes_relative_ranges(aws, project, reader, invoke, since, hours):
    reply = invoke("log/overview", engine=reader, query={"project_id": project, "since": since})
    assert reply.status == 200, reply.body
    span = clock.parse_iso(reply.body["until"]) - clock.parse_iso(reply.body["since"])
    assert span == pytest.approx(hours * 3600, abs=2)


def test_overview_refuses_a_week_and_says_what_a_time_may_be(aws, project, reader, invoke):
    week = invoke("log/overview", engine=reader, query={"project_id": project, "since": "7d"})
    assert week.status == 422 and "24 hours" in str(week.body["error"]["details"])
    bad = invoke("log/overview", engine=reader, query={"project_id": project, "since": "yesterday"})
    assert bad.status == 422 and "24h" in str(bad.body["error"]["details"])
