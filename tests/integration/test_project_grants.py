"""Project grants: every route that names a project answers 403 for an ungranted one, and writes nothing."""

from __future__ import annotations

import json

import pytest

ADMIN = "admin"

# Every shipped event of a route that names a project (pf_123 or pf-777 in events/).
PROJECT_ROUTES = [
    "log/ingest",
    "log/ingest_batch",
    "log/alert",
    "log/logs",
    "log/errors",
    "log/stats",
    "log/audit",
    "env/publish",
    "env/create",
    "env/create_preview",
    "env/promote",
    "env/rollback",
    "env/compare",
    "env/list",
    "env/history",
    "env/config",
    "env/version",
    "env/resolved",
    "plan/decide",
]


@pytest.fixture
def admin(admin_key: str) -> tuple[str, str]:
    return (ADMIN, admin_key)


def _register(invoke, admin, engine_id: str, **body) -> tuple[str, str]:
    reply = invoke("register/register", engine=admin, body={"engine_id": engine_id, **body})
    assert reply.status == 201, reply.body
    return (engine_id, reply.body["engine_key"])


def _items(aws) -> dict[str, int]:
    """How many items each table holds, the audit table aside (denials are audited)."""
    ddb = aws.client("dynamodb")
    counts = {}
    for logical_id in aws.template.tables():
        if logical_id != "AuditTable":
            counts[logical_id] = ddb.scan(TableName=aws.name(logical_id), Select="COUNT")["Count"]
    return counts


def test_register_without_projects_grants_none(aws, admin, invoke):
    engine = _register(invoke, admin, "fresh", scopes=["logs:write"])
    me = invoke("register/validate", engine=engine)
    assert me.status == 200 and me.body["projects"] == []
    reply = invoke("log/ingest", engine=engine)
    assert reply.status == 403 and reply.body["error"]["code"] == "project_not_granted"


@pytest.mark.parametrize("event", PROJECT_ROUTES)
def test_route_naming_an_ungranted_project_is_403_and_writes_nothing(aws, admin, invoke, event):
    # Given an engine with every scope (admin) but a grant for another project only
    stranger = _register(invoke, admin, "stranger", scopes=["admin"], projects=["someone-else"])
    before = _items(aws)
    # When
    reply = invoke(event, engine=stranger)
    # Then
    assert reply.status == 403, reply.body
    assert reply.body["error"]["code"] == "project_not_granted"
    assert _items(aws) == before


def test_batch_with_one_ungranted_event_is_403_by_index_and_stores_none(aws, admin, invoke):
    engine = _register(invoke, admin, "mixed", scopes=["logs:write"], projects=["mine"])
    events = [
        {"project_id": "mine", "event_type": "execution", "status": "success"},
        {"project_id": "theirs", "event_type": "execution", "status": "error"},
    ]
    before = _items(aws)
    reply = invoke("log/ingest_batch", engine=engine, body={"events": events})
    assert reply.status == 403
    assert reply.body["error"]["details"] == [{"index": 1, "project_id": "theirs", "message": "project not granted"}]
    assert _items(aws) == before


def test_granted_project_is_served_and_others_are_not(aws, admin, invoke):
    engine = _register(invoke, admin, "shop-engine", scopes=["logs:read", "logs:write"], projects=["shop"])
    event = {"project_id": "shop", "event_type": "execution", "status": "success", "event_id": "e-1"}
    assert invoke("log/ingest", engine=engine, body=event).status == 202
    mine = invoke("log/logs", engine=engine, query={"project_id": "shop"})
    assert mine.status == 200 and [e["event_id"] for e in mine.body["logs"]] == ["e-1"]
    theirs = invoke("log/logs", engine=engine, query={"project_id": "pf_123"})
    assert theirs.status == 403


def test_raising_an_alert_needs_alerts_write(aws, admin, invoke):
    plain = _register(invoke, admin, "plain", projects=["*"])
    reply = invoke("log/alert", engine=plain)
    assert reply.status == 403 and reply.body["error"]["code"] == "missing_scope"
    alerter = _register(invoke, admin, "alerter", scopes=["alerts:write"], projects=["*"])
    assert invoke("log/alert", engine=alerter).status == 201


def test_decisions_across_projects_need_every_project(aws, admin, invoke):
    reader = _register(invoke, admin, "plan-reader", scopes=["plan:read"], projects=["pf-777"])
    by_deployment = invoke("plan/decisions", engine=reader)
    assert by_deployment.status == 403 and by_deployment.body["error"]["code"] == "project_not_granted"
    other = invoke("plan/decisions", engine=reader, query={"project_id": "pf-888"})
    assert other.status == 403
    mine = invoke("plan/decisions", engine=reader, query={"project_id": "pf-777"})
    assert mine.status == 200


def test_check_with_an_ungranted_project_is_403_and_audited(aws, admin, invoke):
    from local.runner import SEED
    from puraify import wiring
    from puraify.engine_control.bootstrap import seed_catalog

    seed_catalog(wiring.current().catalog, json.loads(SEED.read_text()))
    engine = _register(invoke, admin, "mailer", permissions={"gmail": ["send_email"]}, projects=["shop"])
    body = {"platform": "gmail", "action_type": "send_email"}
    assert invoke("check/check", engine=engine, body={**body, "project_id": "shop"}).body["allowed"] is True
    assert invoke("check/check", engine=engine, body=body).status == 200  # no project named: no grant needed
    denied = invoke("check/check", engine=engine, body={**body, "project_id": "bank"})
    assert denied.status == 403 and denied.body["error"]["code"] == "project_not_granted"
    # an admin checking for the engine cannot lend it a project either
    for_engine = invoke("check/check", engine=admin, body={**body, "engine_id": "mailer", "project_id": "bank"})
    assert for_engine.status == 403
    audit = aws.partition("AuditTable", "ENGINE#mailer")
    # mailer's refusal is kept in its own partition, naming the project it asked for, but not filed
    # under "bank" (not granted to it); admin's, which holds every project, is filed there
    refused = [i for i in audit if i["status"]["S"] == "denied"]
    assert len(refused) == 1 and refused[0]["details"]["M"]["project_id"]["S"] == "bank"
    assert "project_id" not in refused[0] and "project_pk" not in refused[0]
    (lent,) = wiring.current().audit_store.by_project("bank")
    assert (lent["engine_id"], lent["caller_id"], lent["status"]) == ("mailer", "admin", "denied")


def test_projects_change_like_permissions_and_stay_when_omitted(aws, admin, invoke):
    engine = _register(invoke, admin, "mover", scopes=["logs:write"], projects=["a"])
    changed = invoke(
        "register/permissions",
        engine=admin,
        path_params={"engine_id": "mover"},
        body={"permissions": {}, "projects": ["b"]},
    )
    assert changed.status == 200 and changed.body["projects"] == ["b"]
    kept = invoke("register/permissions", engine=admin, path_params={"engine_id": "mover"}, body={"permissions": {}})
    assert kept.body["projects"] == ["b"]
    assert invoke("log/ingest", engine=engine, body={"project_id": "a", "event_type": "x"}).status == 403
    assert invoke("log/ingest", engine=engine, body={"project_id": "b", "event_type": "x"}).status == 202


def test_invalid_project_grant_is_422(aws, admin, invoke):
    reply = invoke("register/register", engine=admin, body={"engine_id": "bad", "projects": ["no spaces"]})
    assert reply.status == 422
    assert reply.body["error"]["details"][0]["field"].startswith("body.projects")
