"""Monitoring & Logs: batch versus single ingest, AWS calls per batch, a 10,000-error flood.

Everything goes through the real ``log`` handler (event in, response out: auth, validation,
fingerprints, counters, alerts) with real boto3 against an embedded moto server on 127.0.0.1,
with the tables, topic and SSM parameter created from ``template.yaml``.

1. Ingest throughput: 500-event batches versus 500 single-event requests, interleaved in one run.
2. AWS calls per 500-event batch (450 successes, 50 errors over 5 fingerprints), counted with
   botocore's ``before-call`` hook: writes, reads, and the target (<= 25 writes + 1 per fingerprint);
   plus the items written and their write units (1 per KB of item, 2 per KB inside
   TransactWriteItems), since exact counting creates the events in transactions of conditional Puts.
3. A flood of 10,000 identical errors (20 batches of 500): notifications received by a Slack-compatible
   receiver on 127.0.0.1 and published to SNS, and events stored (counted with a Query per shard).
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager, redirect_stdout
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.harness import moto_endpoint, quiet_logs, use_template

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
ENGINE_KEY = "pfk_bench-monitor-key-0123456789abcdefghijklmnopqrstu"
ROUNDS = 3
WRITES = {"BatchWriteItem", "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"}


class _Slack:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:  # noqa: N802
                outer.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/bench"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _event(project: str, i: int, **overrides: Any) -> dict[str, Any]:
    event = {
        "project_id": project,
        "flow_id": f"flow_{i % 7}",
        "event_type": "execution",
        "engine": "execution",
        "platform": "slack" if i % 2 else "gmail",
        "action": "send_message" if i % 2 else "send_email",
        "status": "success",
        "duration_ms": 100 + i % 900,
        "retries": i % 3 == 0,
        "timestamp": datetime.now(UTC).isoformat(),
        "event_id": uuid.uuid4().hex,
    }
    event["retries"] = int(event["retries"])
    return {**event, **overrides}


def _bytes(value: dict[str, Any]) -> int:
    """An attribute value's size as DynamoDB bills it (close enough: numbers at their digit count)."""
    kind, inner = next(iter(value.items()))
    if kind == "M":
        return 3 + sum(len(k.encode()) + _bytes(v) for k, v in inner.items())
    if kind == "L":
        return 3 + sum(1 + _bytes(v) for v in inner)
    if kind in ("BOOL", "NULL"):
        return 1
    return len(str(inner).encode())


