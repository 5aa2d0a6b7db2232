"""Counts are exact: each stored event is counted once, also when the same batch reaches two function
instances at once and when the counter write fails after the events were stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from local.template import ROOT
from puraify import clock, wiring
from puraify.errors import UnavailableError
from puraify.monitoring.ingest import repair_counts
from puraify.store.clients import client

# One function instance: the real LogFunction handler in its own process, sending the same batch
# `rounds` times, starting at the same instant as the other instance.
_INSTANCE = """
import json, sys, time
from local.gateway import LambdaContext, load_handler
from local.template import Template
event, start, rounds = json.loads(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
handler = load_handler(Template().functions()["LogFunction"])
time.sleep(max(0.0, start - time.time()))
codes = [handler(event, LambdaContext("LogFunction", f"r{i}"))["statusCode"] for i in range(rounds)]
print(json.dumps(codes))
"""


def _errors(project: str, n: int) -> list[dict]:
    return [
        {"project_id": project, "event_id": f"{project}-e{i}", "engine": "execution", "platform": "slack",
         "status": "error", "error_type": "api_timeout", "message": f"Slack API timed out (request {i:06x}f)"}
        for i in range(n)
    ]  # fmt: skip


def _ingest_event(writer: tuple[str, str], events: list[dict]) -> dict:
    event = json.loads((ROOT / "events" / "log" / "ingest_batch.json").read_text())
    event["headers"].update({"x-engine-id": writer[0], "x-engine-key": writer[1]})
    event["body"] = json.dumps({"events": events})
    return event


def _is_moto(endpoint_url: str) -> bool:
    try:
        # moto's config: a small answer (data.json dumps every backend, seconds on a large session)
        reply = httpx.get(f"{endpoint_url}/moto-api/config", timeout=5)
        return reply.is_success and "use_docker" in reply.text
    except httpx.HTTPError:
        return False


def _skip_on_moto() -> None:
    # DynamoDB's own endpoint: the DynamoDB Local suite sends only DynamoDB there (AWS_ENDPOINT_URL_DYNAMODB)
    if _is_moto(client("dynamodb").meta.endpoint_url):
        pytest.skip(
            "moto applies concurrent writes without isolation (it loses increments), so only a real emulator "
            "(DynamoDB Local, LocalStack) can show that concurrent writers count exactly"
        )


def _two_instances_at_once(event: dict, rounds: int) -> list[list[int]]:
    start = time.time() + 3
    instances = [
        subprocess.Popen(
            [sys.executable, "-c", _INSTANCE, json.dumps(event), str(start), str(rounds)],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in instances]
    return [json.loads(o.strip().splitlines()[-1]) for o in outputs]


def test_same_batch_sent_concurrently_to_two_instances_is_counted_once(aws, project, writer, reader, invoke):
    _skip_on_moto()
    # Given 15 errors (under the critical threshold of 20), each sent 4 times by each of two instances at once
    codes = _two_instances_at_once(_ingest_event(writer, _errors(project, 15)), 4)
    # Then every request was accepted, each event is counted once, and no false critical alert blocks deploys
    assert codes == [[202] * 4, [202] * 4]
    errors = invoke("log/errors", engine=reader, query={"project_id": project}).body
    assert errors["total"] == 15 and [g["count"] for g in errors["errors"]] == [15]
    assert wiring.current().monitoring.open_critical_alerts(project) == 0


def test_batch_of_several_transactions_sent_concurrently_to_two_instances_is_counted_once(
    aws, project, writer, reader, invoke
):
    _skip_on_moto()
    # Given 250 events (three transactions of events: 100, 100, 50), sent twice by each of two instances at once
    events = [{**e, "status": "success", "error_type": None, "message": None} for e in _errors(project, 250)]
    codes = _two_instances_at_once(_ingest_event(writer, events), 2)
    # Then every request was accepted, and each event is stored and counted once
    assert codes == [[202] * 2, [202] * 2]
    assert invoke("log/stats", engine=reader, query={"project_id": project}).body["events"] == 250
    logs = invoke("log/logs", engine=reader, query={"project_id": project, "limit": "1000"}).body["logs"]
    assert len(logs) == 250


def test_counter_failure_after_store_is_repaired_once_by_the_schedule(
    aws, project, writer, reader, invoke, monkeypatch
):
    service = wiring.current().monitoring

    def fail(*args, **kwargs):
        raise UnavailableError("the error aggregates are temporarily unavailable", code="store_unavailable")

    # Given the counter transaction fails after the events were stored
    monkeypatch.setattr(type(service.store), "apply_ledgers", fail)
    reply = invoke("log/ingest", engine=writer, body={"events": _errors(project, 12)})
    assert reply.status == 202 and reply.body["accepted"] == 12
    assert invoke("log/errors", engine=reader, query={"project_id": project}).body["total"] == 0
    monkeypatch.undo()
    # And a retry of the same batch finds the events stored (it counts nothing twice)
    invoke("log/ingest", engine=writer, body={"events": _errors(project, 12)})
    # When the schedule's repair pass runs (twice: overlapping runs must not count twice)
    later = clock.now() + 120
    assert repair_counts(service.store, service.alerts, service.config, at=later) >= 1
    repair_counts(service.store, service.alerts, service.config, at=later)
    # Then each event is counted exactly once
    errors = invoke("log/errors", engine=reader, query={"project_id": project}).body
    assert errors["total"] == 12
    totals = invoke("log/stats", engine=reader, query={"project_id": project}).body
    assert totals["events"] == 12


def test_events_without_event_id_are_counted_once_per_request(aws, project, writer, reader, invoke):
    events = [{k: v for k, v in e.items() if k != "event_id"} for e in _errors(project, 3)]
    invoke("log/ingest", engine=writer, body={"events": events})
    invoke("log/ingest", engine=writer, body={"events": events})  # a client retry without ids: a second copy
    assert invoke("log/errors", engine=reader, query={"project_id": project}).body["total"] == 6
