"""The bootstrap ``admin``: created when absent, never re-escalated by a restart of the local runner."""

from __future__ import annotations

import os

import httpx
import pytest

from local.runner import LocalControlPlane

ADMIN_KEY = "pfk_boot-admin-key-0123456789abcdefghijklmnopqrstuvw"


def _demote_admin(invoke, admin: tuple[str, str]) -> None:
    """Another admin (the last one cannot lose the scope) takes ``admin`` down to ``logs:read`` and one project."""
    ops = invoke("register/register", engine=admin, body={"engine_id": "ops", "scopes": ["admin"], "projects": ["*"]})
    assert ops.status == 201, ops.body
    demoted = invoke(
        "register/permissions",
        engine=("ops", ops.body["engine_key"]),
        path_params={"engine_id": "admin"},
        body={"permissions": {}, "scopes": ["logs:read"], "projects": ["shop"]},
    )
    assert demoted.status == 200, demoted.body


def _admin_record(engines):
    from puraify.engine_control.bootstrap import ADMIN_ID

    return engines.get(ADMIN_ID)


def test_ensure_admin_keeps_a_demoted_admin_demoted(aws, admin_key, invoke):
    from puraify import wiring
    from puraify.auth import hash_key
    from puraify.engine_control.bootstrap import ensure_admin

    # Given an admin demoted through the API
    _demote_admin(invoke, ("admin", admin_key))
    engines = wiring.current().engines
    # When the runner starts again without PURAIFY_ADMIN_KEY
    shown, created = ensure_admin(engines, None)
    # Then nothing changes: no key shown, the scopes and projects the admins set stay
    record = _admin_record(engines)
    assert (shown, created) == (None, False)
    assert record.scopes == ["logs:read"] and record.projects == ["shop"]
    # And with PURAIFY_ADMIN_KEY (a new one): only the key changes
    new_key = "pfk_boot-admin-key-rotated-0123456789abcdefghijklmn"
    shown, created = ensure_admin(engines, new_key)
    record = _admin_record(engines)
    assert (shown, created) == (new_key, False)
    assert record.key_hash == hash_key(new_key)
    assert record.scopes == ["logs:read"] and record.projects == ["shop"]


def test_ensure_admin_creates_admin_with_every_scope_and_project_when_absent(aws):
    from puraify import wiring
    from puraify.engine_control.bootstrap import ensure_admin

    engines = wiring.current().engines
    shown, created = ensure_admin(engines, None)
    assert created and shown and shown.startswith("pfk_")
    record = _admin_record(engines)
    assert record.scopes == ["admin"] and record.projects == ["*"]
    assert ensure_admin(engines, None) == (None, False)  # a second start shows no key


@pytest.fixture
def environ():
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.mark.parametrize("restart_key", [None, ADMIN_KEY], ids=["without-key", "with-key"])
def test_runner_restart_does_not_give_admin_back_its_scope(moto_endpoint, environ, restart_key):
    # Given a runner whose admin another admin demoted to logs:read
    prefix = f"boot{'k' if restart_key else 'n'}-"
    first = LocalControlPlane(port=0, endpoint_url=moto_endpoint, admin_key=ADMIN_KEY, prefix=prefix, schedules=False)
    first.start()
    try:
        with httpx.Client(base_url=first.base_url, timeout=30) as http:
            admin = {"X-Engine-ID": "admin", "X-Engine-Key": ADMIN_KEY}
            ops = http.post("/engines/register", headers=admin, json={"engine_id": "ops", "scopes": ["admin"]})
            ops_headers = {"X-Engine-ID": "ops", "X-Engine-Key": ops.json()["engine_key"]}
            demoted = http.put(
                "/engines/admin/permissions", headers=ops_headers, json={"permissions": {}, "scopes": ["logs:read"]}
            )
            assert demoted.status_code == 200, demoted.text
    finally:
        first.stop()
    # When it starts again (with or without PURAIFY_ADMIN_KEY)
    again = LocalControlPlane(port=0, endpoint_url=moto_endpoint, admin_key=restart_key, prefix=prefix, schedules=False)
    again.start()
    try:
        # Then admin is still demoted: it may read logs but not register engines
        with httpx.Client(base_url=again.base_url, timeout=30) as http:
            admin = {"X-Engine-ID": "admin", "X-Engine-Key": ADMIN_KEY}
            me = http.post("/engines/validate", headers=admin)
            assert me.status_code == 200 and me.json()["scopes"] == ["logs:read"]
            refused = http.post("/engines/register", headers=admin, json={"engine_id": "sneaky"})
            assert refused.status_code == 403
        assert again.admin_key_shown is None
        if restart_key:
            assert any("does not hold the 'admin' scope" in note for note in again.notes)
    finally:
        again.stop()
