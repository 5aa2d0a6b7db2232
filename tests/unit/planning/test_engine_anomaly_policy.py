"""The shipped bundle's engine_anomaly rule: its policy test cases, evaluated through the real compile path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from puraify.planning.bundles import read_folder
from puraify.planning.compiler import compile_bundle
from puraify.planning.rego import CompiledPolicy

GATE = Path(__file__).resolve().parents[3] / "policies" / "gate"
CASES = json.loads((GATE / "engine_anomaly_cases_test.json").read_text())["cases"]


def watch_input(engine: dict[str, Any]) -> dict[str, Any]:
    return {
        "deployment": {"phase": "engine_watch"},
        "engine": {"engine_id": "e-1", "minute": "2026-12-07T03:00", **engine},
    }


def _compiled(changes: dict[str, Any] | None = None) -> CompiledPolicy:
    files, meta = read_folder(GATE)
    if changes:
        data = json.loads(files["data.json"])
        data["gate"]["engine_anomaly"].update(changes)
        files["data.json"] = json.dumps(data).encode()
    return compile_bundle(files, revision="test", entrypoint=meta["entrypoint"], isolate=False)


@pytest.fixture(scope="module")
def gate() -> CompiledPolicy:
    return _compiled()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_engine_anomaly_case(gate, case):
    policy = _compiled(case["data"]) if case.get("data") else gate
    result = policy.evaluate(watch_input(case["engine"]))
    assert (result.allow, result.deny) == (not case["deny"], case["deny"])
    if "notes" in case:  # the reasons that never suspend (failed authentications)
        assert result.notes == case["notes"]


def test_the_shipped_data_alerts_and_does_not_suspend(gate):
    assert gate.data["gate"]["engine_anomaly"]["on_anomaly"] == "alert"


def test_the_watch_does_not_change_a_deployment_decision(gate):
    """A pre_deploy decision on no facts still denies for the missing facts (the watch is a phase of its own)."""
    result = gate.evaluate({"deployment": {"environment": "production"}, "facts": {}})
    assert not result.allow and any("missing" in reason for reason in result.deny)
