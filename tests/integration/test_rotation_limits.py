"""A leaked key undoing its own rotation (issue 19, item 3), replayed on the real handlers and boto3.

The attack: after an admin rotated ``rot-victim`` (new key K1, old key K0 valid 300 s), K0 rotated
the engine itself with ``grace_seconds: 0`` and got K2; K1 and K0 then answered 401. A self-rotation
with ``grace_seconds: 604800`` was accepted.
"""

from __future__ import annotations

import pytest

ADMIN = "admin"


@pytest.fixture
def admin(admin_key: str) -> tuple[str, str]:
    return (ADMIN, admin_key)


@pytest.fixture
def k0(aws, admin, invoke) -> tuple[str, str]:
    reply = invoke("register/register", engine=admin, body={"engine_id": "rot-victim", "projects": ["p"]})
    assert reply.status == 201, reply.body
    return ("rot-victim", reply.body["engine_key"])


def _rotate(invoke, engine, target: str, body=None):
    return invoke("register/rotate", engine=engine, path_params={"engine_id": target}, body=body or {})


def _works(invoke, engine) -> bool:
    reply = invoke("register/validate", engine=engine)
    assert reply.status in (200, 401), reply.body
    return reply.status == 200


def test_a_key_in_its_grace_period_cannot_rotate_its_engine(admin, k0, invoke):
    # Given: an admin rotated the engine; K0 stays valid for 300 s
    rotated = _rotate(invoke, admin, "rot-victim", {"grace_seconds": 300})
    assert rotated.status == 200, rotated.body
    k1 = ("rot-victim", rotated.body["engine_key"])
    # When: K0 tries to rotate the engine away from K1
    reply = _rotate(invoke, k0, "rot-victim", {"grace_seconds": 0})
    # Then
    assert reply.status == 403 and reply.body["error"]["code"] == "superseded_key"
    assert "engine_key" not in reply.body
    assert _works(invoke, k1) and _works(invoke, k0)  # K0 still acts as the engine until its grace ends
    assert _rotate(invoke, k0, "rot-victim").status == 403  # the default grace is no way round it


def test_a_superseded_admin_key_cannot_manage_keys_or_grants(aws, admin, k0, invoke):
    # Given: the admin rotated its own key
    rotated = _rotate(invoke, admin, ADMIN, {"grace_seconds": 300})
    assert rotated.status == 200, rotated.body
    new_admin = (ADMIN, rotated.body["engine_key"])
    # When / Then: the old admin key can read, but not register, rotate, revoke or change grants
    assert invoke("register/list", engine=admin).status == 200
    refused = [
        invoke("register/register", engine=admin, body={"engine_id": "planted", "scopes": ["admin"]}),
        _rotate(invoke, admin, "rot-victim", {"grace_seconds": 0}),
        invoke("register/revoke", engine=admin, path_params={"engine_id": "rot-victim"}),
        invoke(
            "register/permissions",
            engine=admin,
            path_params={"engine_id": "rot-victim"},
            body={"permissions": {}, "scopes": ["admin"], "projects": ["*"]},
        ),
    ]
    assert [(r.status, r.body["error"]["code"]) for r in refused] == [(403, "superseded_key")] * 4
    item = aws.client("dynamodb").get_item(TableName=aws.name("EnginesTable"), Key={"engine_id": {"S": "planted"}})
    assert "Item" not in item
    shown = invoke("register/show", engine=new_admin, path_params={"engine_id": "rot-victim"})
    assert shown.body["status"] == "active" and shown.body["scopes"] == [] and _works(invoke, k0)


def test_self_rotation_grace_over_the_maximum_is_422_with_the_field(k0, invoke):
    # When
    reply = _rotate(invoke, k0, "rot-victim", {"grace_seconds": 604800})
    # Then
    assert reply.status == 422 and reply.body["error"]["code"] == "grace_too_long"
    assert [d["field"] for d in reply.body["error"]["details"]] == ["body.grace_seconds"]
    assert "3600" in reply.body["error"]["message"]
    assert _works(invoke, k0)  # nothing rotated
    within = _rotate(invoke, k0, "rot-victim", {"grace_seconds": 3600})
    assert within.status == 200 and within.body["previous_key_valid_until"]


def test_an_admin_may_give_a_longer_grace_to_another_engine(admin, k0, invoke):
    reply = _rotate(invoke, admin, "rot-victim", {"grace_seconds": 86400})
    assert reply.status == 200 and _works(invoke, k0)


def test_an_admin_rotation_with_grace_zero_ends_the_old_key_at_once(admin, k0, invoke):
    # Given: a first rotation left K0 in its grace period
    k1 = ("rot-victim", _rotate(invoke, admin, "rot-victim", {"grace_seconds": 300}).body["engine_key"])
    # When: the admin rotates again, ending the old keys now
    reply = _rotate(invoke, admin, "rot-victim", {"grace_seconds": 0})
    # Then
    assert reply.status == 200 and reply.body["previous_key_valid_until"] is None
    k2 = ("rot-victim", reply.body["engine_key"])
    assert not _works(invoke, k0) and not _works(invoke, k1) and _works(invoke, k2)
