"""Why and what if: simulate on replayed audit records, and what ``explain`` costs the check path.

1. Simulate: 10,000 audited checks written to the audit table of a moto server (through the real
   adapter), then ``POST /actions/simulate``'s service call replaying them (an engine's permission
   change: one Query on ``by_subject``; a platform's status: eight Queries on ``by_platform``).
   Wall time of each (median of a few runs), the records read, and the DynamoDB cost of a 7-day
   replay for an engine making one check per second, from the measured item size.
2. The check path, warm, in-memory stores: the handler without ``explain``, with ``explain: true``,
   and a baseline: the same handler with the decision code as it was before the step recorder
   (no ``steps`` parameter), measured twice (A/A) so the noise band is measured too, interleaved.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from contextlib import redirect_stdout
from typing import Any

from bench.bench_engine_control import SINGLE, _event, _interleaved, _seed, _us
from bench.harness import moto_endpoint, quiet_logs, use_template

RECORDS = 10_000
RUNS = 3
WARM_CALLS = 6000
DYNAMODB_PER_READ_UNIT = 0.125 / 1e6  # on-demand, us-east-1, 2026
DYNAMODB_PER_WRITE_UNIT = 0.625 / 1e6
STORAGE_PER_GB_MONTH = 0.25
SECONDS_A_WEEK = 7 * 86400


def _records(audit: Any, count: int) -> list[dict[str, Any]]:
    from puraify.clock import now

    start = now() - 3600
    actions = [("gmail", "send_email"), ("gmail", "read_email"), ("slack", "send_message"), ("gmail", "add_label")]
    built = []
    for n in range(count):
        platform, action = actions[n % len(actions)]
        allowed = action != "add_label"
        built.append(
            audit.build(
                kind="check",
                request_id=f"bench-{n:06d}",
                engine_id="action",
                status="allowed" if allowed else "denied",
                platform=platform,
                action_type=action,
                reason=None if allowed else f"action '{action}' on '{platform}' is not granted to engine 'action'",
                flow_id=f"flow-{n % 5}",
                details=None if allowed else {"rule": "not_granted"},
                at=start + n * 0.3,
            )
        )
    return built


def simulate() -> tuple[str, dict[str, float]]:
    from puraify import wiring
    from puraify.auth import Principal
    from puraify.engine_control import models as m
    from puraify.engine_control.simulate import MAX_SIMULATE_RECORDS
    from puraify.store.items import to_item

    with moto_endpoint() as endpoint:
        use_template(endpoint, "benchwhy-")
        current = wiring.current()
        _seed(current)
        records = _records(current.audit, RECORDS)
        started = time.perf_counter()
        for first in range(0, len(records), 25):
            current.audit_store.put_many(records[first : first + 25])
        write_seconds = time.perf_counter() - started
        item_bytes = statistics.mean(len(json.dumps(to_item(r))) for r in records[:500])
        admin = Principal(engine_id="admin", scopes=frozenset({"admin"}), projects=frozenset({"*"}))
        changes = {
            "engine": m.SimulateRequest.model_validate(
                {"change": {"engine": {"engine_id": "action", "permissions": {"gmail": ["send_email"]}}}}
            ),
            "platform": m.SimulateRequest.model_validate(
                {"change": {"platforms": {"gmail": {"status": "maintenance"}}}}
            ),
        }
        sink = quiet_logs()
        results: dict[str, tuple[float, Any]] = {}
        with redirect_stdout(sink):
            for name, body in changes.items():
                times, reply = [], None
                for run in range(RUNS):
                    started = time.perf_counter()
                    reply = current.engine_control.simulate(admin, body, f"bench-sim-{name}-{run}")
                    times.append(time.perf_counter() - started)
                results[name] = (statistics.median(times), reply)
    engine_s, engine_reply = results["engine"]
    platform_s, platform_reply = results["platform"]
    assert engine_reply.replayed == RECORDS and not engine_reply.truncated, engine_reply
    per_record = engine_s / engine_reply.records_read
    # A 7-day window of one engine at one check per second.
    week = SECONDS_A_WEEK
    read_units = lambda n: n * item_bytes / 4096 / 2  # eventually consistent: half a unit per 4 KB  # noqa: E731
    bounded = min(week, MAX_SIMULATE_RECORDS)
    index_writes = 2 * week  # by_subject and by_platform: one write unit each per check (items < 1 KB)
    index_storage_gb = 2 * week * (item_bytes + 100) / 1e9  # GSI items carry about 100 bytes of overhead
    rows = [("engine permissions (1 Query, `by_subject`)", engine_reply, engine_s),
            ("platform status (8 Queries, `by_platform`)", platform_reply, platform_s)]  # fmt: skip
    lines = [
        f"### 1. Simulate: {RECORDS:,} audited checks replayed on moto (median of {RUNS})",
        "",
        "| change | records read | replayed | flips (allow->deny / deny->allow) | wall time | target <= 2 s |",
        "|---|---:|---:|---|---:|---|",
    ]
    for label, reply, seconds in rows:
        flips = f"{reply.allow_to_deny:,} / {reply.deny_to_allow:,}"
        met = "met" if seconds <= 2 else "NOT met"
        lines.append(f"| {label} | {reply.records_read:,} | {reply.replayed:,} | {flips} | {seconds:.2f} s | {met} |")
    week_reads, bounded_reads = read_units(week), read_units(bounded)
    lines += [
        "",
        f"Writing the {RECORDS:,} records took {write_seconds:.1f} s (BatchWriteItem, 25 a call). An audit item is "
        f"~{item_bytes:.0f} bytes on the wire; {per_record * 1e6:.0f} us per record replayed here.",
        "",
        f"**A 7-day replay of an engine making one check per second** ({week:,} checks): simulate reads at most "
        f"{bounded:,} records (`truncated: true` past it): {bounded * per_record:.1f} s at this rate and "
        f"{bounded_reads:,.0f} read units (${bounded_reads * DYNAMODB_PER_READ_UNIT:.4f}). The whole week would be "
        f"{week_reads:,.0f} read units (${week_reads * DYNAMODB_PER_READ_UNIT:.4f}) and ~{week * per_record:.0f} s.",
        f"What the indexes cost to keep: 2 write units per check ({index_writes:,} a week, "
        f"${index_writes * DYNAMODB_PER_WRITE_UNIT:.2f}) and {index_storage_gb:.2f} GB of index storage a week "
        f"(at the 90-day retention, 13 weeks kept: ${index_storage_gb * 13 * STORAGE_PER_GB_MONTH:.2f} a month).",
    ]
    return "\n".join(lines), {"engine_s": engine_s, "platform_s": platform_s}


def _former_evaluate(engine_id: str, engine: Any, catalog: Any, platform: str, action_type: str,
                     project_id: str | None = None, steps: Any = None) -> Any:  # fmt: skip
    """The check's rules as they were before the step recorder: no ``steps`` tests at all."""
    from puraify.engine_control.decisions import Decision

    if engine is None or engine.status != "active":
        return Decision(False, "engine_not_found", f"engine '{engine_id}' not found")
    if project_id is not None and "*" not in engine.projects and project_id not in engine.projects:
        return Decision(False, "project_not_granted", f"engine '{engine_id}' is not granted project '{project_id}'")
    spec = catalog.platforms.get(platform)
    if spec is None:
        return Decision(False, "unknown_platform", f"unknown platform '{platform}'")
    action = spec.actions.get(action_type)
    if action is None:
        return Decision(False, "unknown_action", f"unknown action '{action_type}' on platform '{platform}'")
    scopes = tuple(action.required_scopes)
    if action_type not in engine.permissions.get(platform, ()):
        return Decision(False, "not_granted", "not granted", scopes)
    if spec.status != "available":
        return Decision(False, f"platform_{spec.status}", f"platform '{platform}' is in {spec.status}", scopes)
    for flag in catalog.flags.values():
        if flag.enabled or flag.platform != platform:
            continue
        if flag.action_type is None or flag.action_type == action_type:
            return Decision(False, "flag_disabled", f"disabled by flag '{flag.name}'", scopes)
    return Decision(True, None, None, scopes)


