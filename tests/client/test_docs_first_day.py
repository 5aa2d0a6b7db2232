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
