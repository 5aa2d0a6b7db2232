"""The collect schedule, GET /plan/facts, and the HTTP fact provider against a server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from local.gateway import LambdaContext, load_handler
from local.template import Template


@pytest.fixture
def metrics_server() -> Iterator[dict]:
    """A small JSON server: ``state["body"]`` is served at /metrics, ``state["delay"]`` seconds late."""
    state: dict = {"body": {"value": 0.2}, "status": 200, "delay": 0.0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            return

        def do_GET(self):
            time.sleep(state["delay"])
            payload = json.dumps(state["body"]).encode()
            self.send_response(state["status"])
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/metrics"
    yield state
    server.shutdown()
    server.server_close()


def run_collect() -> dict:
    function = Template().functions()["CollectFunction"]
    event = json.loads((function.folder.parent.parent / "events" / "collect" / "schedule.json").read_text())
    return load_handler(function)(event, LambdaContext("CollectFunction", event["id"]))


def test_template_declares_the_collect_schedule():
    assert Template().functions()["CollectFunction"].schedules == ["rate(1 minute)"]


def test_collect_stores_a_snapshot_that_facts_route_reports_with_ages(aws, admin, invoke):
    # Given
    assert invoke("config/put_platform", engine=admin, path_params={"name": "slack"},
                  body={"status": "maintenance", "api_version": "v1", "actions": {}}).status == 200  # fmt: skip
    # When
    result = run_collect()
    # Then
    assert result["unavailable"] == []
    items = aws.client("dynamodb").scan(TableName=aws.name("PlanFactsTable"))["Items"]
    assert len(items) == 1 and int(items[0]["expires_at"]["N"]) > time.time()
    reply = invoke("plan/facts", engine=admin)
    assert reply.status == 200
    facts = reply.body["facts"]
    assert facts["platforms_in_maintenance"]["value"] == ["slack"]
    assert facts["change_freeze"]["value"] is False
    assert all(not f["stale"] and f["age_seconds"] < 5 for f in facts.values())
    assert reply.body["stale"] is False
    assert reply.body["collected_at"]


def test_facts_route_without_a_snapshot_is_stale_and_empty(aws, admin, invoke):
    reply = invoke("plan/facts", engine=admin)
    assert reply.status == 200
    assert (reply.body["stale"], reply.body["facts"], reply.body["collected_at"]) == (True, {}, None)


def test_http_fact_is_collected_and_reaches_the_policy_input(aws, admin, monkeypatch, metrics_server):
    from puraify import wiring

    monkeypatch.setenv("PURAIFY_PLAN_HTTP_FACTS", json.dumps({"latency_p99": metrics_server["url"]}))
    wiring.reset()
    facts = wiring.current().planning.collect_snapshot().facts
    assert facts["latency_p99"].value == 0.2
    assert facts["latency_p99"].error is None


def test_http_fact_with_an_old_timestamp_is_stale(aws, admin, monkeypatch, metrics_server):
    from puraify import wiring
    from puraify.clock import iso

    metrics_server["body"] = {"value": 12, "timestamp": iso(time.time() - 120)}
    monkeypatch.setenv("PURAIFY_PLAN_HTTP_FACTS", json.dumps({"queue_depth": metrics_server["url"]}))
    wiring.reset()
    run_collect()
    seen = wiring.current().planning.facts_view().facts["queue_depth"]
    assert seen.value == 12
    assert seen.stale is True
    assert seen.age_seconds >= 120


def test_http_fact_that_fails_or_hangs_is_unavailable_within_the_timeout(aws, monkeypatch, metrics_server):
    from puraify import wiring

    monkeypatch.setenv("PURAIFY_PLAN_HTTP_FACTS", json.dumps({"slow": metrics_server["url"]}))
    monkeypatch.setenv("PURAIFY_PLAN_PROVIDER_TIMEOUT_SECONDS", "1.0")  # generous: CI machines are busy
    wiring.reset()
    service = wiring.current().planning
    metrics_server["status"] = 500
    assert "HTTP 500" in service.collect_snapshot().facts["slow"].error
    metrics_server["status"], metrics_server["delay"] = 200, 6.0
    started = time.perf_counter()
    fact = service.collect_snapshot().facts["slow"]
    assert time.perf_counter() - started < 3.5  # the timeout, not the hang (bench/bench_planning.py times it)
    assert fact.error and ("timed out" in fact.error or "Timeout" in fact.error)


def test_http_fact_that_is_not_finite_json_is_an_error_not_a_value(aws, monkeypatch, metrics_server):
    from puraify import wiring

    monkeypatch.setenv("PURAIFY_PLAN_HTTP_FACTS", json.dumps({"weird": metrics_server["url"]}))
    wiring.reset()
    metrics_server["body"] = float("nan")
    fact = wiring.current().planning.collect_snapshot().facts["weird"]
    assert fact.value is None
    assert "NaN is not a JSON number" in fact.error
