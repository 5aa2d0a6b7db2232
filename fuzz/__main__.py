"""``make fuzz``: schemathesis against the running local API, from its served ``/openapi.json``.

One moto server and one local control plane on free ports of 127.0.0.1; then two runs, as an
admin and as a plain engine (one permission, ``logs:write``), each with the examples, coverage,
fuzzing and stateful phases, ``--max-examples`` cases per operation, bounded in time. Checks:
``not_a_server_error``, ``status_code_conformance``, ``response_schema_conformance``. Exits
non-zero on any failure and prints the case counts.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from local.runner import LocalControlPlane, start_moto

CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
MAX_EXAMPLES = int(os.environ.get("PURAIFY_FUZZ_EXAMPLES", "30"))
RUN_SECONDS = int(os.environ.get("PURAIFY_FUZZ_SECONDS", "600"))
ADMIN_KEY = "pfk_fuzz-admin-key-0123456789abcdefghijklmnopqrstuvw"


def start() -> tuple[LocalControlPlane, object]:
    moto = start_moto(port=0)  # with its transactions patched: a 500-event batch is five of them
    host, port = moto.get_host_and_port()
    plane = LocalControlPlane(
        port=0, endpoint_url=f"http://{host}:{port}", admin_key=ADMIN_KEY, prefix="fuzz-", schedules=False
    )
    plane.start()
    return plane, moto


def register(base_url: str, engine_id: str, **fields: object) -> dict[str, str]:
    """A new engine's credential headers, registered by the bootstrap admin."""
    from puraify.engine_control.models import EngineRegisterRequest

    body = {"engine_id": engine_id, **fields}
    if "projects" in EngineRegisterRequest.model_fields:
        body.setdefault("projects", ["*"])
    reply = httpx.post(
        f"{base_url}/engines/register",
        headers={"X-Engine-ID": "admin", "X-Engine-Key": ADMIN_KEY},
        json=body,
        timeout=30,
    )
    reply.raise_for_status()
    return {"X-Engine-ID": engine_id, "X-Engine-Key": reply.json()["engine_key"]}


def run(name: str, base_url: str, headers: dict[str, str], report: Path) -> dict:
    """One schemathesis run; returns its counts (cases, failures) and how long it took."""
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(Path(__file__).with_name("schemathesis.toml")),
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--workers",
        "1",
        "--seed",
        os.environ.get("PURAIFY_FUZZ_SEED", "20261201"),
        "--request-timeout",
        "30",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--no-color",
    ]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    command += shlex.split(os.environ.get("PURAIFY_FUZZ_ARGS", ""))  # e.g. --include-path /actions/check
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "fuzz.hooks", "PURAIFY_FUZZ_PROTECTED": "admin,fuzz-admin,fuzz-engine"}
    print(f"\n=== fuzz as {name} ===", flush=True)
    started = time.monotonic()
    try:
        code = subprocess.run(command, env=env, timeout=RUN_SECONDS, check=False).returncode  # noqa: S603
    except subprocess.TimeoutExpired:
        print(f"fuzz as {name}: stopped after {RUN_SECONDS} s (PURAIFY_FUZZ_SECONDS)", flush=True)
        code = -1
    return {"name": name, "exit": code, "seconds": time.monotonic() - started, **count(report)}


def count(report: Path) -> dict:
    """Operations, generated test cases and failures from the run's JSON report."""
    try:
        found = json.loads(report.read_text())
    except (OSError, ValueError):  # a run stopped at its time bound writes no report
        found = {}
    cases = found.get("test_cases", {})
    return {
        "operations": found.get("operations", {}).get("tested", 0),
        "cases": cases.get("generated", 0),
        "failures": cases.get("unique_failures", 0),
        "errors": sum(error["count"] for error in found.get("errors", [])),
    }


def main() -> int:
    # The server's own log lines stay quiet unless something goes wrong (an unhandled error logs).
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    plane, moto = start()
    try:
        base = plane.base_url
        runs = []
        with tempfile.TemporaryDirectory() as folder:
            admin = register(base, "fuzz-admin", scopes=["admin"])
            engine = register(base, "fuzz-engine", scopes=["logs:write"], permissions={"gmail": ["send_email"]})
            runs.append(run("admin", base, admin, Path(folder) / "admin.json"))
            runs.append(run("plain engine", base, engine, Path(folder) / "engine.json"))
    finally:
        plane.stop()
        moto.stop()  # type: ignore[attr-defined]
    print("\nfuzz summary")
    for r in runs:
        print(
            f"  as {r['name']}: {r['cases']} test cases over {r['operations']} operations, "
            f"{r['failures']} failures, {r['errors']} errors, exit {r['exit']}, {r['seconds']:.0f} s"
        )
    return 0 if all(r["exit"] == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
