"""Compiling a policy bundle: verified against its manifest's digests, proven to answer, timed on real facts.

A bundle is untrusted input: it is first compiled in a child process (``probe``), which also times
it on the current facts and exits at the budget, so one that aborts regopy or is cheap on an empty
input but slow on real facts is rejected at publish or reload without this process running it.

Run as ``python -m puraify.planning.compiler`` (the probe's child): reads ``{"files": {name:
base64}, "entrypoint": ..., "samples": [...], "budget_seconds": ...}`` on stdin, compiles,
evaluates the probe input and the samples, and exits 0, or 2 with the reason on stderr.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import regopy

from puraify.clock import now
from puraify.planning.bundles import DATA_FILE, BundleStore, Manifest, bundle_digest, sha256
from puraify.planning.probe import ProbeFailedError, probe
from puraify.planning.rego import (
    PROBE_INPUT,
    BundleRejectedError,
    CompiledPolicy,
    PolicyBudgetExceededError,
    PolicyEvaluationError,
    budget_ms,
    first_lines,
)


def _data(files: dict[str, bytes]) -> dict[str, Any]:
    """The bundle's data.json as an object ({} when absent or not an object: the policy then uses its defaults)."""
    try:
        data = json.loads(files[DATA_FILE]) if DATA_FILE in files else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def compile_bundle(
    files: dict[str, bytes],
    *,
    revision: str,
    entrypoint: str,
    isolate: bool = True,
    samples: Sequence[dict[str, Any]] = (),
    budget_seconds: float | None = None,
) -> CompiledPolicy:
    """Compile a bundle's modules and data for ``entrypoint``, and prove it answers the probe input.

    With ``isolate`` the bundle is first compiled in a child process (``puraify.planning.probe`` runs this module),
    so a bundle that aborts regopy is rejected instead of taking this process down. With
    ``budget_seconds``, it is rejected when any of ``samples`` (decision inputs on the current
    facts) takes longer than that to evaluate; that check runs in the child when isolated.
    """
    if isolate:
        try:
            probe(files, entrypoint, samples, budget_seconds)
        except ProbeFailedError as error:
            raise BundleRejectedError(str(error)) from error
    interpreter = regopy.Interpreter()
    try:
        for name, body in sorted(files.items()):
            if name.endswith(".rego"):
                interpreter.add_module(name, body.decode())
        if DATA_FILE in files:
            interpreter.add_data_json(files[DATA_FILE].decode())
        built = interpreter.build(None, [entrypoint])
    except (regopy.RegoError, UnicodeDecodeError) as error:
        raise BundleRejectedError(f"compile error: {first_lines(str(error))}") from error
    if not built.ok():
        raise BundleRejectedError("compile error: the bundle did not build")
    digests = {name: sha256(body) for name, body in files.items()}
    policy = CompiledPolicy(
        revision=revision,
        sha256=bundle_digest(digests),
        entrypoint=entrypoint,
        files=digests,
        loaded_at=now(),
        data=_data(files),
        _interpreter=interpreter,
        _bundle=built,
    )
    budget = None if isolate else budget_seconds  # an isolated bundle was timed in the child already
    try:
        policy.evaluate(PROBE_INPUT, budget)
    except PolicyBudgetExceededError as error:
        raise BundleRejectedError(_over_budget("a decision on no facts", budget)) from error
    except PolicyEvaluationError as error:
        raise BundleRejectedError(f"entrypoint {entrypoint} does not answer a decision: {error}") from error
    if budget is not None:
        check_budget(policy, samples, budget)
    return policy


def _over_budget(what: str, budget_seconds: float | None) -> str:
    return f"{what} did not finish within the {budget_ms(budget_seconds or 0)} ms decision budget"


def check_budget(policy: CompiledPolicy, samples: Sequence[dict[str, Any]], budget_seconds: float) -> None:
    """BundleRejectedError unless every sample input evaluates within the budget (errors are the gate's own)."""
    for sample in samples:
        try:
            policy.evaluate(sample, budget_seconds)
        except PolicyBudgetExceededError as error:
            what = f"on the current facts a {sample.get('deployment', {}).get('phase', 'pre_deploy')} decision"
            raise BundleRejectedError(_over_budget(what, budget_seconds)) from error
        except PolicyEvaluationError:
            continue  # a decision on this input fails safe with the error as its reason


def load_bundle(
    store: BundleStore,
    manifest_bytes: bytes,
    samples: Sequence[dict[str, Any]] = (),
    budget_seconds: float | None = None,
) -> CompiledPolicy:
    """Fetch the files a manifest names, verify every digest, and compile (within the budget on ``samples``)."""
    try:
        manifest = Manifest.model_validate_json(manifest_bytes)
    except ValueError as error:
        raise BundleRejectedError(f"the manifest is not valid: {first_lines(str(error), 2)}") from error
    files: dict[str, bytes] = {}
    for name, entry in manifest.files.items():
        body = store.get(entry.key, entry.version_id)
        if body is None:
            raise BundleRejectedError(f"{name} is missing from the bucket")
        if sha256(body) != entry.sha256:
            raise BundleRejectedError(f"digest mismatch for {name}: expected {entry.sha256[:12]}...")
        files[name] = body
    if bundle_digest({n: e.sha256 for n, e in manifest.files.items()}) != manifest.sha256:
        raise BundleRejectedError("digest mismatch: the manifest's bundle digest does not match its files")
    revision, entrypoint = manifest.revision, manifest.entrypoint
    return compile_bundle(
        files, revision=revision, entrypoint=entrypoint, samples=samples, budget_seconds=budget_seconds
    )


def _main() -> None:
    request = json.loads(sys.stdin.read())
    files = {name: base64.b64decode(body) for name, body in request["files"].items()}
    try:
        compile_bundle(
            files,
            revision="probe",
            entrypoint=request["entrypoint"],
            isolate=False,
            samples=request.get("samples") or [],
            budget_seconds=request.get("budget_seconds"),
        )
    except BundleRejectedError as error:
        sys.stderr.write(f"{error}\n")
        sys.stderr.flush()
        os._exit(2)  # not sys.exit: an over-budget evaluation may still be running on its thread


if __name__ == "__main__":
    _main()
