"""EventStore: the engine events of ``POST /log/engine_event``, keyed by their event id.

The port only writes; the test reads the item back from where each side keeps it.
"""

from __future__ import annotations

from typing import Any

import pytest

from puraify.store.events import DynamoEventStore
from puraify.store.items import from_item
from tests.fakes.engine_control import MemoryEventStore


@pytest.fixture
def side_store(side: str, resources):
    """(store, read(pk, sk) -> the stored item or None)."""
    if side == "fake":
        fake = MemoryEventStore()
        return fake, lambda pk, sk: fake.events.get((pk, sk))
    aws = resources("EventsTable")
    table = aws.name("EventsTable")
    dynamodb = aws.client("dynamodb")

    def read(pk: str, sk: str) -> dict[str, Any] | None:
        item = dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")
        return from_item(item) if item else None

    return DynamoEventStore(table), read


def event(event_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "pk": "ENGINE#e1",
        "sk": f"2025-01-01T00:00:00Z#{event_id}",
        "event_id": event_id,
        "engine_id": "e1",
        "event_type": "started",
        "details": {"a": [1, 2], "b": "x", "ratio": 0.5},
        "expires_at": 1_900_000_000,
        **fields,
    }


def test_put_stores_the_event(side_store) -> None:
    store, read = side_store
    store.put(event("ev1"))
    assert read("ENGINE#e1", "2025-01-01T00:00:00Z#ev1") == event("ev1")


def test_a_retried_event_overwrites_itself(side_store) -> None:
    store, read = side_store
    store.put(event("ev1"))
    store.put(event("ev1", event_type="retried"))
    assert read("ENGINE#e1", "2025-01-01T00:00:00Z#ev1")["event_type"] == "retried"


def test_the_stored_event_is_a_copy(side_store) -> None:
    store, read = side_store
    sent = event("ev1")
    store.put(sent)
    sent["details"]["b"] = "changed"
    assert read("ENGINE#e1", "2025-01-01T00:00:00Z#ev1")["details"]["b"] == "x"
