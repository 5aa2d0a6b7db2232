"""A decision is bounded by its budget: slower evaluations deny fail-safe, slower bundles never become active."""

from __future__ import annotations

import pytest
from planning_harness import make_harness

from puraify.auth import Principal
from puraify.errors import ValidationFailedError
from puraify.planning.bundles import publish
from puraify.planning.compiler import compile_bundle
from puraify.planning.models import PlanDecideRequest, PolicyPutRequest
from puraify.planning.rego import BundleRejectedError

ADMIN = Principal("admin", frozenset({"admin"}), projects=frozenset({"*"}))
BUDGET_MS = 100

# Cheap on the probe input (no deployment, no facts); about a second of work when `slow_when` holds.
SLOW_GATE = """package gate
import rego.v1

default work := 1
work := 200000 if {{ {slow_when} }}

multiples := [x | some x in numbers.range(1, work); x % 7 == 0]
decision := {{"allow": count(multiples) < 100000000, "deny": []}}
"""


def slow_files(slow_when: str) -> dict[str, bytes]:
    return {"gate.rego": SLOW_GATE.format(slow_when=slow_when).encode()}


def request(project_id: str = "pf-777") -> PlanDecideRequest:
    return PlanDecideRequest(deployment_id="deployment-9", environment="production", project_id=project_id)


def put_request(revision: str, slow_when: str) -> PolicyPutRequest:
    return PolicyPutRequest(revision=revision, files={k: v.decode() for k, v in slow_files(slow_when).items()})


def test_a_decision_past_its_budget_is_denied_fail_safe_and_the_bundle_gives_way_to_the_last_good():
    harness = make_harness(plan_decision_budget_ms=BUDGET_MS)
    # slow only for one project, so the bundle passes the reload check on the sample inputs
    publish(harness.bundles, slow_files('input.deployment.project_id == "pf-slow"'), revision="slow-1",
            entrypoint="gate/decision")  # fmt: skip
    assert harness.service.decide(request(), engine_id="ci", request_id="r-0").allow is True

    decision = harness.service.decide(request("pf-slow"), engine_id="ci", request_id="r-1")

    assert (decision.allow, decision.outcome, decision.fail_safe) == (False, "deny", True)
    assert decision.policy.revision == "slow-1"
    assert f"policy evaluation did not finish within its {BUDGET_MS} ms budget" in decision.deny_reasons
    stored = harness.service.decisions.by_deployment("deployment-9", "0", 10)
    assert stored[0]["decision_id"] == decision.decision_id and stored[0]["fail_safe"] is True
    assert harness.alerts[-1]["event_type"] == "plan_fail_safe"
    assert "budget" in harness.alerts[-1]["message"]
    # the bundle is rejected and the last good one answers the next decisions at once (own interpreter)
    status = harness.service.policy_status()
    assert status.revision == "gate-1"
    assert status.last_rejected is not None and status.last_rejected.revision == "slow-1"
    assert "budget" in status.last_rejected.reason
    assert any(a["event_type"] == "policy_bundle_rejected" for a in harness.alerts)
    after = harness.service.decide(request(), engine_id="ci", request_id="r-2")
    assert (after.allow, after.policy.revision) == (True, "gate-1")


def test_publishing_a_bundle_slow_on_the_current_facts_is_422_and_the_last_good_stays():
    harness = make_harness(plan_decision_budget_ms=BUDGET_MS)
    with pytest.raises(ValidationFailedError) as raised:
        harness.service.publish(ADMIN, put_request("slow-2", 'input.deployment.environment == "production"'), "r-2")
    assert raised.value.code == "bundle_rejected"
    assert f"did not finish within the {BUDGET_MS} ms decision budget" in str(raised.value)
    assert harness.service.policy_status().revision == "gate-1"
    assert harness.bundles.get("bundles/slow-2/manifest.json") is None


def test_a_bundle_slow_only_on_a_fact_seen_in_real_decisions_is_rejected_too():
    harness = make_harness(plan_decision_budget_ms=BUDGET_MS)
    harness.service.decide(request(), engine_id="ci", request_id="r-3")  # version_health is a project fact
    with pytest.raises(ValidationFailedError, match="decision budget"):
        harness.service.publish(ADMIN, put_request("slow-3", "input.facts.version_health.value.error_rate >= 0"), "r-4")
    assert harness.service.policy_status().revision == "gate-1"


def test_a_slow_bundle_written_to_the_bucket_is_rejected_on_reload_and_the_last_good_stays():
    harness = make_harness(plan_decision_budget_ms=BUDGET_MS)
    assert harness.service.policy_status().revision == "gate-1"
    publish(harness.bundles, slow_files('input.deployment.environment == "production"'), revision="slow-4",
            entrypoint="gate/decision")  # fmt: skip

    harness.service.loader.refresh(force=True)

    status = harness.service.policy_status()
    assert status.revision == "gate-1"
    assert status.last_rejected is not None and status.last_rejected.revision == "slow-4"
    assert "decision budget" in status.last_rejected.reason
    assert harness.alerts[-1]["event_type"] == "policy_bundle_rejected"
    assert harness.service.decide(request(), engine_id="ci", request_id="r-5").allow is True


def test_the_probe_child_stops_at_the_budget_instead_of_finishing_a_runaway_evaluation():
    # 50 million iterations would take minutes; the child's own limit (20 s) would give another reason
    runaway = {"gate.rego": SLOW_GATE.replace("200000", "50000000").format(slow_when="true").encode()}
    sample = {"deployment": {"environment": "production"}, "facts": {}}
    with pytest.raises(BundleRejectedError, match="did not finish within the 100 ms decision budget"):
        compile_bundle(runaway, revision="r", entrypoint="gate/decision", samples=[sample], budget_seconds=0.1)


def test_the_budget_is_a_setting_with_bounds():
    with pytest.raises(ValueError, match="plan_decision_budget_ms"):
        make_harness(plan_decision_budget_ms=0)
    assert make_harness(publish=False).service.budget == 0.2
