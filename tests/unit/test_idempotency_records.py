"""Idempotency on the in-memory twin of the DynamoDB persistence layer (no network)."""

from __future__ import annotations

import json

import pytest

from local.gateway import LambdaContext
from puraify.errors import ConflictError
from puraify.idempotency import Idempotency
from tests.fakes.idempotency import MemoryPersistenceLayer

CONTEXT = LambdaContext("EnvFunction", "req-1")


def _event(key: str, body: dict) -> dict:
    return {
        "routeKey": "POST /env/promote",
        "rawPath": "/env/promote",
        "headers": {"idempotency-key": key},
        "requestContext": {"http": {"method": "POST"}},
        "body": json.dumps(body),
    }


def _ok(n: list[int]) -> dict:
    n.append(1)
    return {"statusCode": 200, "headers": {}, "body": json.dumps({"run": len(n)})}


def test_a_retry_while_the_first_attempt_runs_is_409_in_progress():
    idempotency = Idempotency(MemoryPersistenceLayer(), 3600)
    event = _event("k1", {"project_id": "p"})
    seen: list[Exception] = []

    def first() -> dict:
        try:
            idempotency.run(event, CONTEXT, "engine-a", lambda: {"statusCode": 200})
        except ConflictError as error:
            seen.append(error)
        return {"statusCode": 200, "headers": {}, "body": "{}"}

    idempotency.run(event, CONTEXT, "engine-a", first)
    assert [e.code for e in seen] == ["idempotency_in_progress"]


def test_body_key_order_does_not_matter_but_values_do():
    idempotency = Idempotency(MemoryPersistenceLayer(), 3600)
    runs: list[int] = []
    idempotency.run(_event("k2", {"a": 1, "b": 2}), CONTEXT, "e", lambda: _ok(runs))
    replay = idempotency.run(_event("k2", {"b": 2, "a": 1}), CONTEXT, "e", lambda: _ok(runs))
    assert len(runs) == 1 and replay["headers"]["Idempotent-Replayed"] == "true"
    with pytest.raises(Exception, match="different request"):
        idempotency.run(_event("k2", {"a": 1, "b": 3}), CONTEXT, "e", lambda: _ok(runs))


def test_routes_that_are_reads_ignore_the_header():
    idempotency = Idempotency(MemoryPersistenceLayer(), 3600)
    check = {**_event("k3", {}), "routeKey": "POST /actions/check"}
    assert not idempotency.applies(check)
    assert not idempotency.applies({**_event("", {})})
    assert idempotency.applies(_event("k3", {}))
