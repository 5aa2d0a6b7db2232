"""The whole test suite against a real emulator: ``python -m local.suite dynamodb-local|localstack [pytest args]``.

- ``dynamodb-local``: DynamoDB to DynamoDB Local (bound to 127.0.0.1), everything else to the suite's own
  moto server, routed by boto3's per-service ``AWS_ENDPOINT_URL_DYNAMODB`` (no proxy).
- ``localstack``: every service to one LocalStack. Run it inside ``unshare -n`` (``make test-localstack``
  does): LocalStack's DynamoDB child listens on every interface.

``install`` before either (``python -m local.suite install localstack``) fetches what they need, so the
run itself needs no network. The emulator is stopped by PID, also when tests fail; the exit code is pytest's.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from local import dynamodb_local, localstack
from local.template import ROOT


def _pytest(env: dict[str, str], args: list[str]) -> int:
    return subprocess.call([sys.executable, "-m", "pytest", *args], cwd=ROOT, env=env)  # noqa: S603


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_dynamodb_local(args: list[str]) -> int:
    ddb = dynamodb_local.start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
        env["AWS_ENDPOINT_URL_DYNAMODB"] = ddb.endpoint_url
        env["PURAIFY_TESTS_EMULATOR_SUITE"] = "dynamodb-local"
        print(f"DynamoDB Local on {ddb.endpoint_url} (pid {ddb.process.pid}); the rest on the suite's moto", flush=True)
        return _pytest(env, args)
    finally:
        ddb.stop()


def run_localstack(args: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="localstack-", dir=dynamodb_local.EMULATORS) as root:
        port = _free_port()
        log = Path(root) / "localstack.log"
        stack = localstack.start(Path(root), port, log)
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
            env.update({"AWS_ENDPOINT_URL": stack.endpoint_url, "LOCALSTACK_HOST": f"127.0.0.1:{port}"})
            env["PURAIFY_TESTS_EMULATOR_SUITE"] = "localstack"
            print(f"LocalStack {localstack.VERSION} on {stack.endpoint_url} (pid {stack.process.pid})", flush=True)
            code = _pytest(env, args)
        finally:
            stack.stop()
        if code:
            print(f"LocalStack's log: {log} (removed with its folder); last lines:", flush=True)
            print("\n".join(log.read_text(errors="replace").splitlines()[-30:]))
        return code


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("dynamodb-local", "localstack", "install"):
        print(__doc__)
        return 2
    if argv[0] == "install":
        dynamodb_local.install()
        if argv[1:] == ["localstack"]:
            localstack.install()
        return 0
    started = time.monotonic()
    code = (run_dynamodb_local if argv[0] == "dynamodb-local" else run_localstack)(argv[1:])
    print(f"{argv[0]} suite: {time.monotonic() - started:.0f} s (exit {code})", flush=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
