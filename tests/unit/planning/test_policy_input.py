"""Policy input goes in as values when that loses nothing, as JSON text otherwise: decisions never change."""

from __future__ import annotations

import pytest

from puraify.planning.compiler import compile_bundle
from puraify.planning.rego import exact_input

POLICY = b"""package t

import rego.v1

x := object.get(input, "x", 0)

limit := object.get(input, "limit", 0)

decision := {"allow": x > limit, "deny": [sprintf("%v", [x])]}
"""


@pytest.fixture(scope="module")
def policy():
    return compile_bundle({"t.rego": POLICY}, revision="r", entrypoint="t/decision", isolate=False)


@pytest.mark.parametrize(
    ("x", "limit", "allow", "shown"),
    [
        (0.012, 0.01, True, "0.012"),
        (1e-9, 0, True, "1e-09"),  # 6 decimals would make it 0, and deny
        (0.0123456789, 0.012346, False, "0.0123456789"),  # 6 decimals would round it up to the limit
        (2**62, 0, True, str(2**62)),
    ],
)
def test_numbers_reach_the_policy_exactly(policy, x, limit, allow, shown):
    result = policy.evaluate({"x": x, "limit": limit})
    assert result.allow is allow
    assert result.deny == [shown]


def test_values_are_used_only_when_they_convert_exactly():
    assert exact_input({"facts": {"error_rate": {"value": 0.012, "stale": False, "age_seconds": 3.2}}}) is not None
    assert exact_input({"x": 1e-9}) is None
    assert exact_input({"x": ["nul\x00byte"]}) is None
    assert exact_input({"x": 2**64}) is None


def test_the_input_built_from_values_is_the_one_regopy_builds_itself():
    import regopy

    document = {
        "deployment": {"environment": "production", "bake": {"elapsed_seconds": 61.5, "final": False}},
        "facts": {
            "platforms_in_maintenance": {"value": ["gmail", "slack"], "stale": False, "age_seconds": 3},
            "candidate_health": {"value": None, "error": "naïve ünïcode ✓", "nested": [[1, 2], {"a": -7}, []]},
        },
    }
    ours, theirs = regopy.Interpreter(), regopy.Interpreter()
    ours.set_input(exact_input(document))
    theirs.set_input(regopy.Input(document))
    assert str(ours.query("x := input")) == str(theirs.query("x := input"))
    assert "naïve ünïcode ✓" in str(ours.query("x := input"))
