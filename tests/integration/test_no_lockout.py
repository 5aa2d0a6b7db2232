"""No lockout: through the real handlers, and a runner whose PURAIFY_ADMIN_KEY does not authenticate."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from local.runner import LocalControlPlane
from local.template import ROOT


@pytest.fixture
def admin(admin_key: str) -> tuple[str, str]:
    return ("admin", admin_key)


def test_revoking_or_demoting_the_last_admin_is_409_and_it_keeps_working(aws, admin, invoke):
    revoked = invoke("register/revoke", engine=admin, path_params={"engine_id": "admin"})
    assert revoked.status == 409 and revoked.body["error"]["code"] == "last_admin"
    demoted = invoke(
        "register/permissions", engine=admin, path_params={"engine_id": "admin"}, body={"permissions": {}, "scopes": []}
    )
    assert demoted.status == 409 and demoted.body["error"]["code"] == "last_admin"
    assert invoke("register/validate", engine=admin).body["scopes"] == ["admin"]


def test_with_a_second_admin_the_first_can_be_revoked_then_the_second_is_last(aws, admin, invoke):
    second = invoke("register/register", engine=admin, body={"engine_id": "ops", "scopes": ["admin"]}).body
    ops = ("ops", second["engine_key"])
    assert invoke("register/revoke", engine=ops, path_params={"engine_id": "admin"}).status == 200
    last = invoke("register/revoke", engine=ops, path_params={"engine_id": "ops"})
    assert last.status == 409 and last.body["error"]["code"] == "last_admin"
    assert invoke("register/validate", engine=ops).status == 200


def _revoke_admin_behind_a_second_admin(moto_endpoint: str, key: str, prefix: str) -> None:
    """A kept store where engine ``admin`` was revoked by another admin (allowed: it was not the last)."""
    from puraify.engine_control.models import EngineRegisterRequest

    saved = dict(os.environ)
    plane = LocalControlPlane(port=0, endpoint_url=moto_endpoint, admin_key=key, prefix=prefix, schedules=False)
    try:
        plane.start()
        from puraify import wiring
        from puraify.auth import Principal

        control = wiring.current().engine_control
        admin, ops = (Principal(engine_id=e, scopes=frozenset({"admin"})) for e in ("admin", "ops"))
        control.register(admin, EngineRegisterRequest(engine_id="ops", scopes=["admin"]), "r1")
        control.revoke(ops, "admin", "r2")
    finally:
        plane.stop()
        os.environ.clear()
        os.environ.update(saved)


def test_runner_start_with_a_revoked_admin_stops_with_the_reason(moto_endpoint):
    key = "pfk_lockout-admin-key-0123456789abcdefghijklmnopq"
    _revoke_admin_behind_a_second_admin(moto_endpoint, key, "lock1-")
    saved = dict(os.environ)
    again = LocalControlPlane(port=0, endpoint_url=moto_endpoint, admin_key=key, prefix="lock1-", schedules=False)
    try:
        with pytest.raises(SystemExit) as stopped:
            again.start()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert "revoked" in str(stopped.value.code)


def test_make_run_with_a_revoked_admin_exits_non_zero_and_never_says_ready(moto_endpoint):
    # The runner itself, as `make run` starts it, on a kept (unprefixed) store of its own endpoint
    from local.runner import start_moto

    server = start_moto(port=0)
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    key = "pfk_lockout-admin-key-abcdefghijklmnopqrstuvwxyz012345"
    try:
        _revoke_admin_behind_a_second_admin(endpoint, key, "")
        done = subprocess.run(  # noqa: S603 - our own runner
            [sys.executable, "-m", "local.runner"],
            cwd=ROOT,
            env={**os.environ, "PURAIFY_ADMIN_KEY": key, "PURAIFY_PORT": "0", "AWS_ENDPOINT_URL": endpoint},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.stop()
    assert done.returncode != 0
    assert "ready" not in done.stdout
    assert "admin" in done.stderr and "revoked" in done.stderr
