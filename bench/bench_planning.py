"""Planning Engine: warm decision latency, policy evaluation vs plain Python, parallel facts, hot reload.

1. Warm ``POST /plan/decide`` through the real handler (auth, validation, facts from a fresh stored
   snapshot plus the project facts collected live, policy evaluation, decision record, audit line)
   with in-memory stores; beside it the compiled default gate evaluated alone and a plain-Python
   implementation of the same gate, interleaved in one run.
2. Fact collection with six providers, one of which hangs: wall time against its timeout.
3. Hot reload: a new manifest written to a versioned bucket on a moto server while a process keeps
   deciding; time until the first decision that uses it, against the poll interval.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

from bench.harness import UNLIMITED, latency_table, moto_endpoint, quiet_logs, use_template
from bench.stats import interleaved, summary_us
from puraify.planning.facts import Scope

ROOT = Path(__file__).resolve().parent.parent
GATE = ROOT / "policies" / "gate"
WARM_CALLS = 3000
ADMIN_KEY = "pfk_bench-admin-key-0123456789abcdefghijklmnopqrstuv"
HEALTHY = {
    "version_health": {
        "version": "v1.5.0",
        "environment": "staging",
        "window_seconds": 3600,
        "since": "2026-12-07T00:00:00Z",
        "events": 500,
        "errors": 6,
        "error_rate": 0.012,
        "latency_p95_ms": 180,
    },  # fmt: skip
    "open_critical_alerts": 0,
    "platforms_in_maintenance": [],
    "change_freeze": False,
    "versions_behind": 1,
}


def python_gate(document: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The default gate (policies/gate/gate.rego) in plain Python, for comparison and cross-checking."""
    gate = data["gate"]
    limits = gate["thresholds"]
    facts = document.get("facts", {})
    protected = document.get("deployment", {}).get("environment") in gate["protected_environments"]
    deny: set[str] = set()
    for fact_id in gate["required_facts"]:
        fact = facts.get(fact_id)
        if fact is None:
            deny.add(f"fact {fact_id} is missing")
        elif fact.get("error"):
            deny.add(f"fact {fact_id} is unavailable: {fact['error']}")
        elif fact.get("stale"):
            deny.add(f"fact {fact_id} is stale ({_num(fact.get('age_seconds'))}s old)")

    def fresh(fact_id: str) -> Any:
        fact = facts.get(fact_id)
        return fact.get("value") if fact and not fact.get("stale") else None

    def pct(x: float) -> str:
        return _num(round(x * 1000) / 10)

    health = fresh("version_health")
    if health is not None:
        judged = f"{health['version']} in {health['environment']} over the last {health['window_seconds']}s"
        if health["events"] >= gate["pre_deploy"]["min_events"]:
            if health["error_rate"] > limits["max_error_rate"]:
                deny.add(f"error rate of {judged} is {pct(health['error_rate'])}% over {health['events']} events: "
                         f"above {pct(limits['max_error_rate'])}%")  # fmt: skip
            p95 = health.get("latency_p95_ms")
            if isinstance(p95, int | float) and p95 > limits["max_latency_p95_ms"]:
                deny.add(f"p95 latency of {judged} is {p95} ms: above {limits['max_latency_p95_ms']} ms")
        elif gate["pre_deploy"]["on_no_signal"] == "deny":
            deny.add(f"no signal: {judged} served {health['events']} event(s) "
                     f"(at least {gate['pre_deploy']['min_events']} needed to judge it)")  # fmt: skip
    alerts = fresh("open_critical_alerts")
    if alerts is not None and alerts > limits["max_open_critical_alerts"]:
        deny.add(f"{alerts} critical alert(s) open (at most {limits['max_open_critical_alerts']} allowed)")
    for name in fresh("platforms_in_maintenance") or []:
        deny.add(f"platform {name} is in maintenance")
    if protected and fresh("change_freeze") is True:
        deny.add(f"change freeze is active for {document['deployment']['environment']}")
    lag = fresh("versions_behind")
    if protected and isinstance(lag, int | float) and not isinstance(lag, bool) and lag > limits["max_versions_behind"]:
        deny.add(f"production lags staging by {lag} versions (at most {limits['max_versions_behind']} allowed)")
    return {"allow": not deny, "deny": sorted(deny)}


