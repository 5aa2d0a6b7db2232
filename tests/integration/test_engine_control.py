"""Engine Control handlers with real boto3 against the embedded endpoint, driven by events/."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from local.template import Template

ADMIN = "admin"


@pytest.fixture
def admin(admin_key: str) -> tuple[str, str]:
    """The admin, with the starter catalog in place (permissions must name catalog actions)."""
    from local.runner import SEED
    from puraify import wiring
    from puraify.engine_control.bootstrap import seed_catalog

    seed_catalog(wiring.current().catalog, json.loads(SEED.read_text()))
    return (ADMIN, admin_key)


@pytest.fixture
def seeded(aws, admin, invoke):
    """The starter catalog plus engine ``action`` (gmail send_email, slack send_message)."""
    from local.runner import SEED
    from puraify import wiring
    from puraify.engine_control.bootstrap import seed_catalog

    seed_catalog(wiring.current().catalog, json.loads(SEED.read_text()))
    reply = invoke("register/register", engine=admin)
    assert reply.status == 201, reply.body
    return ("action", reply.body["engine_key"])


def test_register_returns_key_once_and_stores_only_its_hash(aws, admin, invoke):
    # When
    reply = invoke("register/register", engine=admin)
    # Then
    assert reply.status == 201
    key = reply.body["engine_key"]
    assert key.startswith("pfk_") and len(key) >= 43
    assert reply.body["permissions"] == {"gmail": ["send_email"], "slack": ["send_message"]}
    item = aws.client("dynamodb").get_item(TableName=aws.name("EnginesTable"), Key={"engine_id": {"S": "action"}})
    assert key not in json.dumps(item["Item"])
    assert len(item["Item"]["key_hash"]["S"]) == 64


def test_register_existing_id_is_409(seeded, admin, invoke):
    reply = invoke("register/register", engine=admin)
    assert reply.status == 409
    assert reply.body["error"]["code"] == "engine_exists"
    assert reply.body["request_id"]


def test_register_concurrently_gives_exactly_one_201(aws, admin, invoke):
    body = {"engine_id": "racer", "permissions": {"slack": ["send_message"]}}
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda _: invoke("register/register", engine=admin, body=body), range(8)))
    assert sorted(r.status for r in replies) == [201] + [409] * 7


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"engine_id": "Bad Id!", "permissions": {}}, "body.engine_id"),
        ({"engine_id": "x" * 65}, "body.engine_id"),
        ({"engine_id": "ok", "permissions": {"gmail": "send_email"}}, "body.permissions.gmail"),
        ({"engine_id": "ok", "surprise": 1}, "body.surprise"),
    ],
)
def test_register_invalid_body_is_422_with_field_details(aws, admin, invoke, body, field):
    reply = invoke("register/register", engine=admin, body=body)
    assert reply.status == 422
    fields = [d["field"] for d in reply.body["error"]["details"]]
    assert any(f.startswith(field) for f in fields), fields
    assert "Traceback" not in json.dumps(reply.body)


def test_register_malformed_json_is_400(aws, admin, invoke):
    reply = invoke("register/register", engine=admin, body="{not json")
    assert reply.status == 400
    assert reply.body["error"]["code"] == "invalid_json"


def test_register_oversized_body_is_413_and_stores_nothing(aws, admin, invoke):
    body = {"engine_id": "big", "description": "x" * 300_000}
    reply = invoke("register/register", engine=admin, body=body)
    assert reply.status == 413
    item = aws.client("dynamodb").get_item(TableName=aws.name("EnginesTable"), Key={"engine_id": {"S": "big"}})
    assert "Item" not in item


def test_register_without_admin_scope_is_403_and_audited(seeded, invoke, aws):
    reply = invoke("register/register", engine=seeded, body={"engine_id": "sneaky"})
    assert reply.status == 403
    audit = aws.partition("AuditTable", "ENGINE#action")
    assert any(i["kind"]["S"] == "admin" and i["status"]["S"] == "denied" for i in audit)


def test_validate_answers_for_the_caller(seeded, invoke):
    reply = invoke("register/validate", engine=seeded)
    assert reply.status == 200
    assert reply.body == {
        "valid": True,
        "engine_id": "action",
        "permissions": {"gmail": ["send_email"], "slack": ["send_message"]},
        "scopes": ["logs:write"],
        "projects": ["*"],
        "api_version": "2026-12-07",  # pinned to the newest version when registered
    }


def test_unknown_engine_and_wrong_key_get_the_same_401(seeded, invoke):
    unknown = invoke("register/validate", engine=("ghost", seeded[1]))
    wrong = invoke("register/validate", engine=("action", "pfk_wrong"))
    assert unknown.status == wrong.status == 401
    assert unknown.body["error"] == wrong.body["error"]


def test_auth_failure_is_audited_with_ttl(seeded, invoke, aws):
    invoke("register/validate", engine=("action", "pfk_wrong-key-0123456789abcdefghijklmnopqrstuvw"))
    items = aws.client("dynamodb").scan(TableName=aws.name("AuditTable"))["Items"]
    failures = [i for i in items if i["kind"]["S"] == "auth"]
    assert len(failures) == 1 and failures[0]["pk"]["S"].startswith("AUTH#")
    assert failures[0]["sk"]["S"] == "action#127.0.0.1" and failures[0]["count"]["N"] == "1"
    assert int(failures[0]["expires_at"]["N"]) > time.time() + 89 * 86400


def test_rotate_old_key_works_during_grace_then_stops(seeded, invoke):
    old = seeded
    reply = invoke("register/rotate", engine=old, body={"grace_seconds": 1})
    assert reply.status == 200
    new = ("action", reply.body["engine_key"])
    assert invoke("register/validate", engine=new).status == 200
    assert invoke("register/validate", engine=old).status == 200
    time.sleep(1.1)
    assert invoke("register/validate", engine=old).status == 401
    assert invoke("register/validate", engine=new).status == 200


def test_rotate_another_engine_needs_admin(seeded, admin, invoke):
    other = invoke("register/register", engine=admin, body={"engine_id": "other"}).body
    reply = invoke("register/rotate", engine=("other", other["engine_key"]), path_params={"engine_id": "action"})
    assert reply.status == 403


def test_revoke_stops_the_key(seeded, admin, invoke):
    assert invoke("register/revoke", engine=admin).status == 200
    assert invoke("register/validate", engine=seeded).status == 401
    again = invoke("register/register", engine=admin)
    assert again.status == 409


def test_permissions_replace_and_take_effect(seeded, admin, invoke):
    assert invoke("check/check", engine=seeded).body["allowed"] is True
    reply = invoke("register/permissions", engine=admin, body={"permissions": {"gmail": ["read_email"]}})
    assert reply.status == 200
    assert reply.body["permissions"] == {"gmail": ["read_email"]}
    check = invoke("check/check", engine=seeded)
    assert check.body["allowed"] is False
    assert check.body["rule"] == "not_granted"


def test_check_allowed_returns_required_scopes_and_audits(seeded, invoke, aws):
    reply = invoke("check/check", engine=seeded)
    assert reply.status == 200
    assert reply.body["allowed"] is True
    assert reply.body["required_scopes"] == ["mail.send"]
    items = aws.client("dynamodb").scan(TableName=aws.name("AuditTable"))["Items"]
    checks = [i for i in items if i["kind"]["S"] == "check"]
    assert len(checks) == 1
    record = checks[0]
    for key in ("request_id", "engine_id", "platform", "action_type", "status", "timestamp", "expires_at"):
        assert key in record
    assert record["status"]["S"] == "allowed"


@pytest.mark.parametrize(
    ("body", "rule", "reason"),
    [
        ({"platform": "gmail", "action_type": "read_email"}, "not_granted", "not granted"),
        ({"platform": "fax", "action_type": "send"}, "unknown_platform", "unknown platform 'fax'"),
        ({"platform": "gmail", "action_type": "teleport"}, "unknown_action", "unknown action 'teleport'"),
    ],
)
def test_check_denied_says_which_rule(seeded, invoke, body, rule, reason):
    reply = invoke("check/check", engine=seeded, body=body)
    assert reply.status == 200
    assert reply.body["allowed"] is False
    assert reply.body["rule"] == rule
    assert reason in reply.body["reason"]


def test_check_platform_maintenance_denies_without_restart(seeded, admin, invoke):
    assert invoke("check/check", engine=seeded).body["allowed"] is True
    assert invoke("config/put_platform", engine=admin).status == 200
    reply = invoke("check/check", engine=seeded)
    assert reply.body == reply.body | {"allowed": False, "rule": "platform_maintenance"}
    assert "maintenance" in reply.body["reason"]


def test_check_disabled_flag_denies_action_then_platform(seeded, admin, invoke):
    assert invoke("config/put_flag", engine=admin).status == 200
    reply = invoke("check/check", engine=seeded)
    assert reply.body["allowed"] is False
    assert reply.body["reason"] == "disabled by flag 'gmail_send'"
    # a flag without action_type targets the whole platform
    body = {"enabled": False, "platform": "slack"}
    invoke("config/put_flag", engine=admin, body=body, path_params={"name": "slack_off"})
    slack = invoke("check/check", engine=seeded, body={"platform": "slack", "action_type": "send_message"})
    assert slack.body["reason"] == "disabled by flag 'slack_off'"
    # re-enabling lifts it
    invoke(
        "config/put_flag", engine=admin, body={"enabled": True, "platform": "slack"}, path_params={"name": "slack_off"}
    )
    assert invoke("check/check", engine=seeded, body={"platform": "slack", "action_type": "send_message"}).body[
        "allowed"
    ]


def test_check_for_another_engine_needs_admin(seeded, admin, invoke):
    other = invoke("register/register", engine=admin, body={"engine_id": "other"}).body
    reply = invoke("check/check", engine=("other", other["engine_key"]))  # body names engine "action"
    assert reply.status == 403
    as_admin = invoke("check/check", engine=admin)
    assert as_admin.status == 200 and as_admin.body["allowed"] is True


def test_check_fails_closed_when_store_unreachable(seeded, invoke, monkeypatch):
    from puraify import wiring
    from puraify.store import clients

    wiring.current()  # warm: credentials cached, catalog not yet
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    wiring.reset()
    clients.reset()
    reply = invoke("check/check", engine=seeded)
    assert reply.status == 503
    assert reply.body["error"]["code"] == "store_unavailable"
    assert "allowed" not in reply.body


def test_platforms_list_and_global_config(seeded, admin, invoke):
    platforms = invoke("config/list_platforms", engine=seeded)
    assert platforms.status == 200
    names = [p["name"] for p in platforms.body["platforms"]]
    assert names == ["gmail", "google_calendar", "notion", "slack"]
    gmail = platforms.body["platforms"][0]
    assert gmail["actions"]["send_email"] == {"required_scopes": ["mail.send"]}
    assert gmail["status"] == "available" and gmail["updated_at"]
    invoke("config/put_flag", engine=admin)
    config = invoke("config/global_config", engine=seeded)
    assert config.body["api_version"] == "v1"
    assert config.body["api_versions"]["slack"] == "v2"
    assert config.body["feature_flags"]["gmail_send"]["enabled"] is False


def test_platform_put_needs_admin_and_valid_status(seeded, admin, invoke):
    assert invoke("config/put_platform", engine=seeded).status == 403
    bad = invoke("config/put_platform", engine=admin, body={"status": "broken"})
    assert bad.status == 422
    assert bad.body["error"]["details"][0]["field"] == "body.status"


def test_flag_targeting_action_without_platform_is_422(seeded, admin, invoke):
    reply = invoke("config/put_flag", engine=admin, body={"enabled": False, "action_type": "send_email"})
    assert reply.status == 422


def test_engine_event_is_stored_with_engine_and_ttl(seeded, invoke, aws):
    reply = invoke("log/engine_event", engine=seeded)
    assert reply.status == 202
    event_id = reply.body["event_id"]
    items = aws.client("dynamodb").scan(TableName=aws.name("EventsTable"))["Items"]
    stored = [i for i in items if i.get("event_id", {}).get("S") == event_id]
    assert len(stored) == 1
    assert stored[0]["engine_id"]["S"] == "action"
    assert int(stored[0]["expires_at"]["N"]) > time.time()


def test_health_needs_no_credentials(aws, invoke):
    reply = invoke("config/health")
    assert reply.status == 200 and reply.body["status"] == "ok"


def test_every_route_but_the_public_ones_rejects_missing_credentials(aws, invoke):
    from puraify.http import PUBLIC_ROUTES

    template = Template()
    routes = [r for r in template.routes() if (r.method, r.path) not in PUBLIC_ROUTES]
    assert len(routes) >= 11
    for route in routes:
        raw = route.path.replace("{", "").replace("}", "")
        event = {
            "version": "2.0",
            "routeKey": f"{route.method} {route.path}",
            "rawPath": raw,
            "rawQueryString": "",
            "headers": {"content-type": "application/json"},
            "requestContext": {
                "http": {"method": route.method, "path": raw, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
                "requestId": "r",
                "routeKey": f"{route.method} {route.path}",
                "stage": "$default",
            },
            "body": "{}",
            "isBase64Encoded": False,
        }
        for headers in ({}, {"x-engine-id": "admin", "x-engine-key": "pfk_wrong"}):
            event["headers"] = {"content-type": "application/json", **headers}
            reply = invoke(event)
            assert reply.status == 401, (route, reply.body)


def test_each_decision_emits_one_structured_log_line(seeded, invoke):
    import io

    from puraify.observability import logger

    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)
    level = logger.log_level
    logger.setLevel("INFO")
    try:
        invoke("check/check", engine=seeded)
        invoke("check/check", engine=("action", "pfk_wrong"))
    finally:
        logger.registered_handler.setStream(previous)
        logger.setLevel(level)
    lines = [json.loads(line) for line in buffer.getvalue().splitlines() if '"audit"' in line]
    assert [line["status"] for line in lines] == ["allowed", "denied"]
    for line in lines:
        for key in ("request_id", "engine_id", "platform", "action_type", "status", "timestamp"):
            assert key in line, (key, line)
    assert lines[0]["platform"] == "gmail" and lines[0]["action_type"] == "send_email"
    assert lines[0]["timestamp"].endswith("+00:00") and "T" in lines[0]["timestamp"]


def test_invalid_path_names_are_422(seeded, admin, invoke):
    bad_platform = invoke("config/put_platform", engine=admin, path_params={"name": "Not A Name!"})
    assert bad_platform.status == 422
    assert bad_platform.body["error"]["details"][0]["field"] == "path.name"
    assert invoke("register/revoke", engine=admin, path_params={"engine_id": "UPPER"}).status == 422


def test_engines_list_and_show_never_return_key_hashes(seeded, admin, invoke, aws):
    # Given: engine "action" made one check, and a stranger failed to authenticate as it afterwards
    assert invoke("check/check", engine=seeded).status == 200
    invoke("check/check", engine=("action", "pfk_wrong-key-0123456789abcdefghijklmnopqrstuvw"))
    item = aws.client("dynamodb").get_item(TableName=aws.name("EnginesTable"), Key={"engine_id": {"S": "action"}})
    key_hash = item["Item"]["key_hash"]["S"]
    # When
    listed = invoke("register/list", engine=admin)
    shown = invoke("register/show", engine=admin)
    # Then
    assert listed.status == 200 and shown.status == 200
    assert [e["engine_id"] for e in listed.body["engines"]] == ["action", "admin"]
    assert key_hash not in json.dumps(listed.body) + json.dumps(shown.body)
    assert "key_hash" not in json.dumps(listed.body) + json.dumps(shown.body)
    assert shown.body["permissions"] == {"gmail": ["send_email"], "slack": ["send_message"]}
    assert shown.body["status"] == "active"
    records = aws.partition("AuditTable", "ENGINE#action")
    kinds = {r["kind"]["S"]: r["timestamp"]["S"] for r in records}
    assert shown.body["last_seen_at"] == kinds["check"]  # not the later failed authentication
    seen = {e["engine_id"]: e["last_seen_at"] for e in listed.body["engines"]}
    assert seen["action"] == kinds["check"]  # the list carries it too (the console's "last seen")
    assert "auth" not in kinds  # counted in its aggregate, outside the engine's partition


def test_engines_show_revoked_engine_and_unknown_is_404(seeded, admin, invoke):
    invoke("register/revoke", engine=admin)
    assert invoke("register/show", engine=admin).body["status"] == "revoked"
    missing = invoke("register/show", engine=admin, path_params={"engine_id": "ghost"})
    assert missing.status == 404 and missing.body["error"]["code"] == "engine_not_found"


def test_engines_list_and_show_need_admin(seeded, invoke):
    for event in ("register/list", "register/show"):
        reply = invoke(event, engine=seeded)
        assert reply.status == 403 and reply.body["error"]["code"] == "missing_scope"


def test_checks_are_counted_per_minute_in_the_aggregates_table(seeded, admin, invoke, aws):
    from puraify import wiring

    # When: one allowed, two denied by rule, one that cannot be decided for lack of an engine
    assert invoke("check/check", engine=seeded).body["allowed"] is True
    denied = {"platform": "gmail", "action_type": "read_email"}
    assert invoke("check/check", engine=seeded, body=denied).body["rule"] == "not_granted"
    assert invoke("check/check", engine=seeded, body=denied).body["rule"] == "not_granted"
    missing = {"engine_id": "ghost", "platform": "gmail", "action_type": "send_email"}
    assert invoke("check/check", engine=admin, body=missing).status == 404
    wiring.current().engine_control.counter.flush()
    # Then
    items = aws.partition("AggregatesTable", "CHECKS")
    totals: dict[str, int] = {}
    for item in items:
        assert item["sk"]["S"].startswith("MIN#") and len(item["sk"]["S"]) == len("MIN#2026-12-01T21:45")
        assert int(item["expires_at"]["N"]) > time.time()
        for name, value in item.items():
            if "N" in value and name != "expires_at":
                totals[name] = totals.get(name, 0) + int(value["N"])
    per_engine = {k: totals.pop(k) for k in list(totals) if k.startswith("engine#")}
    assert totals == {"allowed": 1, "denied": 3, "deny#not_granted": 2, "deny#engine_not_found": 1}
    # and per asking engine: the counters the engine_anomaly rule judges
    assert per_engine == {
        "engine#action#checks": 3,
        "engine#action#denied": 2,
        "engine#admin#checks": 1,
        "engine#admin#denied": 1,
    }


def _dynamodb_calls() -> dict[str, int]:
    from puraify.store import clients

    counts: dict[str, int] = {}

    def count(event_name: str, **_: object) -> None:
        operation = event_name.split(".")[-1]
        counts[operation] = counts.get(operation, 0) + 1

    clients.client("dynamodb").meta.events.register("before-call.dynamodb.*", count)
    return counts


def test_batch_check_answers_each_in_order_and_audits_them_in_one_write(seeded, admin, invoke, aws):
    # Given: a warm instance (engine and catalog cached)
    assert invoke("check/check", engine=seeded).status == 200
    calls = _dynamodb_calls()
    checks = [
        {"platform": "gmail", "action_type": "send_email", "project_id": "pf-1"},
        {"platform": "gmail", "action_type": "read_email"},
        {"platform": "fax", "action_type": "send"},
        {"engine_id": "admin", "platform": "gmail", "action_type": "send_email"},
    ] + [{"platform": "slack", "action_type": "send_message", "flow_id": f"f{n}"} for n in range(21)]
    # When
    reply = invoke("check/check", engine=seeded, body={"checks": checks})
    # Then
    assert reply.status == 200, reply.body
    results = reply.body["results"]
    assert len(results) == 25
    assert [r["allowed"] for r in results[:4]] == [True, False, False, False]
    assert [r["rule"] for r in results[:4]] == [None, "not_granted", "unknown_platform", "missing_scope"]
    assert results[3]["engine_id"] == "admin" and "checks:on_behalf" in results[3]["reason"]
    assert all(r["allowed"] and r["platform"] == "slack" for r in results[4:])
    assert {r["request_id"] for r in results} == {reply.body["request_id"]}
    assert calls == {"BatchWriteItem": 1}
    items = aws.client("dynamodb").scan(TableName=aws.name("AuditTable"))["Items"]
    batch = [i for i in items if i["request_id"]["S"] == reply.body["request_id"] and "item" in i]
    assert sorted(int(i["item"]["N"]) for i in batch) == list(range(25))
    by_item = {int(i["item"]["N"]): i for i in batch}
    assert by_item[0]["project_id"]["S"] == "pf-1" and by_item[0]["status"]["S"] == "allowed"
    assert by_item[3]["status"]["S"] == "denied" and by_item[3]["engine_id"]["S"] == "admin"
    assert {i["pk"]["S"] for i in batch} == {"ENGINE#action"}  # the caller's partition, never admin's
    assert {i["caller_id"]["S"] for i in batch} == {"action"}
    assert by_item[24]["flow_id"]["S"] == "f20"


def test_check_replies_are_exactly_the_documented_models(seeded, invoke):
    # The replies are serialised without validating them again: they must be what the models dump.
    from puraify.engine_control.models import ActionCheckBatchResponse, ActionCheckResponse

    checks = [
        {"platform": "gmail", "action_type": "send_email"},
        {"platform": "gmail", "action_type": "read_email"},
        {"platform": "fax", "action_type": "send"},
        {"engine_id": "admin", "platform": "gmail", "action_type": "send_email"},
    ]
    for body in checks[:3]:
        reply = invoke("check/check", engine=seeded, body=body).body
        assert list(reply) == list(ActionCheckResponse.model_fields)
        assert reply == ActionCheckResponse.model_validate(reply).model_dump(mode="json")
    batch = invoke("check/check", engine=seeded, body={"checks": checks}).body
    assert batch == ActionCheckBatchResponse.model_validate(batch).model_dump(mode="json")
    assert all(list(r) == list(ActionCheckResponse.model_fields) for r in batch["results"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"checks": []}, "body.checks"),
        ({"checks": [{"platform": "gmail", "action_type": "send_email"}] * 26}, "body.checks"),
        (
            {"checks": [{"platform": "gmail", "action_type": "send_email"}, {"platform": "gmail"}]},
            "body.checks.1.action_type",
        ),
        ({"checks": [{"platform": "gmail", "action_type": "send_email", "extra": 1}]}, "body.checks.0.extra"),
        ({"checks": "all"}, "body.checks"),
    ],
)
def test_batch_check_invalid_is_422_naming_the_item_and_audits_nothing(seeded, invoke, aws, body, field):
    reply = invoke("check/check", engine=seeded, body=body)
    assert reply.status == 422, reply.body
    assert reply.body["error"]["details"][0]["field"] == field
    items = aws.client("dynamodb").scan(TableName=aws.name("AuditTable"))["Items"]
    assert [i for i in items if i["kind"]["S"] == "check"] == []


def test_batch_check_fails_closed_when_the_audit_cannot_be_written(seeded, invoke, aws):
    from puraify import wiring

    assert invoke("check/check", engine=seeded).status == 200
    aws.client("dynamodb").delete_table(TableName=aws.name("AuditTable"))
    body = {"checks": [{"platform": "gmail", "action_type": "send_email"}] * 3}
    reply = invoke("check/check", engine=seeded, body=body)
    assert reply.status == 503
    assert reply.body["error"]["code"] == "store_unavailable"
    assert "results" not in reply.body
    from puraify.store.check_counts import DynamoCheckCountStore

    wiring.current().engine_control.counter.flush()
    minutes = DynamoCheckCountStore(aws.name("AggregatesTable")).minutes("2000-01-01T00:00", "2999-12-31T23:59")
    assert sum(m.get("failed", 0) for m in minutes) == 3
    assert sum(m.get("allowed", 0) for m in minutes) == 1


@pytest.mark.parametrize(
    ("permissions", "field"),
    [
        ({"gmial": ["send_email"]}, "body.permissions.gmial"),
        ({"gmail": ["send_email", "send_fax"]}, "body.permissions.gmail.send_fax"),
    ],
)
def test_permissions_must_name_catalog_platforms_and_actions(seeded, admin, invoke, permissions, field):
    registered = invoke("register/register", engine=admin, body={"engine_id": "typo", "permissions": permissions})
    replaced = invoke("register/permissions", engine=admin, body={"permissions": permissions})
    for reply in (registered, replaced):
        assert reply.status == 422, reply.body
        assert [d["field"] for d in reply.body["error"]["details"]] == [field]
    assert invoke("register/validate", engine=seeded).body["permissions"]["gmail"] == ["send_email"]  # unchanged
    assert invoke("register/show", engine=admin, path_params={"engine_id": "typo"}).status == 404  # not created


@pytest.mark.parametrize(
    ("name", "body", "field", "code"),
    [
        ("killswitch", {"enabled": False}, "body.platform", "flag_target_required"),
        ("f", {"enabled": False, "platform": "gmial"}, "body.platform", "unknown_platform"),
        ("f", {"enabled": False, "platform": "gmail", "action_type": "send_fax"}, "body.action_type", "unknown_action"),
        ("deployments", {"enabled": False, "platform": "gmail"}, "body.platform", "flag_target_invalid"),
    ],
)
def test_flags_must_target_a_known_platform_and_action(seeded, admin, invoke, name, body, field, code):
    reply = invoke("config/put_flag", engine=admin, body=body, path_params={"name": name})
    assert reply.status == 422, reply.body
    assert reply.body["error"]["code"] == code and reply.body["error"]["details"][0]["field"] == field
    assert name not in invoke("config/global_config", engine=admin).body["feature_flags"]


def test_the_deployments_flag_switched_off_is_a_change_freeze_and_denies_no_check(seeded, admin, invoke):
    reply = invoke("config/put_flag", engine=admin, body={"enabled": False}, path_params={"name": "deployments"})
    assert reply.status == 200 and reply.body["platform"] is None
    assert invoke("check/check", engine=seeded).body["allowed"] is True


def test_platform_put_without_the_whole_record_is_422_and_keeps_the_platform(seeded, admin, invoke):
    # Given gmail with its actions (the permissions of `action` name send_email)
    # When a PUT names only the status
    reply = invoke("config/put_platform", engine=admin, body={"status": "maintenance"})
    # Then it is refused field by field, and nothing changed
    assert reply.status == 422
    assert {d["field"] for d in reply.body["error"]["details"]} == {"body.api_version", "body.actions"}
    gmail = next(p for p in invoke("config/list_platforms", engine=admin).body["platforms"] if p["name"] == "gmail")
    assert gmail["status"] == "available" and "send_email" in gmail["actions"]


def test_platform_patch_status_keeps_actions_and_api_version(seeded, admin, invoke):
    before = {p["name"]: p for p in invoke("config/list_platforms", engine=admin).body["platforms"]}["slack"]
    reply = invoke("config/patch_platform", engine=admin, path_params={"name": "slack"})
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "maintenance"
    assert reply.body["actions"] == before["actions"] and reply.body["api_version"] == before["api_version"] == "v2"
    after = {p["name"]: p for p in invoke("config/list_platforms", engine=admin).body["platforms"]}["slack"]
    assert (after["status"], after["actions"], after["api_version"]) == ("maintenance", before["actions"], "v2")
    # the permissions naming its actions still decide: denied for maintenance, not for an unknown action
    check = invoke("check/check", engine=seeded, body={"platform": "slack", "action_type": "send_message"})
    assert check.body["rule"] == "platform_maintenance"


def test_platform_patch_needs_admin_an_existing_platform_and_valid_fields(seeded, admin, invoke):
    assert invoke("config/patch_platform", engine=seeded).status == 403
    missing = invoke("config/patch_platform", engine=admin, path_params={"name": "nowhere"})
    assert missing.status == 404 and missing.body["error"]["code"] == "platform_not_found"
    assert "PUT /platforms/nowhere" in missing.body["error"]["message"]
    bad = invoke("config/patch_platform", engine=admin, body={"status": "broken"})
    assert bad.status == 422 and bad.body["error"]["details"][0]["field"] == "body.status"
