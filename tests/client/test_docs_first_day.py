"""docs/environments.md's first day (development -> staging -> production), run as written with the real
``puraify`` command against the local runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from local.template import ROOT
from tests.client.mockplane import E2E_ADMIN_KEY


def first_day_block() -> str:
    doc = (ROOT / "docs" / "environments.md").read_text()
    return doc.split("<!-- first-day", 1)[1].split("```\n", 1)[1].split("```", 1)[0]


def test_the_first_day_of_docs_environments_runs_as_written(plane):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PURAIFY_")}
    env.update(PURAIFY_URL=plane.base_url, PURAIFY_ENGINE_ID="admin", PURAIFY_ENGINE_KEY=E2E_ADMIN_KEY)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    lines = [line for line in first_day_block().splitlines() if line.strip()]
    assert lines[-2:] == ["puraify env promote shop staging production", "puraify env list shop"]
    for line in lines:
        done = subprocess.run(["bash", "-c", line], env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, (line, done.stdout, done.stderr)
    listed = subprocess.run(
        ["bash", "-c", "puraify --json env list shop"], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    answer = json.loads(listed.stdout)
    versions = {e["env"]: e["version"] for e in answer["environments"]}
    assert versions == {"development": "v1.0.0", "staging": "v1.0.0", "production": "v1.0.0"}


def readme_first_deploy_block() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("<!-- first-deploy", 1)[1].split("```\n", 1)[1].split("```", 1)[0]


def test_the_readmes_first_deployment_block_runs_as_written(plane):
    # Given the admin key the README's reader exported (make run printed it)
    env = {"PATH": os.environ["PATH"], "ADMIN_KEY": E2E_ADMIN_KEY}
    address = plane.base_url.removeprefix("http://")
    # When the README's block runs as written (only the runner's address replaces localhost:3000)
    block = readme_first_deploy_block()
    assert "localhost:3000" in block
    script = "set -e\n" + block.replace("localhost:3000", address)
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False)
    # Then the project's development runs its first version, as the comment under the call says
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    shown = next(line for line in block.splitlines() if line.startswith("# {"))
    expected = json.loads(shown.removeprefix("# ").replace(",...}", "}"))
    assert {k: answer[k] for k in expected if k != "created"} == {k: v for k, v in expected.items() if k != "created"}
    assert answer["version"] == "v1.0.0"