def _num(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


class _Static:
    def __init__(self, name: str, values: dict[str, Any], delay: float = 0.0, scope: Scope = "project"):
        self.name, self.values, self.delay = name, values, delay
        self.scope: Scope = scope
        self.fact_ids: tuple[str, ...] = tuple(values)

    def collect(self, context: Any) -> dict[str, Any]:
        if self.delay:
            time.sleep(self.delay)
        return dict(self.values)


def _policy_input() -> dict[str, Any]:
    facts = {k: {"value": v, "stale": False, "age_seconds": 3.2} for k, v in HEALTHY.items()}
    deployment = {"deployment_id": "deployment-123", "environment": "production", "project_id": "pf-777"}
    return {"deployment": deployment, "facts": facts}


def setup_decision() -> dict[str, Any]:
    """The plan handler over in-memory stores with a fresh snapshot, the compiled gate, and its input."""
    from local.gateway import LambdaContext, load_handler
    from local.template import Template
    from puraify import wiring
    from puraify.audit import AuditLog
    from puraify.engine_control.bootstrap import ensure_admin
    from puraify.planning.bundles import publish_folder, read_folder
    from puraify.planning.compiler import compile_bundle
    from puraify.planning.service import PlanningService
    from puraify.settings import get_settings
    from tests.fakes.planning import MemoryBundleStore, MemoryDecisionStore, MemoryFactStore
    from tests.fakes.runtime import memory_runtime

    # the admin, made by ensure_admin, has no limit of its own: the stack's default is lifted instead
    unlimited = {"engine_rate_limit_per_second": UNLIMITED["per_second"], "engine_rate_limit_burst": UNLIMITED["burst"]}
    current = memory_runtime(get_settings().model_copy(update=unlimited))
    wiring.install(current)
    ensure_admin(current.engines, ADMIN_KEY)
    bundles = MemoryBundleStore()
    publish_folder(bundles, GATE)
    decisions = MemoryDecisionStore()
    global_values = {k: HEALTHY[k] for k in ("platforms_in_maintenance", "change_freeze")}
    providers = [
        _Static("monitoring", {k: HEALTHY[k] for k in ("version_health", "open_critical_alerts")}),
        _Static("environments", {"versions_behind": HEALTHY["versions_behind"]}),
        _Static("catalog", global_values, scope="global"),
    ]
    service = PlanningService(
        settings=current.settings,
        facts=MemoryFactStore(),
        decisions=decisions,
        bundle_store=bundles,
        providers=providers,
        audit=AuditLog(current.audit_store, 90),
        alert=lambda **_: None,
    )
    current.planning = service
    service.collect_snapshot()

    handler = load_handler(Template().functions()["PlanFunction"])
    event = json.loads((ROOT / "events" / "plan" / "decide.json").read_text())
    event["headers"].update({"x-engine-id": "admin", "x-engine-key": ADMIN_KEY})
    context = LambdaContext("PlanFunction", "bench")

    files, meta = read_folder(GATE)
    policy = compile_bundle(files, revision="bench", entrypoint=meta["entrypoint"])
    data = json.loads(files["data.json"])
    document = _policy_input()
    assert policy.evaluate(document).allow == python_gate(document, data)["allow"] is True

    return {
        "call": lambda: handler(event, context),
        "policy": policy,
        "document": document,
        "data": data,
        "decisions": decisions,
    }


def warm_decision() -> str:
    from puraify import wiring

    setup = setup_decision()
    policy, document, data, decisions = setup["policy"], setup["document"], setup["data"], setup["decisions"]
    sink = quiet_logs()
    with redirect_stdout(sink):
        first = json.loads(setup["call"]()["body"])
        assert first["allow"] is True and first["facts"]["change_freeze"]["age_seconds"] >= 0, first
        from puraify.planning import rego as policy_module

        def as_json_text() -> object:
            # As before: the input always as JSON text, which rego-cpp parses on every evaluation.
            exact, policy_module.exact_input = policy_module.exact_input, lambda document: None
            try:
                return policy.evaluate(document)
            finally:
                policy_module.exact_input = exact

        budget = wiring.current().settings.plan_decision_budget_ms / 1000
        times = interleaved(
            {
                "decide handler (auth, facts, evaluation, record)": setup["call"],
                "policy evaluation alone (regopy, compiled bundle, within the budget)": lambda: policy.evaluate(
                    document, budget
                ),
                "same evaluation on the calling thread (no budget)": lambda: policy.evaluate(document),
                "same evaluation, input as JSON text (as before)": as_json_text,
                "same gate in plain Python": lambda: python_gate(document, data),
            },
            WARM_CALLS,
        )
    wiring.install(None)
    assert len(decisions.records) >= WARM_CALLS
    rows = {name: summary_us(values) for name, values in times.items()}
    lines = [f"### 1. Warm decision, fresh stored facts, in-memory stores ({WARM_CALLS} calls each, interleaved)", ""]
    lines += latency_table(rows)
    evaluation = rows["policy evaluation alone (regopy, compiled bundle, within the budget)"]
    unbounded = rows["same evaluation on the calling thread (no budget)"]
    before = rows["same evaluation, input as JSON text (as before)"]
    plain = rows["same gate in plain Python"]
    lines += [
        "",
        f"Input built from values (exact; JSON text otherwise) / input as JSON text (p50): "
        f"{unbounded['p50'] / before['p50']:.2f}x. "
        f"The decision budget's worker-thread handoff (what every decision pays to be stoppable at the "
        f"budget): {evaluation['p50'] - unbounded['p50']:+.0f} us at p50 (about 14 us in isolation; the rows "
        "are interleaved, so a smaller or negative difference is this run's noise). "
        f"Policy evaluation / plain Python (p50): {evaluation['p50'] / plain['p50']:.0f}x. "
        f"Target evaluation p50 <= 500 us: {evaluation['p50']:.0f} us -> "
        f"{'met' if evaluation['p50'] <= 500 else 'NOT met'}.",
        "The handler collects the project's facts live on every call (two providers, on reused worker "
        "threads); the global facts come from the stored snapshot. "
        f"Load average when this section ended: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
    ]
    return "\n".join(lines)


def hanging_provider(runs: int = 5, timeout: float = 0.5) -> str:
    from puraify.planning.facts import FactContext, collect

    walls = []
    for _ in range(runs):
        providers = [_Static(f"p{i}", {f"f{i}": i}, delay=0.02 * i) for i in range(5)]
        providers.append(_Static("hung", {"hung": 1}, delay=30))
        started = time.perf_counter()
        facts = collect(providers, FactContext(), timeout)
        walls.append(time.perf_counter() - started)
        assert facts["hung"].error and all(facts[f"f{i}"].value == i for i in range(5))
    worst = max(walls)
    return "\n".join(
        [
            f"### 2. Fact collection: six providers, one hangs (timeout {timeout:g} s, {runs} runs)",
            "",
            "| wall time median (s) | worst (s) | limit: timeout + 10% (s) | sum of provider times if serial (s) |",
            "|---:|---:|---:|---:|",
            f"| {statistics.median(walls):.3f} | {worst:.3f} | {timeout * 1.1:.3f} | > {30 + 0.2:.1f} |",
            "",
            f"{'met' if worst <= timeout * 1.1 else 'NOT met'}: the five answering providers' facts are used, the "
            "hung one's facts carry 'timed out' (and deny).",
        ]
    )


def hot_reload(poll_seconds: float = 2.0, rounds: int = 3) -> str:
    from puraify.audit import AuditLog
    from puraify.planning.bundles import publish, read_folder
    from puraify.planning.models import PlanDecideRequest
    from puraify.planning.service import PlanningService
    from puraify.settings import Settings
    from puraify.store.planning import S3BundleStore
    from tests.fakes.engine_control import MemoryAuditStore
    from tests.fakes.planning import MemoryDecisionStore, MemoryFactStore

    results = []
    with moto_endpoint() as endpoint:
        template = use_template(endpoint, "benchplan-")
        bucket = S3BundleStore(template.physical_name("PolicyBucket"))
        files, _ = read_folder(GATE)
        publish(bucket, files, revision="r0", entrypoint="gate/decision")
        providers = [_Static("all", dict(HEALTHY))]
        service = PlanningService(
            settings=Settings(plan_policy_poll_seconds=poll_seconds),
            facts=MemoryFactStore(),
            decisions=MemoryDecisionStore(),
            bundle_store=bucket,
            providers=providers,
            audit=AuditLog(MemoryAuditStore(), 90),
            alert=lambda **_: None,
        )
        request = PlanDecideRequest(deployment_id="d", environment="production", project_id="p")
        sink = quiet_logs()
        with redirect_stdout(sink):
            assert service.decide(request, engine_id="bench", request_id="w").policy.revision == "r0"
            for n in range(1, rounds + 1):
                stop = threading.Event()
                seen: dict[str, float] = {}

                def decide_loop(revision: str, stop: threading.Event = stop, seen: dict = seen) -> None:
                    while not stop.is_set():
                        started = time.perf_counter()
                        decision = service.decide(request, engine_id="bench", request_id="loop")
                        if decision.policy.revision == revision and "first" not in seen:
                            seen["first"] = time.perf_counter()
                            seen["decision"] = time.perf_counter() - started
                            stop.set()

                # Let a random share of the poll interval pass, so the publish lands mid-interval.
                time.sleep(poll_seconds * (0.3 * n % 1))
                data = json.loads(files["data.json"])
                data["gate"]["thresholds"]["max_error_rate"] = 0.05 + n / 1000
                new_files = {**files, "data.json": json.dumps(data).encode()}
                worker = threading.Thread(target=decide_loop, args=(f"r{n}",), daemon=True)
                publish(bucket, new_files, revision=f"r{n}", entrypoint="gate/decision")
                published = time.perf_counter()
                worker.start()
                worker.join(poll_seconds * 3 + 5)
                stop.set()
                results.append((seen.get("first", float("inf")) - published, seen.get("decision", 0.0)))
    lines = [
        f"### 3. Hot reload (versioned bucket on moto, poll interval {poll_seconds:g} s, {rounds} publishes)",
        "",
        "| publish | manifest -> first decision using it (s) | that decision (ms) | limit: poll + one decision (s) |",
        "|---:|---:|---:|---:|",
    ]
    ok = True
    for i, (delay, decision) in enumerate(results, 1):
        limit = poll_seconds + decision
        ok = ok and delay <= limit
        lines.append(f"| {i} | {delay:.3f} | {decision * 1000:.1f} | {limit:.3f} |")
    lines += ["", f"{'met' if ok else 'NOT met'} (production default poll interval: 30 s, same mechanism)."]
    return "\n".join(lines)


def run() -> str:
    return "\n\n".join(["## Planning Engine", warm_decision(), hanging_provider(), hot_reload()])


if __name__ == "__main__":
    print(run())
