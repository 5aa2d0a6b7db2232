"""Compile a policy bundle in a child process first: regopy aborts the whole process on some
inputs (for example a ``with input as`` inside a test rule aborts in C++ with
"shape `rego-localref` has no field `rego-refhead`"), and a bundle is untrusted input.

A bundle that kills the child is rejected with that cause; the function that would have loaded it
keeps serving with its last good bundle instead of crashing on every cold start.

It also times the bundle on the decision inputs it is given (the current facts): an evaluation
still running at the budget cannot be interrupted, so the child says so and exits, and the bundle
is rejected without this process ever running it.

The child is ``python -m puraify.planning.compiler``: it reads ``{"files": {name: base64}, "entrypoint": ...,
"samples": [...], "budget_seconds": ...}`` on stdin, compiles, evaluates the probe input and the
samples, and exits 0, or 2 with the reason on stderr.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TIMEOUT_SECONDS = 20


class ProbeFailedError(Exception):
    """The bundle crashed, hung, or failed to compile in the child process."""


def probe(
    files: dict[str, bytes],
    entrypoint: str,
    samples: Sequence[dict[str, Any]] = (),
    budget_seconds: float | None = None,
) -> None:
    """Compile and evaluate the bundle in a child process; raise ProbeFailedError with the cause."""
    request = json.dumps(
        {
            "entrypoint": entrypoint,
            "files": {name: base64.b64encode(body).decode() for name, body in files.items()},
            "samples": list(samples),
            "budget_seconds": budget_seconds,
        }
    )
    package_root = str(Path(__file__).resolve().parent.parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module, input on stdin
            [sys.executable, "-m", "puraify.planning.compiler"],
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
