"""Forged and buried audit records (issue 19, item 1), replayed on the real check handler and boto3.

The attack: an engine with no scopes, granted only ``proj-a``, checked on behalf of ``victim`` in
``proj-b``. It was refused (403) but its record was stored in ``proj-b`` under ``victim``, the batch
form stored 25 at a time, ``victim``'s ``last_seen_at`` moved, and 1,000 such records hid the
project's real decisions from its audit timeline (read oldest first, filtered after a capped read).
"""

from __future__ import annotations

import json
import time

import pytest

ADMIN = "admin"
XSS = "<img src=x onerror=alert(1)>"
FORGED = {"engine_id": "victim", "platform": XSS, "action_type": "wire_money", "project_id": "proj-b",
          "flow_id": "flow-b"}  # fmt: skip
SEND = {"platform": "gmail", "action_type": "send_email"}


@pytest.fixture
def admin(admin_key: str) -> tuple[str, str]:
    from local.runner import SEED
    from puraify import wiring
    from puraify.engine_control.bootstrap import seed_catalog

    seed_catalog(wiring.current().catalog, json.loads(SEED.read_text()))
    return (ADMIN, admin_key)


def _register(invoke, admin, engine_id: str, **body) -> tuple[str, str]:
    reply = invoke("register/register", engine=admin, body={"engine_id": engine_id, **body})
    assert reply.status == 201, reply.body
    return (engine_id, reply.body["engine_key"])


@pytest.fixture
def victim(aws, admin, invoke) -> tuple[str, str]:
    return _register(invoke, admin, "victim", permissions={"gmail": ["send_email"]}, projects=["proj-b"])


@pytest.fixture
def attacker(aws, admin, invoke) -> tuple[str, str]:
    return _register(invoke, admin, "attacker", projects=["proj-a"])


def _partition(aws, engine_id: str) -> list[dict]:
    return aws.partition("AuditTable", f"ENGINE#{engine_id}")


def _project(aws, project_id: str) -> list[dict]:
    return aws.client("dynamodb").query(
        TableName=aws.name("AuditTable"),
        IndexName="by_project",
        KeyConditionExpression="project_pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"PROJECT#{project_id}"}},
    )["Items"]


def _last_seen(invoke, admin) -> str | None:
    shown = invoke("register/show", engine=admin, path_params={"engine_id": "victim"})
    assert shown.status == 200, shown.body
    return shown.body["last_seen_at"]


def test_forged_check_is_403_and_writes_nothing_into_the_ungranted_project(aws, admin, victim, attacker, invoke):
    # When
    reply = invoke("check/check", engine=attacker, body=FORGED)
    # Then
    assert reply.status == 403 and reply.body["error"]["code"] == "missing_scope"
    assert "checks:on_behalf" in reply.body["error"]["message"]
    assert _project(aws, "proj-b") == [] and _partition(aws, "victim") == []
    (kept,) = _partition(aws, "attacker")  # the refusal is audited, under the one who made it
    assert kept["caller_id"]["S"] == "attacker" and kept["engine_id"]["S"] == "victim"
    assert kept["status"]["S"] == "denied" and "project_pk" not in kept and "project_id" not in kept
    assert kept["details"]["M"]["project_id"]["S"] == "proj-b"  # what it asked for, as evidence
    assert _last_seen(invoke, admin) is None


def test_forged_batch_denies_each_and_writes_nothing_into_the_ungranted_project(aws, admin, victim, attacker, invoke):
    # When
    reply = invoke("check/check", engine=attacker, body={"checks": [FORGED] * 25})
    # Then
    assert reply.status == 200
    assert [(r["allowed"], r["rule"]) for r in reply.body["results"]] == [(False, "missing_scope")] * 25
    assert _project(aws, "proj-b") == [] and _partition(aws, "victim") == []
    kept = _partition(aws, "attacker")
    assert len(kept) == 25 and {i["caller_id"]["S"] for i in kept} == {"attacker"}
    assert _last_seen(invoke, admin) is None