def check_path() -> tuple[str, dict[str, float]]:
    from local.gateway import LambdaContext, load_handler
    from local.template import Template
    from puraify import wiring
    from puraify.engine_control import checks
    from puraify.settings import get_settings
    from tests.fakes.engine_control import (
        MemoryAuditStore,
        MemoryCatalogStore,
        MemoryCheckCountStore,
        MemoryEngineStore,
    )
    from tests.fakes.idempotency import MemoryPersistenceLayer

    current = wiring.build(get_settings(), engines=MemoryEngineStore(), catalog=MemoryCatalogStore(),
                           audit_store=MemoryAuditStore(), check_counts=MemoryCheckCountStore(),
                           idempotency_layer=MemoryPersistenceLayer)  # fmt: skip
    wiring.install(current)
    _seed(current)
    handler = load_handler(Template().functions()["CheckFunction"])
    context = LambdaContext("CheckFunction", "bench")
    plain, explained = _event(SINGLE), _event({**SINGLE, "explain": True})
    recorder = checks.evaluate

    def baseline() -> object:
        checks.evaluate = _former_evaluate  # type: ignore[assignment]
        try:
            return handler(plain, context)
        finally:
            checks.evaluate = recorder

    sink = quiet_logs()
    with redirect_stdout(sink):
        assert "explanation" in json.loads(handler(explained, context)["body"])
        assert json.loads(baseline()["body"])["allowed"] is True  # type: ignore[index]
        times = _interleaved(
            {"baseline": baseline, "check": lambda: handler(plain, context), "baseline_again": baseline,
             "explain": lambda: handler(explained, context)},
            WARM_CALLS,
        )  # fmt: skip
    wiring.install(None)
    row = {name: _us(walls, 0.5) for name, (walls, _) in times.items()}
    cpu = {name: _us(cpus, 0.5) for name, (_, cpus) in times.items()}
    noise = abs(row["baseline_again"] - row["baseline"]) / row["baseline"]
    overhead = (row["check"] - row["baseline"]) / row["baseline"]
    lines = [
        f"### 2. The check path with and without `explain` (warm, in-memory stores, {WARM_CALLS} calls each, "
        "interleaved)",
        "",
        "| what | p50 (us) | CPU p50 (us) | vs baseline |",
        "|---|---:|---:|---:|",
    ]
    labels = {
        "baseline": "baseline: the decision code before the step recorder",
        "baseline_again": "the same baseline again (A/A: the noise)",
        "check": "**check without `explain`** (the recorder present, unused)",
        "explain": "check with `explain: true`",
    }
    for name, label in labels.items():
        lines.append(f"| {label} | {row[name]:.1f} | {cpu[name]:.1f} | {row[name] / row['baseline']:.3f}x |")
    within = abs(overhead) <= max(noise, 0.03)
    lines += [
        "",
        f"Without `explain` the check is {overhead * 100:+.1f}% against the baseline; the A/A noise of this run is "
        f"{noise * 100:.1f}%: {'within noise' if within else 'NOT within noise'} (the recorder costs a None test per "
        "rule). `explain` itself builds the steps and the explanation, only when asked.",
    ]
    return "\n".join(lines), {"overhead": overhead, "noise": noise}


def run() -> str:
    check_text, _ = check_path()
    simulate_text, _ = simulate()
    return "\n\n".join(["## Why and what if (explain, simulate)", simulate_text, check_text])


if __name__ == "__main__":
    sys.exit(print(run()))
