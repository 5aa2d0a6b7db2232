"""UsageStore (the shared rate-limit totals): adds that return the totals after them."""

from __future__ import annotations

import uuid

import pytest

from puraify.store.rate_limits import DynamoUsageStore
from tests.fakes.engine_control import MemoryUsageStore


@pytest.fixture
def store(side: str, resources) -> DynamoUsageStore | MemoryUsageStore:
    if side == "fake":
        return MemoryUsageStore()
    return DynamoUsageStore(resources("AggregatesTable").name("AggregatesTable"))


def test_add_returns_each_total_after_the_add(store) -> None:
    e1, e2 = (f"e-{uuid.uuid4().hex[:8]}" for _ in range(2))  # one shared item: keys of their own
    assert store.add_usage({e1: 3, e2: 1}) == {e1: 3, e2: 1}
    assert store.add_usage({e1: 2}) == {e1: 5}


def test_a_zero_add_reads_the_total(store) -> None:
    e1 = f"e-{uuid.uuid4().hex[:8]}"
    store.add_usage({e1: 4})
    assert store.add_usage({e1: 0, f"events#{e1}": 0}) == {e1: 4, f"events#{e1}": 0}


def test_nothing_to_add_writes_nothing(store) -> None:
    assert store.add_usage({}) == {}
