"""The real ``puraify`` command in a subprocess, against the local runner over HTTP."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import puraify_client as pc
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
    """An engine registered through the CLI itself, allowed slack send_message, to log and to report."""
    done = puraify(
        "--json",
        "engines",
        "register",
        "cli-notifier",
        "-p",
        "slack:send_message",
        "-s",
        "logs:write",
        "-s",
        "report",
        "--project",
        "*",
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


def test_every_command_help_keeps_its_example_lines():
    """click keeps a paragraph's lines only after a line that is the backspace character alone; a docstring that
    spells it as a backslash and a b prints both and runs the examples into one paragraph."""
    import click
    from click.testing import CliRunner

    from puraify_client.cli import main

    def commands(group: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        found = [path]
        for name, command in getattr(group, "commands", {}).items():
            found += commands(command, (*path, name))
        return found

    walked = commands(main)
    assert len(walked) > 40
    kept = 0
    for path in walked:
        command = main
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        shown = CliRunner().invoke(main, [*path, "--help"])
        assert shown.exit_code == 0, path
        assert "\\b" not in shown.output, path
        printed = {line.strip() for line in shown.output.splitlines()}
        for block in (command.help or "").split("\b\n")[1:]:  # each line of a kept paragraph is printed as it is
            for line in block.split("\n\n")[0].splitlines():
                assert line.strip() in printed, (path, line)
                kept += 1
    assert kept > 40


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


def test_json_errors_are_the_apis_envelope_with_the_exit_code_beside_it(plane):
    done = puraify("--json", "engines", "rotate", "nobody", url=plane.base_url, engine=("admin", E2E_ADMIN_KEY))
    assert done.returncode == 5
    payload = json.loads(done.stderr)
    assert payload["error"]["code"] == "engine_not_found" and payload["error"]["message"]
    assert payload["error"]["details"] == []
    assert payload["exit_code"] == 5 and payload["status"] == 404 and payload["request_id"]
    offline = puraify("--json", "engines", "whoami", url="http://127.0.0.1:1", engine=("admin", "k"))
    envelope = json.loads(offline.stderr)
    assert envelope["error"]["code"] == "connection_failed" and envelope["exit_code"] == offline.returncode == 8


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


def test_engines_list_and_show_name_every_detail(plane, admin, notifier):
    assert puraify("check", "slack", "send_message", url=plane.base_url, engine=notifier).returncode == 0
    listed = puraify("engines", "list", url=plane.base_url, engine=admin)
    assert listed.returncode == 0, listed.stderr
    assert "cli-notifier" in listed.stdout and "slack:send_message" in listed.stdout
    shown = puraify("engines", "show", "cli-notifier", url=plane.base_url, engine=admin)
    assert shown.returncode == 0, shown.stderr
    lines = dict(line.split(None, 1) for line in shown.stdout.splitlines())
    assert lines["status"] == "active" and lines["description"] == "cli test"
    assert lines["last_seen_at"].startswith("20")
    as_json = json.loads(puraify("--json", "engines", "show", "cli-notifier", url=plane.base_url, engine=admin).stdout)
    assert "key_hash" not in as_json and as_json["permissions"] == {"slack": ["send_message"]}
    missing = puraify("engines", "show", "nobody", url=plane.base_url, engine=admin)
    assert missing.returncode == 5


def test_permissions_replace_changes_the_check(plane, admin, notifier):
    done = puraify(
        "engines", "permissions", "cli-notifier", "-p", "slack:upload_file", url=plane.base_url, engine=admin
    )
    assert done.returncode == 0
    assert puraify("check", "slack", "upload_file", url=plane.base_url, engine=notifier).returncode == 0
    assert puraify("check", "slack", "send_message", url=plane.base_url, engine=notifier).returncode == 3
    puraify("engines", "permissions", "cli-notifier", "-p", "slack:send_message", url=plane.base_url, engine=admin)


def test_limits_expiry_suspension_through_the_cli(plane, admin):
    # Given: an engine registered with an expiry and its own limit
    done = puraify(
        "--json", "engines", "register", "cli-contained", "-p", "slack:send_message",
        "--expires-at", "2099-01-31T00:00:00Z", "--rate", "2", "--burst", "3",
        url=plane.base_url, engine=admin,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    engine = ("cli-contained", created["engine_key"])
    assert created["expires_at"].startswith("2099-01-31") and created["rate_limit"]["burst"] == 3
    listed = puraify("engines", "list", url=plane.base_url, engine=admin).stdout
    assert "2/s burst 3" in listed and "2099-01-31" in listed
    # When: its limit is changed, it is suspended, then reinstated
    changed = puraify("--json", "engines", "set-limit", "cli-contained", "--rate", "1", "--burst", "1",
                      url=plane.base_url, engine=admin)  # fmt: skip
    assert changed.returncode == 0 and json.loads(changed.stdout)["rate_limit"]["burst"] == 1
    assert json.loads(changed.stdout)["permissions"] == {"slack": ["send_message"]}  # kept
    suspended = puraify("engines", "suspend", "cli-contained", "--reason", "cli test", "--yes",
                        url=plane.base_url, engine=admin)  # fmt: skip
    assert suspended.returncode == 0 and "suspended cli-contained" in suspended.stdout
    refused = puraify("--json", "engines", "whoami", url=plane.base_url, engine=engine)
    assert refused.returncode == 4 and json.loads(refused.stderr)["error"]["code"] == "engine_suspended"
    assert "suspended" in puraify("engines", "list", url=plane.base_url, engine=admin).stdout
    assert puraify("engines", "reinstate", "cli-contained", url=plane.base_url, engine=admin).returncode == 0
    assert puraify("engines", "whoami", url=plane.base_url, engine=engine).returncode == 0
    back = puraify("--json", "engines", "set-limit", "cli-contained", "--default", url=plane.base_url, engine=admin)
    assert back.returncode == 0 and json.loads(back.stdout)["rate_limit"] is None
    # And: the last admin cannot be suspended
    last = puraify("engines", "suspend", "admin", "--reason", "x", "--yes", url=plane.base_url, engine=admin)
    assert last.returncode != 0 and "last_admin" in last.stderr + last.stdout


# --- Monitoring and Planning commands ------------------------------------------------------------------


@pytest.fixture(scope="module")
def logged(plane, notifier):
    """A project with 3 successes and 2 timeouts, logged by the notifier engine through the SDK."""
    project = "pf-cli-logs"
    events = [
        {"project_id": project, "event_type": "execution", "engine": "execution", "platform": "slack",
         "action": "send_message", "status": "success", "duration_ms": 100 + i, "event_id": f"cli-ok-{i}",
         "timestamp": f"2025-07-25T14:0{i}:00Z"}
        for i in range(3)
    ] + [
        {"project_id": project, "event_type": "execution", "engine": "execution", "platform": "slack",
         "action": "send_message", "status": "error", "error_type": "api_timeout",
         "message": f"request 12{i} timed out", "event_id": f"cli-err-{i}", "timestamp": f"2025-07-25T14:1{i}:00Z"}
        for i in range(2)
    ]  # fmt: skip
    with pc.SyncControlPlane(plane.base_url, *notifier) as cp:
        assert cp.monitoring.log_batch(events).accepted == 5
    return project


def test_logs_query_pages_and_prints_json(plane, admin, logged):
    done = puraify("--json", "logs", "query", "--project", logged, "--since", "2025-07-25T00:00:00Z", "--all",
                   "--limit", "2", url=plane.base_url, engine=admin)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(e["event_id"] for e in json.loads(done.stdout)) == [
        "cli-err-0", "cli-err-1", "cli-ok-0", "cli-ok-1", "cli-ok-2"
    ]  # fmt: skip
    table = puraify("logs", "query", "--project", logged, "--since", "2025-07-25T00:00:00Z", "--status", "error",
                    url=plane.base_url, engine=admin)  # fmt: skip
    header, *rows = table.stdout.splitlines()
    assert header.startswith("TIMESTAMP") and len(rows) == 2 and all("error" in r for r in rows)


def test_logs_query_without_scope_exits_4(plane, notifier, logged):
    done = puraify("logs", "query", "--project", logged, url=plane.base_url, engine=notifier)
    assert done.returncode == 4 and "logs:read" in done.stderr


def test_errors_and_stats_tables(plane, admin, logged):
    errors = puraify("errors", "--project", logged, "--since", "2025-07-25T00:00:00Z", url=plane.base_url, engine=admin)
    assert errors.returncode == 0, errors.stderr
    header, row = errors.stdout.splitlines()
    assert row.split()[:2] == ["2", "high"] or row.split()[0] == "2"
    assert "api_timeout" in row
    stats = puraify(
        "--json", "stats", "--project", logged, "--since", "2025-07-25T00:00:00Z", url=plane.base_url, engine=admin
    )
    row = json.loads(stats.stdout)["stats"][0]
    assert (row["platform"], row["count"], row["errors"]) == ("slack", 5, 2)


def test_overview_prints_checks_and_a_projects_error_groups(plane, admin, notifier):
    project = "pf-cli-overview"
    failures = [{"project_id": project, "event_type": "execution", "engine": "cli-notifier", "platform": "slack",
                 "action": "send_message", "status": "error", "error_type": "rate_limited",
                 "message": f"429 from slack ({i})"} for i in range(3)]  # fmt: skip
    with pc.SyncControlPlane(plane.base_url, *notifier) as cp:
        assert cp.monitoring.log_batch(failures).accepted == 3

    done = puraify("overview", "--project", project, url=plane.base_url, engine=admin)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^checks: [\d,]+ allowed, [\d,]+ denied, [\d,]+ failed$", done.stdout, re.M)
    assert f"project {project}: 3 events, 3 errors" in done.stdout
    group = next(line for line in done.stdout.splitlines() if "rate_limited" in line)
    assert group.split()[0] == "3" and "slack" in group.split()
    data = json.loads(puraify("--json", "overview", "--project", project, url=plane.base_url, engine=admin).stdout)
    assert data["project"]["totals"] == {"events": 3, "errors": 3}
    assert sum(data["project"]["error_groups"][0]["trend"]) == 3
    assert set(data["checks"]["totals"]) == {"allowed", "denied", "failed"}

    whole = puraify("overview", url=plane.base_url, engine=admin)
    assert whole.returncode == 0 and "top deny rules:" in whole.stdout and "project " not in whole.stdout
    backwards = puraify("overview", "--since", "2026-01-02T00:00:00Z", "--until", "2026-01-01T00:00:00Z",
                        url=plane.base_url, engine=admin)  # fmt: skip
    assert backwards.returncode == 7 and "since must be before until" in backwards.stderr
    unread = puraify("overview", "--project", project, url=plane.base_url, engine=notifier)
    assert unread.returncode == 4 and "logs:read" in unread.stderr


def test_overview_of_the_last_24_hours_absolute_or_relative_succeeds(plane, admin):
    import time

    day_ago = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 24 * 3600))
    for since in (day_ago, "24h", "1h"):
        done = puraify("--json", "overview", "--since", since, url=plane.base_url, engine=admin)
        assert done.returncode == 0, (since, done.stderr)
        answer = json.loads(done.stdout)
        assert answer["since"] < answer["until"]


def test_deployments_lists_publish_and_promotion_markers_newest_first(plane, admin):
    project = "pf-cli-deploys"
    with pc.SyncControlPlane(plane.base_url, *admin) as cp:
        cp.env.publish_version(project, {"entities": ["Lead"], "flows": {"submit": {"steps": 1}}})
        cp.env.create(project, "staging", base_from="development")
        cp.env.publish_version(project, {"entities": ["Lead", "Deal"], "flows": {"submit": {"steps": 2}}})
        cp.env.promote(project, "development", "staging")

    done = puraify("deployments", "--project", project, url=plane.base_url, engine=admin)
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split()[:4] == ["CREATED_AT", "ENVIRONMENT", "ACTION", "VERSION"]
    assert rows and rows[0].split()[1:5] == ["staging", "promote", "v1.1.0", "v1.0.0"]
    staging = json.loads(puraify("--json", "deployments", "--project", project, "--environment", "staging",
                                 url=plane.base_url, engine=admin).stdout)  # fmt: skip
    assert staging["deployments"] and {d["environment"] for d in staging["deployments"]} == {"staging"}
    none = puraify("deployments", "--project", project, "--environment", "production", url=plane.base_url,
                   engine=admin)  # fmt: skip
    assert none.returncode == 0 and none.stdout.strip() == "(no deployments)"


def test_logs_tail_prints_recent_then_new_events(plane, admin, notifier, logged):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PURAIFY_")}
    env |= {"PURAIFY_URL": plane.base_url, "PURAIFY_ENGINE_ID": admin[0], "PURAIFY_ENGINE_KEY": admin[1]}
    tail = subprocess.Popen(
        [PURAIFY, "--json", "logs", "tail", "--project", logged, "--lines", "2", "--count", "3", "--interval", "0.2",
         "--for", "30"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = [json.loads(tail.stdout.readline()) for _ in range(2)]
        with pc.SyncControlPlane(plane.base_url, *notifier) as cp:
            cp.monitoring.log(project_id=logged, event_type="execution", status="success", event_id="cli-live-1")
        out, _ = tail.communicate(timeout=30)
    finally:
        tail.kill()
    assert tail.returncode == 0
    assert [e["event_id"] for e in first] == ["cli-err-0", "cli-err-1"]  # the 2 newest, oldest first
    assert json.loads(out.splitlines()[0])["event_id"] == "cli-live-1"


def test_alert_send(plane, admin):
    done = puraify("alerts", "send", "token expired", "--project", "pf-cli-alert", "--severity", "high",
                   url=plane.base_url, engine=admin)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("alert ")


def test_alerts_list_ack_and_resolve(plane, admin, notifier):
    # Given a burst of 20 identical errors: one critical alert
    project = "pf-cli-burst"
    events = [
        {"project_id": project, "engine": "execution", "platform": "Slack", "status": "error",
         "error_type": "api_timeout", "message": f"Slack API timed out after 3000 ms (request {i:04x}ab)"}
        for i in range(20)
    ]  # fmt: skip
    with pc.SyncControlPlane(plane.base_url, *notifier) as cp:
        assert cp.monitoring.log_batch(events).accepted == 20
    listed = puraify("--json", "alerts", "list", "--project", project, "--status", "open", url=plane.base_url,
                     engine=admin)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    [alert] = json.loads(listed.stdout)
    assert alert["severity"] == "critical" and alert["raised_by"] == "monitoring"
    # When acknowledged, then acknowledged again, then resolved
    ack = puraify("alerts", "ack", alert["alert_id"], "--reason", "on it", url=plane.base_url, engine=admin)
    again = puraify("--json", "alerts", "ack", alert["alert_id"], url=plane.base_url, engine=admin)
    done = puraify("--json", "alerts", "resolve", alert["alert_id"], url=plane.base_url, engine=admin)
    # Then
    assert ack.returncode == 0 and ack.stdout.strip() == f"alert {alert['alert_id']}: acknowledged by admin"
    assert again.returncode == 6 and "acknowledged" in again.stderr
    assert done.returncode == 0 and json.loads(done.stdout)["status"] == "resolved"
    table = puraify("alerts", "list", "--project", project, url=plane.base_url, engine=admin)
    header, row, *rest = table.stdout.splitlines()  # the message wraps onto continuation lines, whole
    assert header.startswith("CREATED_AT") and "resolved" in row and "critical" in row
    assert all(not line[: header.index("STATUS")].strip() for line in rest)
    denied = puraify("alerts", "resolve", alert["alert_id"], url=plane.base_url, engine=notifier)
    assert denied.returncode == 4 and "alerts:manage" in denied.stderr


def test_plan_publish_decide_and_read_the_audit(plane, admin):
    bundle = str(Path(__file__).resolve().parents[2] / "policies" / "gate")
    published = puraify("plan", "publish", bundle, "--revision", "cli-gate-1", url=plane.base_url, engine=admin)
    assert published.returncode == 0, published.stderr
    assert published.stdout.startswith("cli-gate-1: published")
    policy = json.loads(puraify("--json", "plan", "policy", url=plane.base_url, engine=admin).stdout)
    assert policy["revision"] == "cli-gate-1"

    decided = puraify("--json", "plan", "decide", "deployment-cli-1", "production", "--project", "pf-cli-plan",
                      url=plane.base_url, engine=admin)  # fmt: skip
    decision = json.loads(decided.stdout)
    assert decided.returncode == (0 if decision["allow"] else 3)
    assert decision["policy"]["revision"] == "cli-gate-1"
    audit = json.loads(
        puraify(
            "--json", "plan", "decisions", "--deployment", "deployment-cli-1", url=plane.base_url, engine=admin
        ).stdout
    )
    assert audit[0]["decision_id"] == decision["decision_id"]


def test_plan_publish_of_the_shipped_folder_again_is_200_and_reactivates_it(plane, admin):
    # Given: the runner published policies/gate (gate-1) at start; another revision is active now
    bundle = Path(__file__).resolve().parents[2] / "policies" / "gate"
    other = puraify("plan", "publish", str(bundle), "--revision", "cli-gate-other", url=plane.base_url, engine=admin)
    assert other.returncode == 0, other.stderr
    # When: the shipped folder is published again, byte for byte
    again = puraify("--json", "plan", "publish", str(bundle), url=plane.base_url, engine=admin)
    # Then: the same revision, not a conflict, and it is the active one again
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert result["revision"] == "gate-1" and result["created"] is False
    policy = json.loads(puraify("--json", "plan", "policy", url=plane.base_url, engine=admin).stdout)
    assert policy["revision"] == "gate-1"
    assert policy["files"]["gate.rego"] == hashlib.sha256((bundle / "gate.rego").read_bytes()).hexdigest()


def test_plan_publish_of_a_broken_bundle_exits_7(plane, admin, tmp_path):
    (tmp_path / "gate.rego").write_text("package gate\nthis is not rego\n")
    done = puraify("plan", "publish", str(tmp_path), "--revision", "cli-broken", url=plane.base_url, engine=admin)
    assert done.returncode == 7 and "bundle" in done.stderr


def test_env_create_promote_history_compare_rollback(plane, admin):
    project = "pf-cli-env"
    with pc.SyncControlPlane(plane.base_url, *admin) as cp:
        cp.env.publish_version(project, {"entities": ["Lead"], "flows": {"submit": {"steps": 1}}})
    created = puraify("env", "create", project, "staging", "--from", "development", "--var", "BASE_URL=https://s",
                      "--secret", "WEBHOOK=hush", url=plane.base_url, engine=admin)  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "hush" not in created.stdout and "env_created" in created.stdout
    with pc.SyncControlPlane(plane.base_url, *admin) as cp:
        cp.env.publish_version(project, {"entities": ["Lead", "Notification"], "flows": {"submit": {"steps": 2}}})

    promoted = puraify("env", "promote", project, "development", "staging", url=plane.base_url, engine=admin)
    assert promoted.returncode == 0, promoted.stderr
    assert promoted.stdout.splitlines()[0] == "staging: v1.0.0 -> v1.1.0 (ready_for_deploy)"
    assert "Notification" in promoted.stdout

    conflict = puraify("env", "promote", project, "staging", "staging", url=plane.base_url, engine=admin)
    assert conflict.returncode == 6 and "same_environment" in conflict.stderr

    history = puraify("env", "history", project, "staging", url=plane.base_url, engine=admin)
    header, *rows = history.stdout.splitlines()
    assert header.split()[:3] == ["REVISION", "TIMESTAMP", "ACTION"]
    assert [r.split()[2] for r in rows] == ["promote", "create"]

    config = puraify("env", "config", project, "staging", "--var", "BASE_URL=https://s2", "--flag", "BETA=on",
                     url=plane.base_url, engine=admin)  # fmt: skip
    assert config.returncode == 0 and config.stdout.startswith("staging: updated")
    compared = puraify("env", "compare", project, "staging", "development", url=plane.base_url, engine=admin)
    assert compared.returncode == 0 and "BASE_URL" in compared.stdout and "BETA" in compared.stdout

    rolled = puraify("env", "rollback", project, "staging", "v1.0.0", url=plane.base_url, engine=admin)
    assert rolled.returncode == 0, rolled.stderr
    assert rolled.stdout.splitlines()[0] == "staging: v1.1.0 -> v1.0.0 (rolled_back)"
    assert rolled.stdout.splitlines()[1].startswith("gate decision ")
    forward = puraify("env", "rollback", project, "staging", "v1.1.0", url=plane.base_url, engine=admin)
    assert forward.returncode == 6 and "not_a_rollback" in forward.stderr, forward.stderr
    unforced = puraify("env", "rollback", project, "staging", "v1.1.0", "--force", url=plane.base_url, engine=admin)
    assert unforced.returncode != 0 and "--force needs --reason" in unforced.stderr
    listed = json.loads(puraify("--json", "env", "list", project, url=plane.base_url, engine=admin).stdout)
    assert {e["env"]: e["version"] for e in listed["environments"]} == {"development": "v1.1.0", "staging": "v1.0.0"}


def test_env_publish_then_a_gate_denial_exits_3_with_its_reasons(plane, admin, tmp_path):
    project = "pf-cli-publish"
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"entities": ["Lead"], "flows": {"submit": {"steps": 1}}}))
    published = puraify("env", "publish", project, str(state), "--label", "v1.0.0", url=plane.base_url, engine=admin)
    assert published.returncode == 0, published.stderr
    assert published.stdout.startswith("development: published v1.0.0 (previous -)")
    again = puraify("--json", "env", "publish", project, "-", url=plane.base_url, engine=admin, stdin=state.read_text())
    assert again.returncode == 0 and json.loads(again.stdout)["created"] is False
    shown = puraify("env", "version", project, "v1.0.0", url=plane.base_url, engine=admin)
    assert shown.returncode == 0 and "content_hash" in shown.stdout
    broken = puraify("env", "publish", project, "-", url=plane.base_url, engine=admin, stdin="{not json")
    assert broken.returncode == 2 and "not JSON" in broken.stderr

    # A change freeze: the deployments flag switched off (for every flag, off stops what it targets)
    assert puraify("env", "create", project, "production", url=plane.base_url, engine=admin).returncode == 0
    assert puraify("flags", "set", "deployments", "--off", url=plane.base_url, engine=admin).returncode == 0
    denied = puraify("env", "promote", project, "development", "production", url=plane.base_url, engine=admin)
    assert denied.returncode == 3, denied.stderr
    assert "promotion_denied" in denied.stderr and "decision_id: " in denied.stderr
    assert "-: " not in denied.stderr and "reason: " in denied.stderr
    as_json = puraify("--json", "env", "promote", project, "development", "production",
                      url=plane.base_url, engine=admin)  # fmt: skip
    assert puraify("flags", "set", "deployments", "--on", url=plane.base_url, engine=admin).returncode == 0
    envelope = json.loads(as_json.stderr)
    assert as_json.returncode == envelope["exit_code"] == 3 and envelope["error"]["code"] == "promotion_denied"
    assert "change freeze is active for production" in envelope["error"]["message"]


def test_logs_send_batches_of_500_and_summarises_rejections(plane, admin, notifier, tmp_path):
    project = "pf-cli-send"
    lines = [json.dumps({"project_id": project, "event_type": "execution", "status": "success",
                         "event_id": f"send-{i}"}) for i in range(1203)]  # fmt: skip
    lines[7] = "{not json"
    lines[600] = json.dumps({"project_id": project, "event_type": "execution", "timestamp": "last tuesday"})
    lines[1100] = json.dumps({"project_id": project, "event_type": "execution", "surprise": 1})
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(lines) + "\n")
    sender = ("admin", E2E_ADMIN_KEY)
    done = puraify("logs", "send", str(source), url=plane.base_url, engine=sender)
    assert done.returncode == 7, done.stderr
    assert done.stdout.strip() == "accepted 1200, rejected 3"
    assert "line 8: not JSON" in done.stderr and "line 601: " in done.stderr  # refused by the control plane
    assert "line 1101: surprise" in done.stderr
    few = "\n".join(json.dumps({"project_id": f"{project}-few", "event_type": "execution", "event_id": f"few-{i}"})
                    for i in range(5))  # fmt: skip
    for _ in range(2):
        again = puraify("--json", "logs", "send", url=plane.base_url, engine=sender, stdin=few)
        assert again.returncode == 0 and json.loads(again.stdout) == {"accepted": 5, "rejected": []}
    found = json.loads(puraify("--json", "logs", "query", "--project", f"{project}-few",
                               url=plane.base_url, engine=admin).stdout)  # fmt: skip
    assert len(found) == 5  # the event ids: sending the same lines again stored nothing twice


def test_audit_platforms_add_health_and_config(plane, admin, notifier):
    assert puraify("check", "slack", "send_message", "--project", "pf-cli-audit", url=plane.base_url,
                   engine=notifier).returncode == 0  # fmt: skip
    audit = puraify("audit", "--project", "pf-cli-audit", url=plane.base_url, engine=admin)
    assert audit.returncode == 0 and "decision" in audit.stdout and "cli-notifier" in audit.stdout
    added = puraify("platforms", "add", "hubspot", "-a", "create_contact:crm.write", "-a", "read_contact",
                    url=plane.base_url, engine=admin)  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "hubspot: available, v1, actions create_contact, read_contact"
    twice = puraify("platforms", "add", "hubspot", "-a", "read_contact", url=plane.base_url, engine=admin)
    assert twice.returncode == 6 and "--replace" in twice.stderr
    assert puraify("health", url=plane.base_url).returncode == 0
    config = puraify("--json", "config", url=plane.base_url, engine=admin)
    assert json.loads(config.stdout)["api_versions"]["hubspot"] == "v1"


def test_every_route_has_a_cli_command():
    from local.template import Template
    from puraify_client.cli import main

    commands = {
        "POST /engines/register": "engines register", "GET /engines": "engines list",
        "GET /engines/{engine_id}": "engines show", "POST /engines/validate": "engines whoami",
        "POST /engines/{engine_id}/rotate": "engines rotate", "DELETE /engines/{engine_id}": "engines revoke",
        "PUT /engines/{engine_id}/permissions": "engines permissions",
        "GET /engines/changes": "engines changes list",
        "POST /engines/changes/{change_id}/approve": "engines changes approve",
        "POST /engines/changes/{change_id}/reject": "engines changes reject",
        "POST /engines/{engine_id}/suspend": "engines suspend",
        "POST /engines/{engine_id}/reinstate": "engines reinstate", "POST /actions/check": "check",
        "PUT /engines/{engine_id}/api-version": "engines api-version",
        "GET /health": "health", "GET /platforms/list": "platforms list", "PUT /platforms/{name}": "platforms add",
        "POST /platforms/{name}/maintenance": "platforms maintenance add",
        "GET /platforms/{name}/maintenance": "platforms maintenance list",
        "DELETE /platforms/{name}/maintenance/{window_id}": "platforms maintenance cancel",
        "PATCH /platforms/{name}": "platforms set-status",
        "GET /config/global": "config", "PUT /config/flags/{name}": "flags set",
        "POST /config/flags/{name}/schedule": "flags schedule add",
        "GET /config/flags/{name}/schedule": "flags schedule list",
        "DELETE /config/flags/{name}/schedule/{schedule_id}": "flags schedule cancel",
        "POST /log/engine_event": "event", "POST /monitoring/logs": "logs send",
        "POST /monitoring/alert": "alerts send", "GET /monitoring/alerts": "alerts list",
        "POST /monitoring/alerts/{alert_id}/acknowledge": "alerts ack",
        "POST /monitoring/alerts/{alert_id}/resolve": "alerts resolve",
        "GET /monitoring/alerts/{alert_id}": "alerts show",
        "GET /monitoring/routes/{project_id}": "alerts routes get",
        "PUT /monitoring/routes/{project_id}": "alerts routes set",
        "POST /monitoring/silences": "alerts silence", "GET /monitoring/silences": "alerts silences",
        "DELETE /monitoring/silences/{silence_id}": "alerts unsilence",
        "GET /monitoring/logs": "logs query", "GET /monitoring/errors": "errors", "GET /monitoring/stats": "stats",
        "GET /monitoring/audit": "audit", "GET /monitoring/overview": "overview",
        "GET /monitoring/deployments": "deployments", "GET /monitoring/projects": "projects",
        "POST /env/versions": "env publish", "POST /env/create": "env create",
        "POST /env/promote": "env promote", "POST /env/rollback": "env rollback", "GET /env/compare": "env compare",
        "GET /env/{project_id}": "env list", "GET /env/{project_id}/{environment}/history": "env history",
        "PUT /env/{project_id}/{environment}/config": "env config",
        "GET /env/{project_id}/versions/{label}": "env version",
        "GET /env/{project_id}/{environment}/resolved": "env resolved",
        "GET /env/{project_id}/{environment}/deployment": "env deployment",
        "GET /env/{project_id}/changes": "env changes list",
        "POST /env/{project_id}/changes/{change_id}/approve": "env changes approve",
        "POST /env/{project_id}/changes/{change_id}/reject": "env changes reject",
        "POST /plan/decide": "plan decide", "GET /plan/decisions": "plan decisions", "GET /plan/facts": "plan facts",
        "GET /plan/policy": "plan policy", "PUT /plan/policy": "plan publish",
        "GET /engines/{engine_id}/capabilities": "engines capabilities", "POST /actions/simulate": "simulate",
    }  # fmt: skip
    missing = []
    for route in Template().routes():
        key = f"{route.method} {route.path}"
        if route.path.startswith(("/console", "/docs")) or route.path in ("/openapi.json", "/v1/logs", "/metrics"):
            # for browsers and other tools: the console's assets, the contract and its UI, the OpenTelemetry
            # exporters' logs (docs/otlp.md) and Prometheus' scrape
            continue
        found: object = main
        for word in commands.get(key, "?").split():
            found = getattr(found, "commands", {}).get(word)
        if found is None:
            missing.append(key)
    assert not missing, f"routes without a CLI command (add one, and list it here): {missing}"


def test_every_command_explains_itself():
    import click

    from puraify_client.cli import main

    def leaves(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
        found = []
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                found += leaves(command, (*path, name))
            else:
                found.append(((*path, name), command))
        return found

    commands = leaves(main)
    assert len(commands) >= 25
    for path, command in commands:
        assert command.help and len(command.help.split()) >= 4, path
        for param in command.params:
            if isinstance(param, click.Option) and not param.is_flag and param.name != "help":
                assert param.help, (path, param.name)


def test_platform_maintenance_window_add_list_cancel(plane, admin):
    from puraify_client.services.platforms import MaintenanceWindow

    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7200))
    added = puraify("--json", "platforms", "maintenance", "add", "slack", "--start", start, "--end", end,
                    "--reason", "Slack upgrade", url=plane.base_url, engine=admin)  # fmt: skip
    assert added.returncode == 0, added.stderr
    window = MaintenanceWindow.model_validate(json.loads(added.stdout))
    assert (window.starts_at[:19], window.reason) == (start[:19], "Slack upgrade")
    listed = puraify("platforms", "maintenance", "list", "slack", url=plane.base_url, engine=admin)
    assert window.window_id in listed.stdout and "Slack upgrade" in listed.stdout
    with pc.SyncControlPlane(plane.base_url, *admin) as cp:
        slack = cp.platforms.get("slack")
    assert slack.maintenance.next is not None and slack.maintenance.next.window_id == window.window_id
    cancelled = puraify(
        "platforms", "maintenance", "cancel", "slack", window.window_id, url=plane.base_url, engine=admin
    )
    assert cancelled.returncode == 0 and f"cancelled {window.window_id}" in cancelled.stdout
    again = puraify("platforms", "maintenance", "cancel", "slack", window.window_id, url=plane.base_url, engine=admin)
    assert again.returncode != 0 and "window_not_found" in again.stderr


def test_audit_shows_a_deployment_row_as_it_started_and_its_end_as_it_ended(plane, admin):
    project = "pf-cli-audit-deploys"
    with pc.SyncControlPlane(plane.base_url, *admin) as cp:
        cp.env.publish_version(project, {"entities": ["Lead"], "flows": {"submit": {"steps": 1}}})
        cp.env.create(project, "staging", base_from="development")
        cp.env.publish_version(project, {"entities": ["Lead", "Deal"], "flows": {"submit": {"steps": 2}}})
        promoted = cp.env.promote(project, "development", "staging", bake_seconds=600)
        # a change during the bake ends its watch: the deployment is "cancelled" from then on
        cp.env.set_config(project, "staging", feature_flags={"BETA": True})
        assert cp.env.deployment(project, "staging").state != "baking"
    done = puraify("audit", "--project", project, url=plane.base_url, engine=admin)
    assert done.returncode == 0, done.stderr
    header, *lines = done.stdout.splitlines()
    start = header.index("REASON")
    cells = [line[:start].split() for line in lines if line[:start].strip()]
    promotion = [c for c in cells if c[1] == "deployment" and "promote" in c]
    ended = [c for c in cells if c[1] == "deployment_cancelled"]
    # The promotion's row reads as it was when it happened (baking), its end as it ended (cancelled)
    assert len(promotion) == len(ended) == 1, done.stdout
    assert promotion[0][-1] == "baking" and ended[0][-1] == "cancelled", done.stdout
    shown = json.loads(puraify("--json", "audit", "--project", project, url=plane.base_url, engine=admin).stdout)
    marker = next(e for e in shown["timeline"] if e["kind"] == "deployment" and e["action"] == "promote")
    assert (marker["deployment_id"], marker["state"], marker["current_state"]) == (
        promoted.deployment_id,
        "baking",
        "cancelled",
    )


def test_flag_schedule_add_list_cancel(plane, admin):
    from puraify_client.services.config import ScheduledFlagChange

    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    assert puraify("flags", "set", "deployments", "--on", url=plane.base_url, engine=admin).returncode == 0
    added = puraify("--json", "flags", "schedule", "add", "deployments", "--off", "--at", at,
                    url=plane.base_url, engine=admin)  # fmt: skip
    assert added.returncode == 0, added.stderr
    change = ScheduledFlagChange.model_validate(json.loads(added.stdout))
    assert (change.at[:19], change.enabled, change.created_by) == (at[:19], False, admin[0])
    listed = puraify("flags", "schedule", "list", "deployments", url=plane.base_url, engine=admin)
    assert change.schedule_id in listed.stdout and "deployments: on now" in listed.stdout
    with pc.SyncControlPlane(plane.base_url, *admin) as cp:
        assert [c.schedule_id for c in cp.config.flag_schedule("deployments").changes] == [change.schedule_id]
    cancel = ("flags", "schedule", "cancel", "deployments", change.schedule_id)
    cancelled = puraify(*cancel, url=plane.base_url, engine=admin)
    assert cancelled.returncode == 0 and f"cancelled {change.schedule_id}" in cancelled.stdout
    again = puraify(*cancel, url=plane.base_url, engine=admin)
    assert again.returncode != 0 and "schedule_not_found" in again.stderr


def test_audit_wraps_reasons_whole_and_shows_each_rows_state_as_of_that_row(plane, admin):
    project = "pf-cli-audit-states"
    message = "payment provider answered 502 for every charge of the checkout flow since the last deploy"
    reason = "rolled back the provider's configuration; charges succeed again, confirmed with the finance team"
    with pc.SyncControlPlane(plane.base_url, *admin) as cp:
        alert = cp.monitoring.alert(project, message, severity="high")
        cp.monitoring.resolve_alert(alert.alert_id, reason)
    done = puraify("audit", "--project", project, url=plane.base_url, engine=admin)
    assert done.returncode == 0, done.stderr
    header, *lines = done.stdout.splitlines()
    start = header.index("REASON")
    # The alert's row reads as it was when raised (open), the transition's as it set it (resolved)
    rows = [line for line in lines if line[:start].split()[1:2] in (["alert"], ["alert_resolved"])]
    assert [r[:start].split()[1] for r in rows] == ["alert", "alert_resolved"]
    assert rows[0][:start].split()[-1] == "open" and rows[1][:start].split()[-1] == "resolved"
    # Each reason is whole: wrapped onto continuation lines at word boundaries, never cut mid-word
    text = " ".join(line[start:].strip() for line in lines if line[start:].strip())
    assert message in text and reason in text
    assert all(len(line[start:]) <= 60 for line in lines)
