"""Why and what if: simulate on replayed audit records (what ``explain`` costs the check path is measured in
``bench_engine_control``, section 1, beside the warm check it would slow).

1. Simulate: 10,000 audited checks written to the audit table of a moto server (through the real
   adapter), then ``POST /actions/simulate``'s service call replaying them (an engine's permission
   change: one Query on ``by_subject``; a platform's status: eight Queries on ``by_platform``).
   Wall time of each (median of a few runs), the records read, and the DynamoDB cost of a 7-day
   replay for an engine making one check per second, from the measured item size.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from typing import Any

from bench.bench_engine_control import _seed
from bench.harness import moto_endpoint, quiet_logs, use_template

RECORDS = 10_000
RUNS = 3
DYNAMODB_PER_READ_UNIT = 0.125 / 1e6  # on-demand, us-east-1, 2026
DYNAMODB_PER_WRITE_UNIT = 0.625 / 1e6
STORAGE_PER_GB_MONTH = 0.25
SECONDS_A_WEEK = 7 * 86400


# What the seeded engine asks, in proportion: (platform, action, project); its grants make some of these
# allowed and some denied (not granted, or a project it does not hold), as a real engine's traffic is.
ASKED = [("gmail", "send_email", "shop")] * 4 + [("slack", "send_message", "shop")] * 3 + [
    ("gmail", "read_email", "shop"), ("gmail", "add_label", None), ("notion", "create_page", "blog"),
]  # fmt: skip


def _records(current: Any, count: int) -> list[dict[str, Any]]:
    """``count`` audit records made by the check's own code (``_decide``: rule, reason, details and keys as a
    real check writes them), spread over the last 23 hours, the engine's own and some asked on its behalf."""
    from puraify.auth import Principal
    from puraify.clock import now
    from puraify.engine_control import models as m

    engine = Principal(engine_id="action", scopes=frozenset(), projects=frozenset({"shop"}))
    admin = Principal(engine_id="admin", scopes=frozenset({"admin"}), projects=frozenset({"*"}))
    start = now() - 23 * 3600
    built = []
    for n in range(count):
        platform, action, project = ASKED[n % len(ASKED)]
        on_behalf = n % 7 == 0
        body = m.ActionCheckRequest(
            platform=platform, action_type=action, project_id=project, flow_id=f"flow-{n % 50}",
            engine_id="action" if on_behalf else None,
        )  # fmt: skip
        at = start + n * (23 * 3600 / count)
        checked = current.engine_control._decide(admin if on_behalf else engine, body, f"bench-{n:06d}", at,
                                                 current.engine_control.catalog)  # fmt: skip
        built.append(checked.record)
    return built


