"""A batch's events are created in TransactWriteItems of up to 100 conditional Puts, and still counted
exactly once: events another writer stored first (inside a chunk, or between two attempts of one) are
left to that writer, and an own write whose reply was lost is still counted."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from puraify import wiring
from puraify.store.clients import client


def _events(project: str, n: int, message: str = "sent") -> list[dict]:
    at = datetime.now(UTC).isoformat()
    return [
        {"project_id": project, "event_id": f"{project}-{i:04d}", "event_type": "execution", "engine": "execution",
         "platform": "slack", "action": "send_message", "status": "success", "message": message, "timestamp": at}
        for i in range(n)
    ]  # fmt: skip


@contextmanager
def _event_writes():
    """Counts the write requests that create events (PutItem or TransactWriteItems on the events table)."""
    table = wiring.current().settings.events_table
    dynamodb = client("dynamodb")
    seen: Counter[str] = Counter()

    def hook(params: dict, model, **_) -> None:
        if model.name == "PutItem" and params.get("TableName") == table:
            seen["PutItem"] += 1
        elif model.name == "TransactWriteItems" and any(
            next(iter(entry.values())).get("TableName") == table for entry in params["TransactItems"]
        ):
            seen["TransactWriteItems"] += 1

    dynamodb.meta.events.register("provide-client-params.dynamodb.*", hook)
    try:
        yield seen
    finally:
        dynamodb.meta.events.unregister("provide-client-params.dynamodb.*", hook)


@pytest.fixture
def blind_pre_read(monkeypatch):
    """The batch's stored-already check sees nothing: as when another writer stores an event just after it."""
    store = wiring.current().monitoring.store
    monkeypatch.setattr(type(store), "existing_events", lambda self, keys: set())


def _counted(invoke, reader, project: str) -> int:
    return invoke("log/stats", engine=reader, query={"project_id": project}).body["events"]


def _message(invoke, reader, project: str, event_id: str) -> str:
    logs = invoke("log/logs", engine=reader, query={"project_id": project, "limit": "1000"}).body["logs"]
    return next(e["message"] for e in logs if e["event_id"] == event_id)


@pytest.mark.parametrize(("n", "transactions", "single_puts"), [(100, 1, 0), (101, 1, 1), (250, 3, 0)])
def test_batch_is_written_in_transactions_of_100_and_counted_once(
    aws, project, writer, reader, invoke, n, transactions, single_puts
):
    # When a batch of n events is sent
    with _event_writes() as writes:
        reply = invoke("log/ingest", engine=writer, body={"events": _events(project, n)})
    # Then it takes one transaction per 100 events (a lone 101st event is one conditional PutItem)
    assert reply.status == 202 and reply.body == {"accepted": n, "rejected": []}
    assert (writes["TransactWriteItems"], writes["PutItem"]) == (transactions, single_puts)
    # And every event is stored and counted once, also when the same batch comes again
    invoke("log/ingest", engine=writer, body={"events": _events(project, n)})
    assert _counted(invoke, reader, project) == n
    logs = invoke("log/logs", engine=reader, query={"project_id": project, "limit": "1000"}).body["logs"]
    assert len(logs) == n


def test_event_stored_by_another_writer_inside_a_chunk_is_not_counted_twice(
    aws, project, writer, reader, invoke, blind_pre_read
):
    # Given another writer stored (and counted) event 50 of the batch after this writer looked
    first = _events(project, 100, message="from the other writer")[50]
    assert invoke("log/ingest", engine=writer, body=first).status == 202
    # When the batch of 100 goes in
    with _event_writes() as writes:
        reply = invoke("log/ingest", engine=writer, body={"events": _events(project, 100)})
    # Then the transaction was cancelled for that one event and written again without it
    assert reply.status == 202 and reply.body == {"accepted": 100, "rejected": []}
    assert writes["TransactWriteItems"] == 2
    # And each event is counted once, and the other writer's event is not overwritten
    assert _counted(invoke, reader, project) == 100
    assert _message(invoke, reader, project, first["event_id"]) == "from the other writer"


def test_event_stored_by_another_writer_between_two_attempts_is_not_counted_twice(
    aws, project, writer, reader, invoke, blind_pre_read, monkeypatch
):
    events = _events(project, 150)
    other = _events(project, 150, message="from the other writer")
    dynamodb = client("dynamodb")
    real = dynamodb.transact_write_items
    table = wiring.current().settings.events_table
    attempts: list[int] = []

    def racing(**kwargs):
        if any(next(iter(e.values())).get("TableName") == table for e in kwargs["TransactItems"]):
            attempts.append(len(kwargs["TransactItems"]))
            if len(attempts) == 2:  # between the first attempt and its retry, another writer stores event 20
                monkeypatch.setattr(dynamodb, "transact_write_items", real)
                assert invoke("log/ingest", engine=writer, body=other[20]).status == 202
                monkeypatch.setattr(dynamodb, "transact_write_items", racing)
        return real(**kwargs)

    # Given another writer stored event 10 before the batch, and stores event 20 during its retry
    assert invoke("log/ingest", engine=writer, body=other[10]).status == 202
    monkeypatch.setattr(dynamodb, "transact_write_items", racing)
    # When
    reply = invoke("log/ingest", engine=writer, body={"events": events})
    monkeypatch.undo()
    # Then the first chunk went three times (without event 10, then without 10 and 20), the second once
    assert reply.status == 202 and reply.body == {"accepted": 150, "rejected": []}
    assert attempts == [100, 99, 98, 50]
    # And every event is counted exactly once; the other writer's events keep what it wrote
    assert _counted(invoke, reader, project) == 150
    assert _message(invoke, reader, project, other[10]["event_id"]) == "from the other writer"
    assert _message(invoke, reader, project, other[20]["event_id"]) == "from the other writer"


def test_own_transaction_whose_reply_was_lost_and_retried_is_still_counted(
    aws, project, writer, reader, invoke, monkeypatch
):
    dynamodb = client("dynamodb")
    real = dynamodb.transact_write_items
    table = wiring.current().settings.events_table

    def reply_lost(**kwargs):
        if any(next(iter(e.values())).get("TableName") == table for e in kwargs["TransactItems"]):
            real(**kwargs)  # applied, but its reply never arrives: botocore sends the same request again
        return real(**kwargs)

    # When the events' transaction is applied twice (DynamoDB answers the second one from its
    # idempotency token; an emulator without tokens cancels it: every event exists, with this ledger)
    monkeypatch.setattr(dynamodb, "transact_write_items", reply_lost)
    reply = invoke("log/ingest", engine=writer, body={"events": _events(project, 120)})
    monkeypatch.undo()
    # Then the writer knows the events are its own and counts them, once
    assert reply.status == 202 and reply.body == {"accepted": 120, "rejected": []}
    assert _counted(invoke, reader, project) == 120
