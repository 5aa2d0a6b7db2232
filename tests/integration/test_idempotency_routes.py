"""Idempotency-Key on the mutating POSTs: a retry gets the first response, never a second action."""

from __future__ import annotations

import json

import pytest

ADMIN = "admin"


@pytest.fixture
def admin(admin_key: str) -> tuple[str, str]:
    """The admin, with the starter catalog in place (permissions must name catalog actions)."""
    from local.runner import SEED
    from puraify import wiring
    from puraify.engine_control.bootstrap import seed_catalog

    seed_catalog(wiring.current().catalog, json.loads(SEED.read_text()))
    return (ADMIN, admin_key)


def _with_key(event_name: str, key: str) -> dict:
    from tests.conftest import load_event

    event = load_event(event_name)
    event["headers"]["idempotency-key"] = key
    return event


def test_register_retried_with_the_same_key_registers_once_and_never_shows_the_key_again(aws, admin, invoke):
    # When: the same registration is sent twice with one key (the first answer was "lost")
    first = invoke(_with_key("register/register", "reg-1"), engine=admin)
    second = invoke(_with_key("register/register", "reg-1"), engine=admin)
    # Then: one engine; the replay says the registration succeeded and that its key is not kept
    assert first.status == 201
    assert second.status == 409 and second.body["error"]["code"] == "idempotent_replay_key_unavailable"
    assert second.body["error"]["details"][0]["engine_id"] == "action"
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert first.body["engine_key"] not in json.dumps(second.body)
    assert invoke("register/validate", engine=("action", first.body["engine_key"])).status == 200
    # And without a key a repeat is what it always was: 409
    assert invoke("register/register", engine=admin).status == 409


def _stored(aws) -> str:
    return json.dumps(aws.client("dynamodb").scan(TableName=aws.name("IdempotencyTable"))["Items"])


def test_no_issued_key_is_kept_in_the_idempotency_table(aws, admin, invoke):
    # When: a registration and two rotations (another's by the admin, its own by the engine), each with a key
    issued = [invoke(_with_key("register/register", "reg-5"), engine=admin).body["engine_key"]]
    rotate = {"path_params": {"engine_id": "action"}, "body": {"grace_seconds": 60}}
    issued.append(invoke(_with_key("register/rotate", "rot-1"), engine=admin, **rotate).body["engine_key"])
    issued.append(
        invoke(_with_key("register/rotate", "rot-2"), engine=("action", issued[-1]), **rotate).body["engine_key"]
    )
    # Then: three records, none holding a key (nor its prefix: no key at all is at rest there)
    stored = _stored(aws)
    assert stored.count('"COMPLETED"') == 3
    assert all(key not in stored and key[4:20] not in stored for key in issued) and "pfk_" not in stored


def test_a_replay_after_revocation_does_not_return_the_key(aws, admin, invoke):
    # Given: a registration and a rotation, both with keys, then the engine revoked
    key = invoke(_with_key("register/register", "reg-6"), engine=admin).body["engine_key"]
    rotate = {"path_params": {"engine_id": "action"}, "body": {}}
    rotated = invoke(_with_key("register/rotate", "rot-3"), engine=admin, **rotate).body["engine_key"]
    assert invoke("register/revoke", engine=admin, path_params={"engine_id": "action"}).status == 200
    # When
    replays = [
        invoke(_with_key("register/register", "reg-6"), engine=admin),
        invoke(_with_key("register/rotate", "rot-3"), engine=admin, **rotate),
    ]
    # Then
    for replay in replays:
        assert replay.status == 409 and replay.body["error"]["code"] == "idempotent_replay_key_unavailable"
        assert key not in json.dumps(replay.body) and rotated not in json.dumps(replay.body)
        assert "engine_key" not in replay.body


def test_a_retried_rotation_does_not_rotate_twice(aws, admin, invoke):
    invoke("register/register", engine=admin)
    rotate = {"path_params": {"engine_id": "action"}, "body": {"grace_seconds": 0}}
    first = invoke(_with_key("register/rotate", "rot-4"), engine=admin, **rotate)
    again = invoke(_with_key("register/rotate", "rot-4"), engine=admin, **rotate)
    assert first.status == 200 and again.status == 409
    assert invoke("register/validate", engine=("action", first.body["engine_key"])).status == 200


def test_same_key_with_another_body_is_422(aws, admin, invoke):
    assert invoke(_with_key("register/register", "reg-2"), engine=admin).status == 201
    reused = invoke(_with_key("register/register", "reg-2"), engine=admin, body={"engine_id": "other"})
    assert reused.status == 422
    assert reused.body["error"]["code"] == "idempotency_key_reused"
    assert reused.body["error"]["details"][0]["field"] == "header.Idempotency-Key"


def test_keys_are_scoped_per_engine(aws, admin, invoke):
    # Given: two admins
    second_admin = invoke(
        "register/register", engine=admin, body={"engine_id": "ops", "scopes": ["admin"], "permissions": {}}
    ).body
    ops = ("ops", second_admin["engine_key"])
    # When: both use the same key for different registrations
    mine = invoke(_with_key("register/register", "shared"), engine=admin, body={"engine_id": "a-one"})
    theirs = invoke(_with_key("register/register", "shared"), engine=ops, body={"engine_id": "a-two"})
    # Then: neither sees the other's response (nor its key), both engines exist
    assert mine.status == 201 and theirs.status == 201
    assert theirs.body["engine_id"] == "a-two" and theirs.body["engine_key"] != mine.body["engine_key"]


def test_decide_retried_with_a_key_makes_one_decision(aws, admin, invoke):
    from local.template import ROOT
    from puraify.planning.bundles import publish_folder
    from puraify.store.planning import S3BundleStore

    publish_folder(S3BundleStore(aws.name("PolicyBucket")), ROOT / "policies" / "gate")
    first = invoke(_with_key("plan/decide", "decide-1"), engine=admin)
    second = invoke(_with_key("plan/decide", "decide-1"), engine=admin)
    assert first.status == second.status == 200
    assert second.body["decision_id"] == first.body["decision_id"]
    listed = invoke("plan/decisions", engine=admin, query={"deployment_id": first.body["deployment_id"]})
    assert [d["decision_id"] for d in listed.body["decisions"]] == [first.body["decision_id"]]


def test_failed_request_is_not_kept_and_runs_again(aws, admin, invoke, monkeypatch):
    from puraify import wiring
    from puraify.errors import UnavailableError

    control = wiring.current().engine_control

    def unavailable(*args, **kwargs):
        raise UnavailableError("the engine registry is temporarily unavailable; retry later", code="store_unavailable")

    monkeypatch.setattr(control, "register", unavailable)
    assert invoke(_with_key("register/register", "reg-3"), engine=admin).status == 503
    monkeypatch.undo()
    assert invoke(_with_key("register/register", "reg-3"), engine=admin).status == 201


def test_invalid_key_is_400(aws, admin, invoke):
    reply = invoke(_with_key("register/register", "x" * 256), engine=admin)
    assert reply.status == 400 and reply.body["error"]["code"] == "invalid_idempotency_key"


def test_records_live_in_the_template_table_with_ttl(aws, admin, invoke):
    invoke(_with_key("register/register", "reg-4"), engine=admin)
    items = aws.client("dynamodb").scan(TableName=aws.name("IdempotencyTable"))["Items"]
    assert len(items) == 1
    assert items[0]["status"]["S"] == "COMPLETED"
    assert int(items[0]["expiration"]["N"]) > 0
    assert "reg-4" not in str(items[0]["id"])  # the key is stored hashed
