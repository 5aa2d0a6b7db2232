"""The real ``puraify`` command in a subprocess, against the local runner over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.client.mockplane import E2E_ADMIN_KEY

PURAIFY = str(Path(sys.executable).parent / "puraify")


def puraify(
    *args: str, url: str | None, engine: tuple[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PURAIFY_")}
    if url:
        env["PURAIFY_URL"] = url
    if engine:
        env["PURAIFY_ENGINE_ID"], env["PURAIFY_ENGINE_KEY"] = engine
    return subprocess.run([PURAIFY, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def admin(plane):
    return ("admin", E2E_ADMIN_KEY)


@pytest.fixture(scope="module")
def notifier(plane, admin):
    """An engine registered through the CLI itself, allowed slack send_message."""
    done = puraify(
        "--json",
        "engines",
        "register",
        "cli-notifier",
        "-p",
        "slack:send_message",
        "-d",
        "cli test",
        url=plane.base_url,
        engine=admin,
    )
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    assert created["engine_key"].startswith("pfk_")
    return ("cli-notifier", created["engine_key"])


def test_help_lists_commands_and_exit_codes():
    done = puraify("--help", url=None)
    assert done.returncode == 0
    for word in ("engines", "check", "platforms", "flags", "logs", "errors", "alerts", "env", "plan", "Exit codes"):
        assert word in done.stdout
    assert puraify("env", "promote", "--help", url=None).returncode == 0


def test_check_exit_code_is_0_when_allowed_and_3_when_denied(plane, notifier):
    allowed = puraify("check", "slack", "send_message", url=plane.base_url, engine=notifier)
    assert allowed.returncode == 0 and allowed.stdout.startswith("allowed")
    denied = puraify("--json", "check", "slack", "upload_file", url=plane.base_url, engine=notifier)
    assert denied.returncode == 3
    assert json.loads(denied.stdout)["allowed"] is False


def test_register_prints_the_key_once_for_people(plane, admin):
    done = puraify("engines", "register", "cli-human", "-p", "gmail:send_email", url=plane.base_url, engine=admin)
    assert done.returncode == 0
    assert "engine_key" in done.stdout and "pfk_" in done.stdout
    assert "shown once" in done.stderr


def test_platforms_table_and_set_status(plane, admin, notifier):
    listed = puraify("platforms", "list", url=plane.base_url, engine=admin)
    assert listed.returncode == 0
    header, *rows = listed.stdout.splitlines()
    assert header.split()[:3] == ["NAME", "STATUS", "API_VERSION"]
    assert any(row.split()[:2] == ["slack", "available"] for row in rows)

    assert puraify("platforms", "set-status", "slack", "maintenance", url=plane.base_url, engine=admin).returncode == 0
    try:
        denied = puraify("check", "slack", "send_message", url=plane.base_url, engine=notifier)
        assert denied.returncode == 3 and "maintenance" in denied.stdout
    finally:
        puraify("platforms", "set-status", "slack", "available", url=plane.base_url, engine=admin)
    as_json = json.loads(puraify("--json", "platforms", "list", url=plane.base_url, engine=admin).stdout)
    assert next(p for p in as_json if p["name"] == "slack")["actions"]["send_message"]["required_scopes"] == [
        "chat:write"
    ]


def test_flags_set_and_list(plane, admin):
    done = puraify("flags", "set", "cli-freeze", "--off", "--platform", "gmail", url=plane.base_url, engine=admin)
    assert done.returncode == 0 and done.stdout.strip() == "cli-freeze: off"
    flags = json.loads(puraify("--json", "flags", "list", url=plane.base_url, engine=admin).stdout)
    assert {"name": "cli-freeze", "enabled": False, "platform": "gmail"}.items() <= next(
        f for f in flags if f["name"] == "cli-freeze"
    ).items()


def test_invalid_input_exits_7_with_field_details(plane, admin):
    done = puraify("flags", "set", "bad", "--on", "--action", "send_email", url=plane.base_url, engine=admin)
    assert done.returncode == 7
    assert "body.platform" in done.stderr


def test_wrong_key_exits_4_without_echoing_the_key(plane):
    done = puraify("engines", "whoami", url=plane.base_url, engine=("admin", "pfk_wrong-key-that-must-not-be-echoed"))
    assert done.returncode == 4
    assert "401" in done.stderr and "pfk_wrong-key" not in done.stderr + done.stdout


def test_json_errors_are_machine_readable(plane):
    done = puraify("--json", "engines", "rotate", "nobody", url=plane.base_url, engine=("admin", E2E_ADMIN_KEY))
    assert done.returncode == 5
    payload = json.loads(done.stderr)
    assert payload["error"]["status"] == 404 and payload["error"]["error_code"] == "engine_not_found"
    assert payload["request_id"]


def test_unreachable_control_plane_exits_8():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = puraify("engines", "whoami", url=f"http://127.0.0.1:{port}", engine=("admin", "k"))
    assert done.returncode == 8 and "[1003]" in done.stderr


def test_missing_url_exits_2():
    done = puraify("engines", "whoami", url=None, engine=("admin", "k"))
    assert done.returncode == 2 and "PURAIFY_URL" in done.stderr


def test_revoke_asks_first_and_yes_revokes(plane, admin):
    created = json.loads(
        puraify("--json", "engines", "register", "cli-doomed", url=plane.base_url, engine=admin).stdout
    )
    refused = puraify("engines", "revoke", "cli-doomed", url=plane.base_url, engine=admin, stdin="n\n")
    assert refused.returncode == 1
    assert (
        puraify("engines", "whoami", url=plane.base_url, engine=("cli-doomed", created["engine_key"])).returncode == 0
    )
    done = puraify("engines", "revoke", "cli-doomed", "--yes", url=plane.base_url, engine=admin)
    assert done.returncode == 0 and done.stdout.startswith("revoked cli-doomed")
    assert (
        puraify("engines", "whoami", url=plane.base_url, engine=("cli-doomed", created["engine_key"])).returncode == 4
    )


def test_permissions_replace_changes_the_check(plane, admin, notifier):
    done = puraify(
        "engines", "permissions", "cli-notifier", "-p", "slack:upload_file", url=plane.base_url, engine=admin
    )
    assert done.returncode == 0
    assert puraify("check", "slack", "upload_file", url=plane.base_url, engine=notifier).returncode == 0
    assert puraify("check", "slack", "send_message", url=plane.base_url, engine=notifier).returncode == 3
    puraify("engines", "permissions", "cli-notifier", "-p", "slack:send_message", url=plane.base_url, engine=admin)
