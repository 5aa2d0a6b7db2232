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
from puraify.planning.policy import CompiledPolicy, compile_bundle

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
    deployment = {"deployment_id": "deployment-123", "project_id": "pf-777", "environment": case["environment"]}
    return {"deployment": deployment, "facts": facts}


@pytest.fixture(scope="module")
def gate() -> CompiledPolicy:
    files, meta = read_folder(GATE)
    return compile_bundle(files, revision="test", entrypoint=meta["entrypoint"])


@pytest.mark.parametrize("case", SUITE["cases"], ids=[c["name"] for c in SUITE["cases"]])
def test_gate_case(gate, case):
    result = gate.evaluate(case_input(case))
    assert (result.allow, result.deny) == (case["allow"], case["deny"])


def test_published_bundle_holds_only_policy_and_data():
    files, meta = read_folder(GATE)
    assert sorted(files) == ["data.json", "gate.rego"]
    assert meta == {"revision": meta["revision"], "entrypoint": "gate/decision"}
