"""`make run` keeps its state: the runner as a user starts it (a process, its own state folder), stopped
with Ctrl-C and started again at once on the same ports."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from local.dynamodb_local import missing_tools
from local.template import ROOT

pytestmark = pytest.mark.skipif(bool(missing_tools()), reason="DynamoDB Local needs Java 17 and npm")


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


class Runner:
    def __init__(self, state: Path):
        api, aws, dynamodb = _free_ports(3)
        self.url = f"http://127.0.0.1:{api}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PURAIFY_"))},
            "PURAIFY_PORT": str(api),
            "PURAIFY_AWS_PORT": str(aws),
            "PURAIFY_DYNAMODB_PORT": str(dynamodb),
            "PURAIFY_STATE_DIR": str(state),
        }
        self.process: subprocess.Popen[str] | None = None
        self.output = ""

    def start(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local.runner"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        lines = []
        for line in self.process.stdout:
            lines.append(line)
            if "ready on" in line:
                break
        self.output = "".join(lines)
        assert "ready on" in self.output, self.output
        return self.output

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # Ctrl-C
            self.process.communicate(timeout=60)


@pytest.fixture
def runner(tmp_path):
    found = Runner(tmp_path / "state")
    yield found
    found.stop()


def test_state_and_admin_key_survive_a_stop_and_an_immediate_restart(runner):
    # Given a first start, which prints the admin key once, and an engine, a flag and a policy made on it
    first = runner.start()
    admin_key = re.search(r"admin key \(shown once, keep it\): (\S+)", first).group(1)
    admin = {"X-Engine-ID": "admin", "X-Engine-Key": admin_key}
    with httpx.Client(base_url=runner.url, timeout=60) as http:
        engine = http.post(
            "/engines/register", headers=admin, json={"engine_id": "mailer", "permissions": {"gmail": ["send_email"]}}
        )
        assert engine.status_code == 201, engine.text
        mailer = {"X-Engine-ID": "mailer", "X-Engine-Key": engine.json()["engine_key"]}
        freeze = http.put("/config/flags/freeze", headers=admin, json={"platform": "slack", "enabled": False})
        assert freeze.status_code in (200, 201)
        before = http.get("/plan/policy", headers=admin).json()
    # When it is stopped with Ctrl-C and started again at once, on the same ports
    runner.stop()
    again = runner.start()
    # Then no new admin key is printed, and the old one, the engine's key, the flag and the policy still work
    assert "shown once" not in again
    with httpx.Client(base_url=runner.url, timeout=60) as http:
        assert http.post(
            "/actions/check", headers=mailer, json={"platform": "gmail", "action_type": "send_email"}
        ).json()["allowed"]
        flags = http.get("/config/global", headers=admin).json()["feature_flags"]
        assert flags["freeze"]["enabled"] is False
        after = http.get("/plan/policy", headers=admin).json()
        assert after["revision"] == before["revision"] and after["sha256"] == before["sha256"]


def test_make_reset_starts_empty_with_a_new_admin_key(runner):
    first = runner.start()
    runner.stop()
    subprocess.run(["make", "-s", "reset"], cwd=ROOT, env=runner.env, check=True)
    again = runner.start()
    assert "shown once" in first and "shown once" in again
    assert first.split("shown once, keep it): ")[1].split()[0] != again.split("shown once, keep it): ")[1].split()[0]
