"""Decisions with memory stores: fail-safe rules, snapshot reuse, and the policy loader's rules."""

from __future__ import annotations

import json

import pytest
from planning_harness import GATE, HEALTHY, make_harness

from puraify.planning.bundles import publish, read_folder
from puraify.planning.compiler import compile_bundle
from puraify.planning.loader import PolicyLoader
from puraify.planning.models import PlanDecideRequest
from puraify.planning.rego import PolicyEvaluationError, validate_result

REQUEST = PlanDecideRequest(deployment_id="deployment-123", environment="production", project_id="pf-777")


def decide(harness):
    return harness.service.decide(REQUEST, engine_id="ci", request_id="r-1")


def test_healthy_facts_allow_and_the_decision_is_stored(harness):
    decision = decide(harness)
    assert (decision.allow, decision.outcome, decision.fail_safe) == (True, "allow", False)
    stored = harness.service.decisions.by_deployment("deployment-123", "0", 10)
    assert stored[0]["decision_id"] == decision.decision_id
    assert stored[0]["policy"]["revision"] == "gate-1"


def test_hung_provider_denies_fail_safe_within_its_timeout():
    harness = make_harness(plan_provider_timeout_seconds=0.2)
    harness.providers["lag"].delay = 3
    decision = decide(harness)
    assert decision.allow is False
    assert decision.fail_safe is True
    assert "fact versions_behind is unavailable: provider lag timed out after 0.2s" in decision.deny_reasons
    assert harness.alerts[0]["event_type"] == "plan_fail_safe"


def test_pause_mode_answers_pause_on_fail_safe_but_deny_on_policy_denial():
    harness = make_harness(plan_fail_safe_mode="pause", plan_provider_timeout_seconds=0.2)
    harness.providers["monitoring"].values["version_health"] = {**HEALTHY["version_health"], "error_rate": 0.5}
    assert decide(harness).outcome == "deny"
    harness.providers["lag"].error = RuntimeError("down")
    paused = decide(harness)
    assert (paused.allow, paused.outcome) == (False, "pause")


def test_no_bundle_means_no_allow():
    harness = make_harness(publish=False)
    decision = decide(harness)
    assert (decision.allow, decision.fail_safe) == (False, True)
    assert decision.deny_reasons == ["no valid policy bundle is active"]


def test_fresh_global_snapshot_is_reused_instead_of_recollected(harness):
    harness.service.collect_snapshot()
    calls = harness.providers["catalog"].calls
    decide(harness)
    decide(harness)
    assert harness.providers["catalog"].calls == calls
    assert harness.providers["monitoring"].calls == 2  # project facts are always collected live


def test_loader_checks_at_most_every_poll_interval():
    files, _ = read_folder(GATE)
    from tests.fakes.planning import MemoryBundleStore

    store = MemoryBundleStore()
    publish(store, files, revision="a", entrypoint="gate/decision")
    clock = [1000.0]
    loader = PolicyLoader(store, poll_seconds=30, clock=lambda: clock[0])
    assert loader.current().revision == "a"
    publish(store, files | {"data.json": b'{"gate": {}}'}, revision="b", entrypoint="gate/decision")
    reads = store.reads
    clock[0] += 29
    assert loader.current().revision == "a"
    assert store.reads == reads  # no bucket read within the interval
    clock[0] += 1
    assert loader.current().revision == "b"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"allow": "true", "deny": []}, "'allow' must be a boolean"),
        ({"allow": True, "deny": "none"}, "'deny' must be a list of strings"),
        ({"allow": True, "deny": [1]}, "'deny' must be a list of strings"),
        ({"deny": []}, "'allow' must be a boolean"),
        ([True], "must be an object"),
    ],
)
def test_malformed_policy_results_are_errors_never_allow(value, message):
    with pytest.raises(PolicyEvaluationError, match=message):
        validate_result(value)


def test_policy_that_errors_at_evaluation_time_fails_safe():
    harness = make_harness(publish=False)
    # Valid for the probe (no facts), but divides by a fact at decision time: a runtime error.
    rego = (
        b"package gate\n\nimport rego.v1\n\n"
        b"ratio := 1 / input.facts.open_critical_alerts.value\n\n"
        b'decision := {"allow": ratio > 0, "deny": []} if input.facts.version_health\n\n'
        b'decision := {"allow": false, "deny": ["no facts"]} if not input.facts.version_health\n'
    )
    publish(harness.bundles, {"gate.rego": rego}, revision="x", entrypoint="gate/decision")
    decision = decide(harness)
    assert decision.allow is False
    assert decision.fail_safe is True
    assert any(r.startswith("policy evaluation failed") for r in decision.deny_reasons), decision.deny_reasons


def test_compiled_policy_float_input_is_not_truncated():
    files, _ = read_folder(GATE)
    policy = compile_bundle(files, revision="t", entrypoint="gate/decision")
    fact = {"stale": False, "age_seconds": 1}
    facts = {
        "version_health": {**fact, "value": {**HEALTHY["version_health"], "error_rate": 0.0500001}},
        "open_critical_alerts": {**fact, "value": 0},
        "platforms_in_maintenance": {**fact, "value": []},
        "change_freeze": {**fact, "value": False},
        "versions_behind": {**fact, "value": 0},
    }
    result = policy.evaluate({"deployment": {"environment": "production"}, "facts": facts})
    assert result.allow is False, json.dumps(result.deny)


def test_a_fact_can_have_its_own_max_age():
    import time

    from puraify.planning.models import Fact

    harness = make_harness(plan_fact_max_ages='{"versions_behind": 5}')

    class Aged:
        name, scope, fact_ids = "lag", "project", ("versions_behind",)

        def collect(self, context):
            return {"versions_behind": Fact(id="versions_behind", value=0, timestamp=time.time() - 10)}

    harness.service.providers = [p for p in harness.service.providers if p.name != "lag"] + [Aged()]
    decision = decide(harness)
    assert decision.allow is False
    assert decision.facts["versions_behind"].max_age_seconds == 5
    assert decision.facts["version_health"].max_age_seconds == 45
    assert any(r.startswith("fact versions_behind is stale") for r in decision.deny_reasons)
