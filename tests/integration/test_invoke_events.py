"""``make invoke``: every event in events/ through the same code path, and the ``sam local`` recipe."""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator

import pytest

from local import invoke
from local.runner import LocalControlPlane
from local.template import ROOT, Template

EVENTS = sorted((ROOT / "events").rglob("*.json"))
INVOKE_ADMIN_KEY = "pfk_invoke-admin-key-0123456789abcdefghijklmnopqrs"


@pytest.fixture(scope="module")
def running(moto_endpoint: str) -> Iterator[str]:
    """What ``make run`` leaves behind: the template's resources (no prefix), admin, catalog and gate."""
    saved = dict(os.environ)
    plane = LocalControlPlane(port=0, endpoint_url=moto_endpoint, admin_key=INVOKE_ADMIN_KEY, schedules=False)
    plane.start()
    plane.stop()  # only its state is needed: make invoke calls the handlers itself
    os.environ.clear()
    os.environ.update(saved)
    yield moto_endpoint
    os.environ.clear()
    os.environ.update(saved)


def _make_invoke(function: str, event: str, environ: dict[str, str], monkeypatch) -> tuple[int, str]:
    for name in ("PURAIFY_ENGINE_ID", "PURAIFY_ENGINE_KEY", "PURAIFY_ADMIN_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = invoke.main([function, event])
    return code, out.getvalue()


@pytest.mark.parametrize("path", EVENTS, ids=[str(p.relative_to(ROOT / "events")) for p in EVENTS])
def test_every_event_runs_through_make_invoke(running, path, monkeypatch):
    # Given: an event of events/ (placeholder credentials) and its function, found by folder name
    event = json.loads(path.read_text())
    function = invoke.find_function(Template(), path.parent.name)
    # When: invoked the way `make invoke FUNCTION=... EVENT=...` does, against the running endpoint
    env = {"AWS_ENDPOINT_URL": running, "PURAIFY_ADMIN_KEY": INVOKE_ADMIN_KEY}
    code, printed = _make_invoke(function.logical_id, str(path), env, monkeypatch)
    # Then: one JSON document on stdout, the Lambda's response; the credentials were accepted
    assert code == 0
    result = json.loads(printed)
    if "routeKey" in event:
        assert result["statusCode"] < 500, result
        assert result["statusCode"] != 401, "the placeholder credentials were not replaced"
        if result["statusCode"] >= 400:
            assert set(json.loads(result["body"])) == {"error", "request_id"}


def test_credentials_come_from_the_named_engine(monkeypatch):
    event = json.loads((ROOT / "events" / "check" / "check.json").read_text())
    monkeypatch.setenv("PURAIFY_ENGINE_ID", "mailer")
    monkeypatch.setenv("PURAIFY_ENGINE_KEY", "pfk_mailer")
    swapped = invoke.with_credentials(event, invoke.credentials(os.environ))
    assert swapped["headers"]["x-engine-id"] == "mailer" and swapped["headers"]["x-engine-key"] == "pfk_mailer"
    monkeypatch.delenv("PURAIFY_ENGINE_KEY")
    monkeypatch.setenv("PURAIFY_ADMIN_KEY", "pfk_admin")
    assert invoke.credentials(os.environ) == invoke.Credentials("admin", "pfk_admin")
    monkeypatch.delenv("PURAIFY_ADMIN_KEY")
    with pytest.raises(SystemExit, match="PURAIFY_ADMIN_KEY"):
        invoke.credentials(os.environ)


def test_an_unknown_function_names_the_ones_there_are():
    with pytest.raises(SystemExit, match="CheckFunction"):
        invoke.find_function(Template(), "ChekFunction")


def test_the_sam_env_vars_file_matches_the_template_and_never_reaches_real_aws():
    committed = json.loads(invoke.SAM_ENV_VARS.read_text())
    assert committed == invoke.sam_env_vars(), "run: .venv/bin/python -m local.invoke --write-sam-env-vars"
    parameters = committed["Parameters"]
    assert parameters["PURAIFY_AWS_ENDPOINT_URL"] == "http://host.docker.internal:4566"
    declared = Template().body["Globals"]["Function"]["Environment"]["Variables"]
    assert declared["PURAIFY_AWS_ENDPOINT_URL"] == ""  # declared, so --env-vars may set it
    assert all("amazonaws.com" not in str(v) for v in parameters.values())


def test_the_readmes_invoke_example_is_allowed_with_no_server_running():
    # Given a fresh process with no AWS endpoint named and nothing where make run's would be
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        nothing = str(s.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PURAIFY_"))}
    env.update(PURAIFY_AWS_PORT=nothing, PURAIFY_DYNAMODB_PORT=nothing)
    # When the README's example runs: make invoke FUNCTION=CheckFunction EVENT=events/check/check.json
    done = subprocess.run(
        [sys.executable, "-m", "local.invoke", "CheckFunction", "events/check/check.json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    # Then the check of engine `action` is decided and allowed
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["statusCode"] == 200, result
    assert json.loads(result["body"])["allowed"] is True
    assert "engine 'action'" in done.stderr
