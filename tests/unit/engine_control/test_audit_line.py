"""The audit line is the line Powertools would write (the metric filters read it) and batches are stored whole."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from local.gateway import LambdaContext
from puraify.audit import AuditLog, write_lines
from puraify.errors import UnavailableError
from puraify.observability import bind_invocation, logger
from puraify.store import audit as audit_store
from tests.fakes.engine_control import MemoryAuditStore


@pytest.fixture
def lines():
    stream = io.StringIO()
    handler = logging.getLogger("puraify").handlers[0]
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    level = logger.log_level
    logger.setLevel("INFO")
    yield stream
    handler.setStream(previous)  # type: ignore[attr-defined]
    logger.setLevel(level)


def test_audit_line_has_the_keys_and_values_of_the_powertools_line(lines, monkeypatch):
    # Given: an invocation's keys, as the check binds them
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
    event = {"requestContext": {"requestId": "req-1"}}
    bind_invocation(event, LambdaContext("CheckFunction", "aws-1"))
    logger.append_keys(engine_id="action")
    record = AuditLog(MemoryAuditStore(), 90).build(
        kind="check", request_id="req-1", engine_id="action", status="denied", platform="gmail", reason="no"
    )
    # When: ours, and Powertools' own for the same fields
    write_lines([record])
    hidden = ("pk", "sk", "timestamp", "subject_pk", "platform_pk")  # index keys, not logged
    shown = {k: v for k, v in record.items() if k not in hidden and v is not None}
    logger.info("audit", extra=shown | {"action_type": ""})
    ours, theirs = (json.loads(line) for line in lines.getvalue().splitlines())
    # Then
    assert ours.keys() == theirs.keys()
    assert {k: v for k, v in ours.items() if k not in ("timestamp", "location")} == {
        k: v for k, v in theirs.items() if k not in ("timestamp", "location")
    }
    assert ours["message"] == "audit" and ours["kind"] == "check" and ours["status"] == "denied"
    assert ours["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert ours["timestamp"].endswith("+00:00") and ours["timestamp"][:16] == theirs["timestamp"][:16]


def test_audit_lines_follow_the_logger_level(lines):
    logger.setLevel("WARNING")
    write_lines([{"kind": "check", "status": "allowed"}])
    assert lines.getvalue() == ""


class FakeDynamoDB:
    """Answers BatchWriteItem with the given unprocessed counts, one per call."""

    def __init__(self, unprocessed: list[int]):
        self.unprocessed = unprocessed
        self.sizes: list[int] = []

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        ((table, requests),) = RequestItems.items()
        self.sizes.append(len(requests))
        left = self.unprocessed.pop(0) if self.unprocessed else 0
        return {"UnprocessedItems": {table: requests[:left]} if left else {}}


def _records(n: int) -> list[dict[str, Any]]:
    log = AuditLog(MemoryAuditStore(), 90)
    return [log.build(kind="check", request_id="r", engine_id="e", status="allowed", item=i) for i in range(n)]


def test_batch_audit_retries_unprocessed_items_until_all_are_written(monkeypatch):
    fake = FakeDynamoDB([10, 3])
    monkeypatch.setattr(audit_store, "client", lambda service: fake)
    audit_store.DynamoAuditStore("AuditTable").put_many(_records(25))
    assert fake.sizes == [25, 10, 3]


def test_batch_audit_that_stays_unprocessed_fails_closed(monkeypatch):
    fake = FakeDynamoDB([1] * audit_store.BATCH_ATTEMPTS)
    monkeypatch.setattr(audit_store, "client", lambda service: fake)
    monkeypatch.setattr(audit_store.time, "sleep", lambda seconds: None)
    with pytest.raises(UnavailableError):
        audit_store.DynamoAuditStore("AuditTable").put_many(_records(25))
    assert len(fake.sizes) == audit_store.BATCH_ATTEMPTS


def test_batch_records_have_distinct_keys():
    records = _records(25)
    assert len({r["sk"] for r in records}) == 25