def _units(item: dict[str, Any] | None) -> int:
    """Write units of one item (1 per started KB); an update or delete of a small counter or key: 1."""
    if not item:
        return 1
    return max(1, -(-sum(len(k.encode()) + _bytes(v) for k, v in item.items()) // 1024))


@contextmanager
def _counting():
    from puraify.store.clients import client

    calls: Counter[str] = Counter()

    def hook(model: Any, **_: Any) -> None:
        calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def items(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            calls["items written"] += len(params["TransactItems"])
            for entry in params["TransactItems"]:  # a transactional write costs 2 units per KB
                calls["write units"] += 2 * _units(next(iter(entry.values())).get("Item"))
        elif model.name == "BatchWriteItem":
            for requests in params["RequestItems"].values():
                calls["items written"] += len(requests)
                calls["write units"] += sum(_units(r.get("PutRequest", {}).get("Item")) for r in requests)
        elif model.name in WRITES:
            calls["items written"] += 1
            calls["write units"] += _units(params.get("Item"))

    clients = [client("dynamodb"), client("sns"), client("ssm")]
    for c in clients:
        c.meta.events.register("before-call.*.*", hook)
    client("dynamodb").meta.events.register("provide-client-params.dynamodb.*", items)
    try:
        yield calls
    finally:
        for c in clients:
            c.meta.events.unregister("before-call.*.*", hook)
        client("dynamodb").meta.events.unregister("provide-client-params.dynamodb.*", items)


def _setup(endpoint: str) -> tuple[Any, Any, Any]:
    from local.gateway import LambdaContext, load_handler

    template = use_template(endpoint, "bench-")
    slack = _Slack()
    import boto3

    boto3.session.Session().client("ssm", endpoint_url=endpoint, region_name="us-east-1").put_parameter(
        Name=os.environ["PURAIFY_SLACK_WEBHOOK_PARAMETER"], Value=slack.url, Type="SecureString", Overwrite=True
    )

    from puraify import wiring
    from puraify.auth import hash_key
    from puraify.clock import iso
    from puraify.engine_control.records import EngineRecord

    wiring.current().engines.create(
        EngineRecord(
            engine_id="execution",
            key_hash=hash_key(ENGINE_KEY),
            scopes=["logs:write", "report"],
            projects=["*"],
            created_at=iso(),
            updated_at=iso(),
        )
    )
    handler = load_handler(template.functions()["LogFunction"])
    base = json.loads((ROOT / "events" / "log" / "ingest.json").read_text())
    base["headers"].update({"x-engine-id": "execution", "x-engine-key": ENGINE_KEY})

    def call(body: Any) -> dict[str, Any]:
        event = {**base, "body": json.dumps(body)}
        reply = handler(event, LambdaContext("LogFunction", uuid.uuid4().hex))
        assert reply["statusCode"] == 202, reply
        return json.loads(reply["body"])

    quiet_logs()
    return call, slack, template


def _stored(template: Any, project: str) -> int:
    from puraify import wiring
    from puraify.store.clients import client

    total = 0
    for shard in range(wiring.current().settings.event_shards):
        kwargs: dict[str, Any] = {
            "TableName": template.physical_name("EventsTable"),
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": f"EV#{project}#{shard}"}},
            "Select": "COUNT",
        }
        while True:
            page = client("dynamodb").query(**kwargs)
            total += page["Count"]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return total


def _met(met: bool) -> str:
    return "met" if met else "**not met**"


def run() -> str:
    with open(os.devnull, "w") as sink, redirect_stdout(sink):
        return _run()


def _run() -> str:
    with moto_endpoint() as endpoint:
        call, slack, template = _setup(endpoint)
        # warm up: cold imports, clients, caches
        call({"events": [_event("pf_warm", i) for i in range(50)]})
        for i in range(20):
            call(_event("pf_warm", i))

        # 1. batch versus single, interleaved rounds
        batch_rates, single_rates = [], []
        for r in range(ROUNDS):
            events = [_event(f"pf_batch_{r}", i) for i in range(500)]
            started = time.perf_counter()
            reply = call({"events": events})
            batch_rates.append(500 / (time.perf_counter() - started))
            assert reply["accepted"] == 500
            singles = [_event(f"pf_single_{r}", i) for i in range(500)]
            started = time.perf_counter()
            for event in singles:
                call(event)
            single_rates.append(500 / (time.perf_counter() - started))
        batch_eps, single_eps = statistics.median(batch_rates), statistics.median(single_rates)

        # 2. AWS calls for one realistic batch
        events = [_event("pf_calls", i) for i in range(450)]
        events += [
            _event(
                "pf_calls",
                450 + i,
                status="error",
                platform="slack",
                error_type=f"type_{i % 5}",
                message=f"failure {i} on item {i * 7}",
            )  # fmt: skip
            for i in range(50)
        ]
        with _counting() as calls:
            call({"events": events})
        items_written = calls.pop("items written", 0)
        write_units = calls.pop("write units", 0)
        writes = sum(n for op, n in calls.items() if op.split(":")[1] in WRITES)
        reads = sum(n for op, n in calls.items() if op.split(":")[1] not in WRITES and op.startswith("dynamodb"))
        target = 25 + 5

        # 3. flood of one error
        before = len(slack.received)
        flood_started = time.perf_counter()
        with _counting() as flood_calls:
            flood_calls.pop("items written", None)
            flood_calls.pop("write units", None)
            for b in range(20):
                call(
                    {
                        "events": [
                            _event(
                                "pf_flood",
                                b * 500 + i,
                                status="error",
                                platform="slack",
                                error_type="api_timeout",
                                message=f"request {b * 500 + i} timed out after 3000 ms",
                            )  # fmt: skip
                            for i in range(500)
                        ]
                    }
                )
        flood_seconds = time.perf_counter() - flood_started
        notified_slack = len(slack.received) - before
        notified_sns = flood_calls["sns:Publish"]
        stored = _stored(template, "pf_flood")
        slack.server.shutdown()

    ratio = batch_eps / single_eps
    lines = [
        "## Monitoring & Logs",
        "Real `log` handler, real boto3, embedded moto server (127.0.0.1; its TransactWriteItems backs up the items "
        "a transaction touches, not whole tables: `local/moto_transactions.py`), resources from `template.yaml`. "
        f"Medians of {ROUNDS} interleaved rounds. Reproduce: `python -m bench monitoring`.",
        "",
        "| measure | result | target | met? |",
        "|---|---|---|---|",
        f"| ingest, 500-event batch | {batch_eps:,.0f} events/s | | |",
        f"| ingest, 500 single-event requests | {single_eps:,.0f} events/s | | |",
        f"| batch / single | **{ratio:.1f}x** | >= 10x | {_met(ratio >= 10)} |",
        f"| AWS write requests per 500-event batch (5 error fingerprints) | **{writes}** | <= {target} | "
        f"{_met(writes <= target)} |",
        f"| items written in that batch | {items_written} | | |",
        f"| write units of that batch (1 per KB of item, 2 per KB inside TransactWriteItems) | {write_units} | "
        "without exact counting (BatchWriteItem, 1 unit per event) about half | |",
        f"| DynamoDB reads in that batch (event-id check, window counts, alert states, auth refill) | {reads} | | |",
        f"| 10,000-error flood: Slack notifications | **{notified_slack}** | <= 3 | {_met(notified_slack <= 3)} |",
        f"| 10,000-error flood: SNS notifications | **{notified_sns}** | <= 3 | {_met(notified_sns <= 3)} |",
        f"| 10,000-error flood: events stored | **{stored:,}** | 10,000 | {_met(stored == 10_000)} |",
        f"| 10,000-error flood: ingest time (20 batches) | {flood_seconds:.1f} s | | |",
        "",
        "Calls in the 500-event batch: " + ", ".join(f"`{op}` {n}" for op, n in sorted(calls.items())),
    ]
    return "\n".join(lines)
