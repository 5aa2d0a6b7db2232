"""Fact collection: parallel providers with one deadline, and errors instead of defaults."""

from __future__ import annotations

import time

from planning_harness import StaticProvider

from puraify.planning.facts import FactContext, ProviderUnavailableError, collect, problem, view
from puraify.planning.models import Fact


def test_six_providers_with_one_hanging_cost_one_timeout_not_the_sum():
    providers = [StaticProvider(f"p{i}", {f"f{i}": i}, delay=0.05) for i in range(5)]
    providers.append(StaticProvider("stuck", {"hung": 1}, delay=5))
    started = time.perf_counter()
    facts = collect(providers, FactContext(), timeout=0.3)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.5  # one timeout, not the hung provider's 5 s (bench/bench_planning.py measures it tightly)
    assert [facts[f"f{i}"].value for i in range(5)] == [0, 1, 2, 3, 4]
    assert facts["hung"].error == "provider stuck timed out after 0.3s"
    assert facts["hung"].value is None


def test_a_failing_provider_yields_error_facts_for_each_of_its_ids():
    failing = StaticProvider("alerts", {"a": 1, "b": 2}, error=RuntimeError("table gone"))
    facts = collect([failing], FactContext(), timeout=1)
    assert facts["a"].error == facts["b"].error == "provider alerts failed: RuntimeError: table gone"


def test_an_unavailable_provider_says_so():
    missing = StaticProvider("env", {"versions_behind": 0}, error=ProviderUnavailableError("not installed"))
    facts = collect([missing], FactContext(), timeout=1)
    assert facts["versions_behind"].error == "provider env unavailable: not installed"


def test_a_provider_that_omits_a_fact_reports_it_missing():
    class Partial(StaticProvider):
        def collect(self, context):
            return {"a": 1}

    facts = collect([Partial("partial", {"a": 1, "b": 2})], FactContext(), timeout=1)
    assert facts["a"].value == 1
    assert facts["b"].error == "provider partial returned no value"


def test_a_fact_is_stale_past_its_max_age_and_problem_says_why():
    now = time.time()
    fresh = view(Fact(id="x", value=1, timestamp=now - 10), now, 45)
    old = view(Fact(id="x", value=1, timestamp=now - 46), now, 45)
    broken = view(Fact(id="x", error="boom"), now, 45)
    assert (fresh.stale, old.stale, broken.stale) == (False, True, True)
    assert problem("x", fresh) is None
    assert problem("x", old) == "fact x is stale (46.0s old, max 45s)"
    assert problem("x", broken) == "fact x is unavailable: boom"