@contextmanager
def _moto_query_time() -> Iterator[list[float]]:
    """Seconds spent inside moto's own Query (the emulator, in this process), summed into the yielded list."""
    from moto.dynamodb.models.table import Table

    spent = [0.0]
    original = Table.query

    def query(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    Table.query = query  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        Table.query = original  # type: ignore[method-assign]


def simulate() -> tuple[str, dict[str, float]]:
    from puraify import wiring
    from puraify.audit import REPLAYED
    from puraify.auth import Principal
    from puraify.engine_control import models as m
    from puraify.engine_control.simulate import MAX_SIMULATE_RECORDS
    from puraify.store.items import to_item

    with moto_endpoint() as endpoint:
        use_template(endpoint, "benchwhy-")
        current = wiring.current()
        _seed(current)
        engine = current.engines.get("action")
        current.engines.update(engine.model_copy(update={"projects": ["shop"]}), engine.key_hash)
        records = _records(current, RECORDS)
        started = time.perf_counter()
        for first in range(0, len(records), 25):
            current.audit_store.put_many(records[first : first + 25])
        write_seconds = time.perf_counter() - started
        item_bytes = statistics.mean(len(json.dumps(to_item(r))) for r in records[:500])
        replayed_bytes = statistics.mean(len(json.dumps(to_item({k: r[k] for k in REPLAYED if k in r})))
                                         for r in records[:500])  # fmt: skip
        admin = Principal(engine_id="admin", scopes=frozenset({"admin"}), projects=frozenset({"*"}))
        changes = {
            "engine": m.SimulateRequest.model_validate(
                {"change": {"engine": {"engine_id": "action", "permissions": {"gmail": ["send_email", "read_email"]}}}}
            ),
            "platform": m.SimulateRequest.model_validate(
                {"change": {"platforms": {"gmail": {"status": "maintenance"}}}}
            ),
        }
        sink = quiet_logs()
        results: dict[str, tuple[float, float, Any]] = {}
        with redirect_stdout(sink):
            for name, body in changes.items():
                times, in_moto, reply = [], [], None
                for run in range(RUNS):
                    with _moto_query_time() as spent:
                        started = time.perf_counter()
                        reply = current.engine_control.simulate(admin, body, f"bench-sim-{name}-{run}")
                        times.append(time.perf_counter() - started)
                    in_moto.append(spent[0])
                results[name] = (statistics.median(times), statistics.median(in_moto), reply)
    engine_s, engine_moto, engine_reply = results["engine"]
    platform_s, platform_moto, platform_reply = results["platform"]
    assert engine_reply.replayed == RECORDS and not engine_reply.truncated, engine_reply
    assert engine_reply.allow_to_deny and engine_reply.deny_to_allow and platform_reply.allow_to_deny, results
    per_record = engine_s / engine_reply.records_read
    per_record_ours = (engine_s - engine_moto) / engine_reply.records_read
    # A 7-day window of one engine at one check per second.
    week = SECONDS_A_WEEK
    read_units = lambda n: n * item_bytes / 4096 / 2  # eventually consistent: half a unit per 4 KB read  # noqa: E731
    bounded = min(week, MAX_SIMULATE_RECORDS)
    index_writes = 2 * week  # by_subject and by_platform: one write unit each per check (items < 1 KB)
    index_storage_gb = 2 * week * (item_bytes + 100) / 1e9  # GSI items carry about 100 bytes of overhead
    rows = [("engine permissions (1 Query, `by_subject`)", engine_reply, engine_s, engine_moto),
            ("platform status (8 Queries, `by_platform`)", platform_reply, platform_s, platform_moto)]  # fmt: skip
    lines = [
        f"### 1. Simulate: {RECORDS:,} audited checks replayed on moto (median of {RUNS})",
        "",
        "| change | records read | replayed | flips (allow->deny / deny->allow) | wall time | of which in moto's "
        "Query | target <= 2 s |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    for label, reply, seconds, in_moto in rows:
        flips = f"{reply.allow_to_deny:,} / {reply.deny_to_allow:,}"
        met = "met" if seconds <= 2 else "NOT met"
        lines.append(
            f"| {label} | {reply.records_read:,} | {reply.replayed:,} | {flips} | {seconds:.2f} s | {in_moto:.2f} s "
            f"| {met} |"
        )
    week_reads, bounded_reads = read_units(week), read_units(bounded)
    lines += [
        "",
        f"The records are made by the check's own code (10 kinds of question, a seventh asked on the engine's "
        f"behalf); writing them took {write_seconds:.1f} s (BatchWriteItem, 25 a call). An audit item is "
        f"~{item_bytes:.0f} bytes on the wire, ~{replayed_bytes:.0f} with only the replayed fields "
        f"(ProjectionExpression). Per record replayed: {per_record * 1e6:.0f} us in all, "
        f"{per_record_ours * 1e6:.0f} us outside moto's Query (HTTP, botocore's parsing, our code).",
        "",
        f"**A 7-day replay of an engine making one check per second** ({week:,} checks; method: read units from "
        "the measured item size, eventually consistent Query, half a unit per 4 KB; time from the measured "
        f"per-record figures above): simulate reads at most {bounded:,} records (`truncated: true` past it, the "
        f"newest kept): {bounded_reads:,.0f} read units (${bounded_reads * DYNAMODB_PER_READ_UNIT:.4f}) and "
        f"{bounded * per_record:.1f} s at this rate ({bounded * per_record_ours:.1f} s outside the emulator). The "
        f"whole week would be {week_reads:,.0f} read units (${week_reads * DYNAMODB_PER_READ_UNIT:.4f}) and "
        f"~{week * per_record:.0f} s.",
        f"What the indexes cost to keep: 2 write units per check ({index_writes:,} a week, "
        f"${index_writes * DYNAMODB_PER_WRITE_UNIT:.2f}) and {index_storage_gb:.2f} GB of index storage a week "
        f"(at the 90-day retention, 13 weeks kept: ${index_storage_gb * 13 * STORAGE_PER_GB_MONTH:.2f} a month).",
    ]
    return "\n".join(lines), {"engine_s": engine_s, "platform_s": platform_s}


def run() -> str:
    simulate_text, _ = simulate()
    return "\n\n".join(
        ["## Why and what if (simulate; `explain`'s cost is in Engine Control, section 1)", simulate_text]
    )


if __name__ == "__main__":
    sys.exit(print(run()))
