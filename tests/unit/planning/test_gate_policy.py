"""The shipped gate bundle: its policy test cases, evaluated through the real compile path.

The cases live beside the policy (``policies/gate/cases_test.json``) rather than as Rego
``test_`` rules with ``with input as``: that construct crashes regopy 1.5.2 (segfault).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from puraify.planning.bundles import read_folder
from puraify.planning.compiler import compile_bundle
from puraify.planning.rego import CompiledPolicy

GATE = Path(__file__).resolve().parents[3] / "policies" / "gate"
SUITE = json.loads((GATE / "cases_test.json").read_text())


def case_input(case: dict[str, Any]) -> dict[str, Any]:
    """The policy input of a case: the baseline's fresh facts, overridden and trimmed."""
    values = {**SUITE["baseline"], **case.get("facts", {})}
    facts = {}
    for fact_id, value in values.items():
        if fact_id in case.get("remove", []):
            continue
        if isinstance(value, dict) and "fact" in value:
            facts[fact_id] = value["fact"]
        else:
            facts[fact_id] = {"value": value, "stale": False, "age_seconds": 1}
    deployment = {"deployment_id": "deployment-123", "project_id": "pf-777", "environment": case["environment"],
                  **case.get("deployment", {})}  # fmt: skip
    return {"deployment": deployment, "facts": facts}


@pytest.fixture(scope="module")
def gate() -> CompiledPolicy:
    files, meta = read_folder(GATE)
    return compile_bundle(files, revision="test", entrypoint=meta["entrypoint"])


@pytest.mark.parametrize("case", SUITE["cases"], ids=[c["name"] for c in SUITE["cases"]])
def test_gate_case(gate, case):
    policy = _with_data(case["data"], "pre_deploy") if case.get("data") else gate
    result = policy.evaluate(case_input(case))
    assert (result.allow, result.deny) == (case["allow"], case["deny"])
    assert result.notes == case.get("notes", [])


def post_deploy_input(case: dict[str, Any]) -> dict[str, Any]:
    """A post_deploy case's input: the two health facts (a value, a whole fact entry, or removed)."""
    facts = {}
    for fact_id, given in (("candidate_health", case["candidate"]), ("baseline_health", case["baseline"])):
        if isinstance(given, dict) and given.get("remove"):
            continue
        if isinstance(given, dict) and "fact" in given:
            facts[fact_id] = given["fact"]
        else:
            facts[fact_id] = {"stale": False, "age_seconds": 0.2, **({"value": given} if given is not None else {})}
    bake = {
        "started_at": 1,
        "bake_seconds": 600,
        "elapsed_seconds": 600 if case["final"] else 60,
        "final": case["final"],
    }
    deployment = {
        "deployment_id": "deployment-123",
        "project_id": "pf-777",
        "environment": "production",
        "phase": "post_deploy",
        "version": "v2",
        "baseline_version": "v1",
        "bake": bake,
    }
    return {"deployment": deployment, "facts": facts}


def _with_data(changes: dict[str, Any], section: str = "post_deploy") -> CompiledPolicy:
    files, meta = read_folder(GATE)
    data = json.loads(files["data.json"])
    data["gate"][section].update(changes)
    files["data.json"] = json.dumps(data).encode()
    return compile_bundle(files, revision="test-variant", entrypoint=meta["entrypoint"], isolate=False)


POST_DEPLOY = SUITE["post_deploy"]["cases"]


@pytest.mark.parametrize("case", POST_DEPLOY, ids=[c["name"] for c in POST_DEPLOY])
def test_post_deploy_case(gate, case):
    policy = _with_data(case["data"]) if case.get("data") else gate
    result = policy.evaluate(post_deploy_input(case))
    assert (result.verdict, result.allow, result.deny) == (case["verdict"], case["allow"], case["deny"])
    assert result.notes == case.get("notes", [])


def test_pre_deploy_decisions_carry_no_verdict(gate):
    result = gate.evaluate(case_input(SUITE["cases"][0]))
    assert result.verdict is None and result.notes == []


def test_published_bundle_holds_only_policy_and_data():
    files, meta = read_folder(GATE)
    assert sorted(files) == ["data.json", "engine_anomaly.rego", "gate.rego", "post_deploy.rego"]
    assert meta == {"revision": meta["revision"], "entrypoint": "gate/decision"}
