"""Compile a policy bundle in a child process first: regopy aborts the whole process on some
inputs (for example a ``with input as`` inside a test rule aborts in C++ with
"shape `rego-localref` has no field `rego-refhead`"), and a bundle is untrusted input.

A bundle that kills the child is rejected with that cause; the function that would have loaded it
keeps serving with its last good bundle instead of crashing on every cold start.

Run as ``python -m puraify.planning.probe``: reads ``{"files": {name: base64}, "entrypoint": ...}``
on stdin, compiles and evaluates the probe input, and exits 0, or 2 with the reason on stderr.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

TIMEOUT_SECONDS = 20


class ProbeFailedError(Exception):
    """The bundle crashed, hung, or failed to compile in the child process."""


def probe(files: dict[str, bytes], entrypoint: str) -> None:
    """Compile and evaluate the bundle in a child process; raise ProbeFailedError with the cause."""
    request = json.dumps(
        {"entrypoint": entrypoint, "files": {name: base64.b64encode(body).decode() for name, body in files.items()}}
    )
    package_root = str(Path(__file__).resolve().parent.parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module, input on stdin
            [sys.executable, "-m", "puraify.planning.probe"],
            input=request,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise ProbeFailedError(f"compiling the bundle did not finish within {TIMEOUT_SECONDS} s") from error
    if done.returncode == 0:
        return
    reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    if done.returncode < 0 or done.returncode == 134:
        raise ProbeFailedError(f"the policy engine crashed compiling this bundle ({reason or 'no message'})")
    raise ProbeFailedError(reason or f"compile failed (exit {done.returncode})")


def _main() -> None:
    from puraify.planning.policy import BundleRejectedError, compile_bundle

    request = json.loads(sys.stdin.read())
    files = {name: base64.b64decode(body) for name, body in request["files"].items()}
    try:
        compile_bundle(files, revision="probe", entrypoint=request["entrypoint"], isolate=False)
    except BundleRejectedError as error:
        sys.stderr.write(f"{error}\n")
        sys.exit(2)


if __name__ == "__main__":
    _main()
