"""A newcomer's first day against `make run` as a process: the README's quickstart block run as written,
and the checks counted just before Ctrl-C or SIGTERM still on the Overview after a restart."""

from __future__ import annotations

import re
import signal
import subprocess

import httpx
import pytest

from local.template import ROOT
from tests.e2e.test_restart import Runner, missing_tools

pytestmark = pytest.mark.skipif(bool(missing_tools()), reason="DynamoDB Local needs Java 17 and npm")


def quickstart_block() -> str:
    """The README's quickstart: the code block after its ``<!-- quickstart`` marker."""
    readme = (ROOT / "README.md").read_text()
    after = readme.split("<!-- quickstart", 1)[1]
    return after.split("```\n", 1)[1].split("```", 1)[0]


def run_block(block: str, url: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a shell block as a user pastes it; only the runner's address replaces ``localhost:3000``."""
    script = "set -e\n" + block.replace("localhost:3000", url.removeprefix("http://"))
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False)


def overview_allowed(url: str, admin_key: str) -> int:
    headers = {"X-Engine-ID": "admin", "X-Engine-Key": admin_key}
    reply = httpx.get(f"{url}/monitoring/overview", params={"since": "1h"}, headers=headers, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()["checks"]["totals"]["allowed"]


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_readme_quickstart_runs_as_written_and_checks_before_a_stop_are_counted(tmp_path, stop_signal):
    runner = Runner(tmp_path / "state")
    runner.env["PURAIFY_CHECK_COUNT_FLUSH_SECONDS"] = "60"  # only the stop can write what follows the first check
    try:
        first = runner.start()
        # Given the line `make run` printed, run as the README says
        export = re.search(r"run: (export ADMIN_KEY=\S+)", first)
        assert export, first
        admin_key = export.group(1).split("=", 1)[1]
        env = {**runner.env, "ADMIN_KEY": admin_key}
        # When the README's quickstart block runs as written
        done = run_block(quickstart_block(), runner.url, env)
        # Then each call answers, the last one allowed
        assert done.returncode == 0, done.stderr
        answers = done.stdout.replace(" ", "")  # curl -s prints each answer without a newline
        assert answers.startswith('{"status":"ok"'), done.stdout
        assert '"allowed":true' in answers and '"engine_id":"action"' in answers, done.stdout
        # Given five more checks by another engine, made just before the runner is stopped
        second = httpx.post(
            f"{runner.url}/engines/register",
            headers={"X-Engine-ID": "admin", "X-Engine-Key": admin_key},
            json={"engine_id": "second", "permissions": {"gmail": ["send_email"]}, "projects": ["*"]},
            timeout=30,
        ).json()["engine_key"]
        for _ in range(5):
            reply = httpx.post(
                f"{runner.url}/actions/check",
                headers={"X-Engine-ID": "second", "X-Engine-Key": second},
                json={"platform": "gmail", "action_type": "send_email"},
                timeout=30,
            )
            assert reply.json()["allowed"] is True
        # When it is stopped
        assert runner.process is not None
        runner.process.send_signal(stop_signal)
        runner.process.communicate(timeout=60)
        # Then a restart shows every check: the quickstart's and the five
        runner.start()
        assert overview_allowed(runner.url, admin_key) == 6
    finally:
        runner.stop()


def test_checks_reach_the_overview_within_the_flush_interval_without_another_check(moto_endpoint, monkeypatch):
    import os
    import time

    from local.runner import LocalControlPlane

    saved = dict(os.environ)
    monkeypatch.setenv("PURAIFY_CHECK_COUNT_FLUSH_SECONDS", "1")
    admin_key = "pfk_first-day-admin-key-0123456789abcdefghijklmnop"
    plane = LocalControlPlane(port=0, endpoint_url=moto_endpoint, admin_key=admin_key, prefix="fd1-", schedules=False)
    plane.start()
    try:
        admin = {"X-Engine-ID": "admin", "X-Engine-Key": admin_key}
        body = {"engine_id": "tally", "permissions": {"gmail": ["send_email"]}, "projects": ["*"]}
        key = httpx.post(f"{plane.base_url}/engines/register", headers=admin, json=body, timeout=30).json()
        engine = {"X-Engine-ID": "tally", "X-Engine-Key": key["engine_key"]}
        # Given ten checks in a row (the first is written at once, the other nine wait for the interval)
        for _ in range(10):
            check = {"platform": "gmail", "action_type": "send_email"}
            assert (
                httpx.post(f"{plane.base_url}/actions/check", headers=engine, json=check, timeout=30).status_code == 200
            )
        # When no other check comes, Then the Overview shows all ten within the interval (and a margin)
        deadline = time.monotonic() + 15
        while overview_allowed(plane.base_url, admin_key) < 10 and time.monotonic() < deadline:
            time.sleep(0.25)
        assert overview_allowed(plane.base_url, admin_key) == 10
        # and states how far behind it may be, and what a reclaimed instance can lose
        headers = {"X-Engine-ID": "admin", "X-Engine-Key": admin_key}
        checks = httpx.get(f"{plane.base_url}/monitoring/overview", headers=headers, timeout=30).json()["checks"]
        assert checks["flush_seconds"] == 1 and "at most the checks of its last 1 s" in checks["loss_bound"]
    finally:
        plane.stop()
        os.environ.clear()
        os.environ.update(saved)
