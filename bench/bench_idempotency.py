"""What an ``Idempotency-Key`` costs on a mutating route: ingest of one log event, with and without a key.

The log function's real handler on moto (real boto3, the template's tables), called in-process, in
interleaved rounds so the three cases see the same machine load: no key (as before), a fresh key
(Powertools writes an in-progress record, then the response: one PutItem and one UpdateItem more),
and a replay of a used key (one conditional PutItem that fails and returns the stored response).
"""

from __future__ import annotations

import copy
import json
import statistics
import time
import uuid

from bench.harness import moto_endpoint, quiet_logs, use_template
from bench.stats import summary_us
from local.template import ROOT

ADMIN_KEY = "pfk_bench-idempotency-admin-key-0123456789abcdefghij"
ROUNDS = 5
PER_ROUND = 40


def run() -> str:
    from local.gateway import LambdaContext, load_handler

    with moto_endpoint() as endpoint:
        template = use_template(
            endpoint, "bench-idem-", POWERTOOLS_LOG_LEVEL="ERROR", POWERTOOLS_METRICS_DISABLED="true"
        )
        from puraify import wiring
        from puraify.engine_control.bootstrap import ensure_admin

        ensure_admin(wiring.current().engines, ADMIN_KEY)
        quiet_logs()
        handler = load_handler(template.functions()["LogFunction"])
        base = json.loads((ROOT / "events" / "log" / "ingest.json").read_text())
        base["headers"].update({"x-engine-id": "admin", "x-engine-key": ADMIN_KEY})
        replay_key = uuid.uuid4().hex

        def call(key: str | None, event_id: str) -> float:
            event = copy.deepcopy(base)
            body = json.loads(event["body"])
            body["event_id"] = event_id
            event["body"] = json.dumps(body)
            event["requestContext"]["requestId"] = uuid.uuid4().hex
            if key:
                event["headers"]["idempotency-key"] = key
            started = time.perf_counter()
            result = handler(event, LambdaContext("LogFunction", event["requestContext"]["requestId"]))
            took = time.perf_counter() - started
            assert result["statusCode"] < 300, result
            return took

        call(replay_key, "bench-replayed")  # the key every replay reuses
        for _ in range(20):  # warm: clients, caches, imports
            call(None, uuid.uuid4().hex)
            call(uuid.uuid4().hex, uuid.uuid4().hex)
        times: dict[str, list[float]] = {"no key": [], "fresh key": [], "replayed key": []}
        for _ in range(ROUNDS):
            for _ in range(PER_ROUND):
                times["no key"].append(call(None, uuid.uuid4().hex))
                times["fresh key"].append(call(uuid.uuid4().hex, uuid.uuid4().hex))
                times["replayed key"].append(call(replay_key, "bench-replayed"))
        rows = {name: summary_us(t) for name, t in times.items()}
        base_p50 = rows["no key"]["p50"]
        lines = [
            "## Idempotency keys (`python -m bench idempotency`)",
            "",
            f"`POST /monitoring/logs` (one event) through the log function's handler on moto, {ROUNDS} interleaved "
            f"rounds of {PER_ROUND} calls per case.",
            "",
            "| case | p50 (us) | p99 (us) | mean (us) | p50 vs no key |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, r in rows.items():
            lines.append(f"| {name} | {r['p50']:.0f} | {r['p99']:.0f} | {r['mean']:.0f} | {r['p50'] / base_p50:.2f}x |")
        spread = statistics.median(times["fresh key"]) - statistics.median(times["no key"])
        lines += ["", f"A fresh key adds {spread * 1e3:.2f} ms at p50 (two writes to IdempotencyTable on moto)."]
        return "\n".join(lines)
