"""CheckCountStore (and the overview's CheckCounts read): per-minute counters that add up atomically."""

from __future__ import annotations

import pytest

from puraify.store.check_counts import DynamoCheckCountStore
from tests.contract.conftest import expired, later
from tests.fakes.engine_control import MemoryCheckCountStore


@pytest.fixture
def store(side: str, resources) -> DynamoCheckCountStore | MemoryCheckCountStore:
    if side == "fake":
        return MemoryCheckCountStore()
    return DynamoCheckCountStore(resources("AggregatesTable").name("AggregatesTable"))


def counts(item: dict) -> dict:
    return {k: v for k, v in item.items() if k not in ("pk", "sk", "expires_at")}


def test_add_twice_adds(store) -> None:
    store.add("2025-01-01T10:00", {"allowed": 2, "denied": 1}, later())
    store.add("2025-01-01T10:00", {"allowed": 3, "error": 1}, later())
    (minute,) = store.minutes("2025-01-01T10:00", "2025-01-01T10:00")
    assert counts(minute) == {"allowed": 5, "denied": 1, "error": 1}


def test_minutes_are_an_inclusive_range_oldest_first(store) -> None:
    for minute in ("10:02", "10:00", "10:01", "10:03"):
        store.add(f"2025-01-01T{minute}", {"allowed": 1}, later())
    found = store.minutes("2025-01-01T10:01", "2025-01-01T10:02")
    assert [m["sk"] for m in found] == ["MIN#2025-01-01T10:01", "MIN#2025-01-01T10:02"]


def test_expired_minutes_are_left_out(store) -> None:
    store.add("2025-01-01T10:00", {"allowed": 1}, expired())
    store.add("2025-01-01T10:01", {"allowed": 1}, later())
    assert [m["sk"] for m in store.minutes("2025-01-01T10:00", "2025-01-01T10:01")] == ["MIN#2025-01-01T10:01"]


def test_the_last_add_sets_the_expiry(store) -> None:
    store.add("2025-01-01T10:00", {"allowed": 1}, expired())
    store.add("2025-01-01T10:00", {"allowed": 1}, later())
    (minute,) = store.minutes("2025-01-01T10:00", "2025-01-01T10:00")
    assert minute["allowed"] == 2 and minute["expires_at"] > expired() + 3600