def test_last_seen_moves_only_on_the_engines_own_requests(aws, admin, victim, attacker, invoke):
    # Given: the forged checks, and an admin's check on the victim's behalf
    invoke("check/check", engine=attacker, body=FORGED)
    invoke("check/check", engine=attacker, body={"checks": [FORGED] * 3})
    assert invoke("check/check", engine=admin, body={**SEND, "engine_id": "victim"}).body["allowed"] is True
    assert invoke("check/check", engine=("victim", "pfk_wrong-key-000000000000000000000000000")).status == 401
    assert _last_seen(invoke, admin) is None
    # When: the victim checks for itself
    own = invoke("check/check", engine=victim, body=SEND)
    # Then
    assert own.status == 200
    seen = _last_seen(invoke, admin)
    assert seen is not None
    time.sleep(0.01)
    invoke("check/check", engine=admin, body={**SEND, "engine_id": "victim"})
    invoke("check/check", engine=attacker, body=FORGED)
    assert _last_seen(invoke, admin) == seen


def test_checking_on_behalf_needs_the_scope_and_both_engines_granted_the_project(aws, admin, victim, invoke):
    # Given: an orchestrator holding the scope and proj-b, proj-c; the victim holds only proj-b
    orchestrator = _register(invoke, admin, "orchestrator", scopes=["checks:on_behalf"], projects=["proj-b", "proj-c"])
    outsider = _register(invoke, admin, "outsider", scopes=["checks:on_behalf"], projects=["proj-c"])
    on_behalf = {**SEND, "engine_id": "victim"}
    # When
    allowed = invoke("check/check", engine=orchestrator, body={**on_behalf, "project_id": "proj-b"})
    victim_lacks = invoke("check/check", engine=orchestrator, body={**on_behalf, "project_id": "proj-c"})
    caller_lacks = invoke("check/check", engine=outsider, body={**on_behalf, "project_id": "proj-b"})
    # Then
    assert allowed.status == 200 and allowed.body["allowed"] is True and allowed.body["engine_id"] == "victim"
    assert victim_lacks.status == 403 and victim_lacks.body["error"]["code"] == "project_not_granted"
    assert caller_lacks.status == 403 and caller_lacks.body["error"]["code"] == "project_not_granted"
    filed = [(i["caller_id"]["S"], i["engine_id"]["S"], i["status"]["S"]) for i in _project(aws, "proj-b")]
    assert filed == [("orchestrator", "victim", "allowed")]  # the outsider's refusal is not filed in proj-b
    assert _partition(aws, "victim") == []


def test_a_thousand_records_do_not_bury_a_real_check_in_the_timeline(aws, admin, victim, attacker, invoke):
    # Given: the attack (40 batches of 25), and as many genuine checks by an engine granted proj-b
    # (both allowed past the default rate limit, which would stop the attack at 250 checks)
    unlimited = {"per_second": 100000, "burst": 100000}
    raised = invoke(
        "register/permissions",
        engine=admin,
        path_params={"engine_id": "attacker"},
        body={"permissions": {}, "rate_limit": unlimited},
    )
    assert raised.status == 200 and raised.body["rate_limit"]["burst"] == 100000
    for _ in range(40):
        assert invoke("check/check", engine=attacker, body={"checks": [FORGED] * 25}).status == 200
    flooder = _register(
        invoke, admin, "flooder", permissions={"gmail": ["send_email"]}, projects=["proj-b"], rate_limit=unlimited
    )
    noise = {**SEND, "project_id": "proj-b", "flow_id": "flow-b"}
    for _ in range(40):
        assert invoke("check/check", engine=flooder, body={"checks": [noise] * 25}).status == 200
    # When: the victim's real check comes after them
    real = invoke("check/check", engine=victim, body={**SEND, "project_id": "proj-b", "flow_id": "flow-b"})
    assert real.status == 200 and real.body["allowed"] is True
    reader = _register(invoke, admin, "reader", scopes=["logs:read"], projects=["proj-b"])
    # Then: the project's and the flow's timelines show it, newest first within the limit
    for query in ({"project_id": "proj-b"}, {"project_id": "proj-b", "flow_id": "flow-b"}):
        timeline = invoke("log/audit", engine=reader, query={**query, "limit": "50"})
        assert timeline.status == 200, timeline.body
        decisions = [e for e in timeline.body["timeline"] if e["kind"] == "decision"]
        assert decisions[-1]["request_id"] == real.body["request_id"], query
        assert decisions[-1]["caller_id"] == "victim"
        assert len(timeline.body["timeline"]) == 50
        assert all(e["caller_id"] in ("victim", "flooder") for e in decisions)  # none of the attacker's
    # and `since` is part of the key condition: only what came at or after the bound
    since = timeline.body["timeline"][-1]["timestamp"]
    late = invoke("log/audit", engine=reader, query={"project_id": "proj-b", "since": since})
    assert [e["request_id"] for e in late.body["timeline"] if e["kind"] == "decision"] == [real.body["request_id"]]
