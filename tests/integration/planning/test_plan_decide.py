"""POST /plan/decide and GET /plan/decisions: the real handler, real boto3 against the embedded endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from puraify.clock import iso, now


def test_decide_healthy_production_is_allowed_with_facts_policy_and_audit(aws, admin, system, gate, invoke):
    # When
    reply = invoke("plan/decide", engine=admin)
    # Then
    assert reply.status == 200, reply.body
    body = reply.body
    assert (body["allow"], body["outcome"], body["deny_reasons"], body["fail_safe"]) == (True, "allow", [], False)
    assert body["policy"] == {"revision": "gate-1", "sha256": gate.sha256}
    assert set(body["facts"]) == {
        "version_health",
        "open_critical_alerts",
        "platforms_in_maintenance",
        "change_freeze",
        "versions_behind",
    }
    assert all(f["age_seconds"] < 5 and not f["stale"] for f in body["facts"].values())
    assert 0 < body["eval_duration_ms"] < 50
    # and the decision is stored with what it used
    stored = aws.partition("PlanDecisionsTable", "DEPLOYMENT#pf-777#deployment-123")
    assert len(stored) == 1
    item = stored[0]
    assert item["decision_id"]["S"] == body["decision_id"]
    assert item["policy"]["M"]["sha256"]["S"] == gate.sha256
    assert item["config_revision"]["S"] == body["config_revision"]
    assert "version_health" in item["facts"]["M"]
    assert int(item["expires_at"]["N"]) > now() + 89 * 86400


def test_decide_error_rate_above_threshold_denies_with_the_reason(aws, admin, system, gate, invoke):
    system.error_rate = 0.075
    reply = invoke("plan/decide", engine=admin)
    assert reply.status == 200
    assert reply.body["allow"] is False
    assert reply.body["outcome"] == "deny"
    assert reply.body["deny_reasons"] == [
        "error rate of v1.5.0 in staging over the last 3600s is 7.5% over 200 events: above 5%"
    ]
    judged = reply.body["facts"]["version_health"]["value"]
    assert (judged["version"], judged["environment"], judged["window_seconds"]) == ("v1.5.0", "staging", 3600)
    assert reply.body["fail_safe"] is False
    assert system.alerts == []  # a policy denial is an answer, not an incident


def test_decide_sees_maintenance_and_change_freeze_set_through_the_api(aws, admin, system, gate, invoke):
    # Given: gmail in maintenance and a change freeze, set the way an operator does
    assert invoke("config/put_platform", engine=admin, path_params={"name": "gmail"},
                  body={"status": "maintenance", "api_version": "v1", "actions": {}}).status == 200  # fmt: skip
    assert invoke("config/put_flag", engine=admin, path_params={"name": "deployments"},
                  body={"enabled": False}).status == 200  # fmt: skip
    # When
    production = invoke("plan/decide", engine=admin)
    staging = invoke(
        "plan/decide", engine=admin, body={"deployment_id": "d-2", "environment": "staging", "project_id": "pf-777"}
    )
    # Then
    assert production.body["deny_reasons"] == [
        "change freeze is active for production",
        "platform gmail is in maintenance",
    ]
    assert staging.body["deny_reasons"] == ["platform gmail is in maintenance"]


def test_decide_without_a_published_policy_fails_safe_and_alerts(aws, admin, system, invoke):
    reply = invoke("plan/decide", engine=admin)
    assert reply.status == 200
    assert reply.body["allow"] is False
    assert reply.body["fail_safe"] is True
    assert "no valid policy bundle is active" in reply.body["deny_reasons"]
    assert reply.body["policy"] == {"revision": None, "sha256": None}
    assert [a["event_type"] for a in system.alerts] == ["plan_fail_safe"]
    assert system.alerts[0]["project_id"] == "pf-777"
    assert system.alerts[0]["severity"] == "high"


def test_decisions_list_a_fail_safe_decision_made_without_a_policy(aws, admin, system, invoke):
    # Given: a decision stored while no bundle was active
    made = invoke("plan/decide", engine=admin).body
    # When
    listed = invoke("plan/decisions", engine=admin, query={"deployment_id": made["deployment_id"]})
    # Then
    assert listed.status == 200
    assert [d["decision_id"] for d in listed.body["decisions"]] == [made["decision_id"]]
    assert listed.body["decisions"][0]["policy"] == {"revision": None, "sha256": None}


def test_decide_with_a_failing_provider_fails_safe_naming_the_fact(aws, admin, system, gate, invoke, monkeypatch):
    def broken(project_id):
        raise RuntimeError("alerts table unreachable")

    monkeypatch.setattr(system.monitoring, "open_critical_alerts", broken)
    reply = invoke("plan/decide", engine=admin)
    assert reply.body["allow"] is False
    assert reply.body["fail_safe"] is True
    reasons = reply.body["deny_reasons"]
    assert any(r.startswith("fact open_critical_alerts is unavailable") and "alerts table unreachable" in r
               for r in reasons), reasons  # fmt: skip
    assert reply.body["facts"]["open_critical_alerts"]["stale"] is True
    assert system.alerts and system.alerts[0]["event_type"] == "plan_fail_safe"


def test_decide_in_pause_mode_answers_pause_never_allow(aws, admin, system, invoke, monkeypatch):
    from puraify import wiring

    monkeypatch.setenv("PURAIFY_PLAN_FAIL_SAFE_MODE", "pause")
    wiring.reset()
    reply = invoke("plan/decide", engine=admin)
    assert (reply.body["allow"], reply.body["outcome"], reply.body["fail_safe"]) == (False, "pause", True)


def _store_snapshot(service, age: float, **values) -> None:
    """Store a snapshot of the global facts as if collected ``age`` seconds ago, with some values replaced."""
    from puraify.planning.facts import FactContext, collect

    facts = collect([p for p in service.providers if p.scope == "global"], FactContext(), 5)
    at = now() - age
    for fact_id, fact in facts.items():
        facts[fact_id] = fact.model_copy(update={"timestamp": at, "value": values.get(fact_id, fact.value)})
    snapshot = {"scope": "global", "collected_at": at, "facts": {k: f.model_dump() for k, f in facts.items()}}
    service.facts.put_snapshot({**snapshot, "collected_iso": iso(at), "expires_at": int(now() + 3600)})


def test_decide_recollects_a_stale_snapshot_and_uses_a_fresh_one(aws, admin, system, gate, invoke):
    from puraify import wiring

    service = wiring.current().planning
    # Given: a snapshot collected 60 s ago (limit 45 s) says gmail is in maintenance; the catalog says not
    _store_snapshot(service, 60, platforms_in_maintenance=["gmail"])
    # Then: the decision collects the catalog facts itself instead of using stale ones
    live = invoke("plan/decide", engine=admin)
    assert live.body["allow"] is True, live.body
    assert live.body["facts"]["platforms_in_maintenance"]["age_seconds"] < 5
    # Given: a snapshot collected 10 s ago with the same claim
    _store_snapshot(service, 10, platforms_in_maintenance=["gmail"])
    # Then: fresh enough, so the decision uses it as stored
    fresh = invoke("plan/decide", engine=admin)
    assert fresh.body["deny_reasons"] == ["platform gmail is in maintenance"]
    assert 10 <= fresh.body["facts"]["platforms_in_maintenance"]["age_seconds"] < 15


def test_decisions_are_listed_newest_first_by_deployment_and_project(aws, admin, system, gate, invoke):
    first = invoke("plan/decide", engine=admin).body
    system.error_rate = 0.5
    second = invoke("plan/decide", engine=admin).body
    other = invoke(
        "plan/decide", engine=admin, body={"deployment_id": "d-9", "environment": "staging", "project_id": "pf-777"}
    ).body
    by_deployment = invoke("plan/decisions", engine=admin, query={"deployment_id": "deployment-123"})
    assert by_deployment.status == 200
    assert [d["decision_id"] for d in by_deployment.body["decisions"]] == [second["decision_id"], first["decision_id"]]
    assert by_deployment.body["decisions"][0]["deny_reasons"] == [
        "error rate of v1.5.0 in staging over the last 3600s is 50% over 200 events: above 5%"
    ]
    by_project = invoke("plan/decisions", engine=admin, query={"project_id": "pf-777"})
    assert [d["decision_id"] for d in by_project.body["decisions"]] == [
        other["decision_id"],
        second["decision_id"],
        first["decision_id"],
    ]
    since = invoke("plan/decisions", engine=admin, query={"project_id": "pf-777", "since": other["evaluated_at"]})
    assert [d["decision_id"] for d in since.body["decisions"]] == [other["decision_id"]]
    assert invoke("plan/decisions", engine=admin, query={"project_id": "nobody"}).body == {
        "decisions": [],
        "next_cursor": None,
    }


def test_a_decision_is_found_by_its_id_or_request_id_among_the_projects(aws, admin, system, gate, invoke, monkeypatch):
    """The console's link from a decision id or a request id to its record: the project's decisions read
    newest first a page at a time (one decision a page here, so the look-up pages), filtered by the id."""
    from puraify.planning import decision_log

    monkeypatch.setattr(decision_log, "FIND_PAGE", 1)
    made = [invoke("plan/decide", engine=admin).body for _ in range(3)]
    oldest = made[0]["decision_id"]
    found = invoke("plan/decisions", engine=admin, query={"project_id": "pf-777", "decision_id": oldest})
    assert found.status == 200 and [d["decision_id"] for d in found.body["decisions"]] == [oldest]
    assert found.body["next_cursor"] is None
    missing = invoke("plan/decisions", engine=admin, query={"project_id": "pf-777", "decision_id": "nope"})
    assert missing.body["decisions"] == []
    elsewhere = invoke("plan/decisions", engine=admin, query={"project_id": "pf-other", "decision_id": oldest})
    assert elsewhere.body["decisions"] == []  # another project's look-up never finds it
    # Every sample call carries the sample event's request id: all three are that request's
    sample = json.loads(Path("events/plan/decide.json").read_text())["requestContext"]["requestId"]
    by_request = invoke("plan/decisions", engine=admin, query={"project_id": "pf-777", "request_id": sample})
    assert [d["decision_id"] for d in by_request.body["decisions"]] == [d["decision_id"] for d in reversed(made)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "query.deployment_id"),
        ({"project_id": "a b"}, "query.project_id"),
        ({"project_id": "p", "since": "soon"}, "query.since"),
        ({"project_id": "p", "limit": "0"}, "query.limit"),
    ],  # fmt: skip
)
def test_decisions_bad_query_is_422_with_the_field(aws, admin, invoke, query, field):
    reply = invoke("plan/decisions", engine=admin, query=query)
    assert reply.status == 422, reply.body
    assert field in [d["field"] for d in reply.body["error"]["details"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"environment": "production", "project_id": "pf-777"}, "body.deployment_id"),
        ({"deployment_id": "d", "environment": "production", "project_id": "pf-777", "force": True}, "body.force"),
        ({"deployment_id": "d/../x", "environment": "production", "project_id": "pf-777"}, "body.deployment_id"),
        ({"deployment_id": "d", "environment": "Prod!", "project_id": "pf-777"}, "body.environment"),
    ],
)
def test_decide_invalid_body_is_422_and_nothing_is_stored(aws, admin, invoke, body, field):
    reply = invoke("plan/decide", engine=admin, body=body)
    assert reply.status == 422
    assert field in [d["field"] for d in reply.body["error"]["details"]]
    assert "Traceback" not in json.dumps(reply.body)
    items = aws.client("dynamodb").scan(TableName=aws.name("PlanDecisionsTable"))["Items"]
    assert items == []


def test_decide_oversized_body_is_413(aws, admin, invoke):
    body = {"deployment_id": "d", "environment": "production", "project_id": "pf-777", "version": "x" * 300_000}
    assert invoke("plan/decide", engine=admin, body=body).status == 413


def test_scopes_decide_needs_plan_decide_and_reads_need_plan_read(aws, system, gate, engine, invoke):
    reader = engine("ci-reader", ["plan:read"])
    decider = engine("ci-deployer", ["plan:decide"])
    assert invoke("plan/decide", engine=reader).status == 403
    assert invoke("plan/decide", engine=decider).status == 200
    for event in ("plan/decisions", "plan/facts", "plan/policy"):
        assert invoke(event, engine=decider).status == 403, event
        assert invoke(event, engine=reader).status == 200, event
    assert invoke("plan/publish_policy", engine=reader).status == 403


def test_decision_store_failure_is_503_not_an_answer(aws, admin, system, gate, invoke):
    from puraify import wiring

    wiring.current().planning.decisions.table = "no-such-table"
    reply = invoke("plan/decide", engine=admin)
    assert reply.status == 503
    assert reply.body["error"]["code"] == "store_unavailable"


def test_decide_promotion_runs_a_stored_decision_for_the_environment_manager(aws, system, gate):
    from puraify import wiring
    from puraify.planning.gate import DeploymentGate

    system.versions_behind = 8
    verdict = DeploymentGate(wiring.current().planning).promotion(
        project_id="pf-777", environment="production", version="v12", deployment_id="promo-1"
    )
    assert verdict.allow is False
    assert verdict.reasons == ["production lags staging by 8 versions (at most 5 allowed)"]
    stored = wiring.current().planning.decisions.by_deployment("promo-1", "0", 10)
    assert [d["decision_id"] for d in stored] == [verdict.decision_id]
    assert stored[0]["engine_id"] == "environment-manager"
    assert stored[0]["version"] == "v12"


def test_decide_judges_the_promoted_version_in_its_source_environment_not_the_project(aws, admin, gate, invoke):
    # Given: the real Monitoring, fed through its own ingestion route: v2.0.0 failed 2 of 10 times in
    # staging, while a version never deployed anywhere (v9.9.9) failed every time
    def log(i: int, version: str, status: str) -> None:
        event = {"project_id": "pf-real", "event_type": "execution", "engine": "execution", "platform": "slack",
                 "action": "send_message", "status": status, "event_id": f"evt-{version}-{i}", "version": version,
                 "environment": "staging"}  # fmt: skip
        assert invoke("log/ingest", engine=admin, body=event).status in (200, 201, 202)

    for i in range(10):
        log(i, "v2.0.0", "failed" if i < 2 else "success")
        log(i, "v9.9.9", "failed")
    body = {"deployment_id": "d-real", "environment": "production", "project_id": "pf-real", "source_env": "staging"}
    # When
    reply = invoke("plan/decide", engine=admin, body={**body, "version": "v2.0.0"})
    # Then: only v2.0.0's own events count, and the fact says what was judged
    judged = reply.body["facts"]["version_health"]["value"]
    assert (judged["version"], judged["environment"], judged["events"], judged["error_rate"]) == (
        "v2.0.0",
        "staging",
        10,
        0.2,
    )
    assert reply.body["deny_reasons"] == [
        "error rate of v2.0.0 in staging over the last 3600s is 20% over 10 events: above 5%"
    ]
    # and a version with no traffic is "no signal": allowed by the shipped data, with the note
    quiet = invoke("plan/decide", engine=admin, body={**body, "version": "v2.0.1"}).body
    assert (quiet["allow"], quiet["deny_reasons"]) == (True, [])
    assert quiet["notes"] == [
        "no signal: v2.0.1 in staging over the last 3600s served 0 event(s) (at least 10 needed to judge it)"
    ]


def test_decisions_page_with_a_cursor_until_the_last_page(aws, admin, system, gate, invoke):
    made = [invoke("plan/decide", engine=admin).body["decision_id"] for _ in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        query = {"deployment_id": "deployment-123", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = invoke("plan/decisions", engine=admin, query=query).body
        seen += [d["decision_id"] for d in page["decisions"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert seen == list(reversed(made))
    bad = invoke("plan/decisions", engine=admin, query={"deployment_id": "deployment-123", "cursor": "%%%"})
    assert bad.status == 422
    assert bad.body["error"]["details"][0]["field"] == "query.cursor"


def test_decisions_since_later_than_the_cursor_is_an_empty_page(aws, admin, system, gate, invoke):
    # Given a first page and its cursor
    for _ in range(3):
        invoke("plan/decide", engine=admin)
    first = invoke("plan/decisions", engine=admin, query={"deployment_id": "deployment-123", "limit": "1"}).body
    assert first["next_cursor"]
    # When the next page is asked with a `since` later than every decision (an inverted range)
    query = {"deployment_id": "deployment-123", "cursor": first["next_cursor"], "since": "2999-01-01T00:00:00Z"}
    reply = invoke("plan/decisions", engine=admin, query=query)
    # Then it is an empty last page, not a 503 from the store
    assert reply.status == 200, reply.body
    assert reply.body["decisions"] == [] and reply.body["next_cursor"] is None
