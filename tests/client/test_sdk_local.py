"""The SDK as an engine team meets it: keys as returned, bad arguments, a Unix socket, options, logs."""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

import puraify_client as pc
from local.runner import LocalControlPlane
from tests.client.conftest import plane_on_socket
from tests.client.mockplane import E2E_ADMIN_KEY

_ids = itertools.count(1)


@pytest.fixture(scope="module")
def socket_plane(moto_endpoint: str) -> Iterator[LocalControlPlane]:
    """The local runner serving both 127.0.0.1 and a Unix domain socket (``PURAIFY_SOCKET``)."""
    with plane_on_socket(moto_endpoint, "sock") as local:
        yield local


async def test_the_key_register_returns_is_accepted_as_is(socket_plane):
    async with pc.ControlPlane(socket_plane.base_url, "admin", SecretStr(E2E_ADMIN_KEY)) as admin:
        created = await admin.engines.register(f"secret-{next(_ids)}", permissions={"gmail": ["send_email"]})
    async with pc.ControlPlane(socket_plane.base_url, created.engine_id, created.engine_key) as engine:
        assert (await engine.engines.validate()).engine_id == created.engine_id


async def test_a_misspelt_keyword_or_bad_value_is_an_sdk_error_and_nothing_is_sent(socket_plane):
    sent: list[httpx.Request] = []
    http = httpx.AsyncClient(base_url=socket_plane.base_url, event_hooks={"request": [sent.append]})
    async with pc.ControlPlane(socket_plane.base_url, "admin", E2E_ADMIN_KEY, http=http) as cp:
        with pytest.raises(pc.InvalidArgumentError) as misspelt:
            await cp.engines.register("x", permisions={"gmail": ["send_email"]})  # type: ignore[call-arg]
        with pytest.raises(pc.InvalidArgumentError) as bad_value:
            await cp.engines.register("Not An Id")
        with pytest.raises(pc.PuraifyClientError):
            cp.monitoring.iter_logs()  # type: ignore[call-arg]
    assert "permisions" in str(misspelt.value) and misspelt.value.code == 1009
    assert bad_value.value.details[0]["field"] == "engine_id"
    assert not isinstance(bad_value.value, pc.ValidationError)  # not the server's 422
    assert sent == []


async def test_the_sdk_talks_over_the_runners_unix_socket(socket_plane):
    path = socket_plane.socket_path
    assert path and oct(os.stat(path).st_mode & 0o777) == "0o600"
    async with pc.ControlPlane(socket_path=path, engine_id="admin", engine_key=E2E_ADMIN_KEY) as cp:
        assert (await cp.engines.validate()).engine_id == "admin"
        decision = await cp.actions.check("gmail", "send_email")
        assert decision.request_id
    async with pc.ControlPlane(f"unix://{path}", "admin", E2E_ADMIN_KEY) as cp:
        assert (await cp.config.health()).status == "ok"
    with pc.SyncControlPlane(socket_path=path, engine_id="admin", engine_key=E2E_ADMIN_KEY) as sync:
        assert sync.engines.validate().engine_id == "admin"


async def test_with_options_changes_timeout_and_retries_for_one_call_site(socket_plane):
    async with pc.ControlPlane(socket_plane.base_url, "admin", E2E_ADMIN_KEY) as cp:
        quick = cp.with_options(timeout=0.5, max_retries=0)
        assert quick.transport.retry.retries == 0 and cp.transport.retry.retries == 3
        assert quick.transport.http is cp.transport.http  # one pool
        async with quick:
            assert (await quick.engines.validate()).valid
        assert (await cp.engines.validate()).valid  # closing the copy left the pool open
        with pytest.raises(pc.InvalidArgumentError):
            cp.with_options(timeout=0)


async def test_debug_logs_name_requests_never_the_key(socket_plane, caplog):
    caplog.set_level(logging.DEBUG, logger="puraify_client")
    async with pc.ControlPlane(socket_plane.base_url, "admin", E2E_ADMIN_KEY) as cp:
        await cp.engines.validate()
        with pytest.raises(pc.NotFoundError):
            await cp.engines.get("nobody-here")
    lines = [r.getMessage() for r in caplog.records if r.name == "puraify_client"]
    assert any(line.startswith("POST /engines/validate -> 200 in ") for line in lines), lines
    assert any("GET /engines/nobody-here -> 404" in line for line in lines)
    assert E2E_ADMIN_KEY not in "\n".join(caplog.text.splitlines())


def test_puraify_log_debug_turns_the_logs_on(socket_plane, tmp_path):
    import subprocess
    import sys

    script = (
        "import puraify_client as pc\n"
        f"with pc.SyncControlPlane({socket_plane.base_url!r}, 'admin', {E2E_ADMIN_KEY!r}) as cp:\n"
        "    cp.engines.validate()\n"
    )
    env = {**os.environ, "PURAIFY_LOG": "debug"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "puraify_client DEBUG POST /engines/validate -> 200" in done.stderr
    assert E2E_ADMIN_KEY not in done.stderr
    quiet = subprocess.run(
        [sys.executable, "-c", script], env={**env, "PURAIFY_LOG": ""}, capture_output=True, text=True, timeout=60
    )
    assert quiet.returncode == 0 and quiet.stderr == ""


async def test_a_retried_promotion_with_its_key_moves_the_target_once(socket_plane):
    async with pc.ControlPlane(socket_plane.base_url, "admin", E2E_ADMIN_KEY) as cp:
        project = f"pf-idem-{next(_ids)}"
        await cp.env.publish_version(project, {"entities": ["Lead"]})
        await cp.env.create(project, "staging")
        body = {"project_id": project, "source_env": "development", "target_env": "staging"}
        headers = {"Idempotency-Key": f"promote-{project}"}
        http = cp.transport.http
        first = await http.post("/env/promote", json=body, headers=headers)
        second = await http.post("/env/promote", json=body, headers=headers)
        assert first.status_code == 200, first.text
        assert second.json() == first.json() and second.headers.get("Idempotent-Replayed") == "true"
        history = await cp.env.history(project, "staging")
        assert len([h for h in history.entries if h.action == "promote"]) == 1
        other = await http.post("/env/promote", json={**body, "target_env": "production"}, headers=headers)
        assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
