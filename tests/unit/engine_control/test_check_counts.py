"""Per-minute check counts: what is tallied, when it is written, and what a failed write keeps."""

from __future__ import annotations

import time

from puraify.engine_control.check_counts import CheckCounter
from puraify.errors import UnavailableError
from tests.fakes.engine_control import MemoryCheckCountStore


class FailingStore(MemoryCheckCountStore):
    def __init__(self) -> None:
        super().__init__()
        self.failing = True

    def add(self, minute: str, counts: dict[str, int], expires_at: int) -> None:
        if self.failing:
            raise UnavailableError("down", code="store_unavailable")
        super().add(minute, counts, expires_at)


def test_counts_are_tallied_per_minute_with_a_number_per_deny_rule():
    store = MemoryCheckCountStore()
    counter = CheckCounter(store, retention_days=30, flush_seconds=60)
    counter.count("2026-12-01T21:45:01.000000Z", "allowed")
    counter.count("2026-12-01T21:45:59.999999Z", "denied", "not_granted")
    counter.count("2026-12-01T21:45:30.000000Z", "denied", "not_granted")
    counter.count("2026-12-01T21:46:00.000000Z", "failed")
    counter.flush()
    assert store.items["2026-12-01T21:45"] == store.items["2026-12-01T21:45"] | {
        "pk": "CHECKS",
        "sk": "MIN#2026-12-01T21:45",
        "allowed": 1,
        "denied": 2,
        "deny#not_granted": 2,
    }
    assert store.items["2026-12-01T21:46"]["failed"] == 1
    assert store.items["2026-12-01T21:46"]["expires_at"] > 0
    assert store.writes == 2  # one UpdateItem per minute, not per check


def test_first_check_flushes_at_once_and_later_ones_wait_for_the_interval():
    store = MemoryCheckCountStore()
    counter = CheckCounter(store, retention_days=30, flush_seconds=60)
    counter.count("2026-12-01T21:45:01.000000Z", "allowed")
    counter.flush_if_due()
    assert store.writes == 1
    for _ in range(100):
        counter.count("2026-12-01T21:45:02.000000Z", "allowed")
        counter.flush_if_due()
    assert store.writes == 1 and store.items["2026-12-01T21:45"]["allowed"] == 1
    counter.flush()
    assert store.items["2026-12-01T21:45"]["allowed"] == 101


def test_a_failed_flush_keeps_the_counts_for_the_next_one():
    store = FailingStore()
    counter = CheckCounter(store, retention_days=30, flush_seconds=0)
    counter.count("2026-12-01T21:45:01.000000Z", "denied", "flag_disabled")
    counter.flush_if_due()  # fails quietly: a check is never failed by its counter
    assert store.items == {}
    store.failing = False
    counter.count("2026-12-01T21:45:02.000000Z", "denied", "flag_disabled")
    counter.flush_if_due()
    assert store.items["2026-12-01T21:45"]["denied"] == 2
    assert store.items["2026-12-01T21:45"]["deny#flag_disabled"] == 2


def test_discard_forgets_the_tally_so_a_restored_snapshot_does_not_count_it_again():
    store = MemoryCheckCountStore()
    counter = CheckCounter(store, retention_days=30, flush_seconds=60)
    counter.count("2026-12-01T21:45:01.000000Z", "allowed")
    counter.discard()
    counter.flush()
    assert store.items == {}


def test_counts_that_wait_for_the_interval_are_flushed_by_a_timer_without_another_check():
    # Given ten checks in a row: the first flushes at once, the other nine wait for the interval
    store = MemoryCheckCountStore()
    counter = CheckCounter(store, retention_days=30, flush_seconds=0.3)
    for _ in range(10):
        counter.count("2026-12-01T21:45:01.000000Z", "allowed")
        counter.flush_if_due()
    assert store.items["2026-12-01T21:45"]["allowed"] == 1
    # When no other check comes, Then the timer writes the rest once the interval has passed
    deadline = time.monotonic() + 5
    while store.items["2026-12-01T21:45"]["allowed"] < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.items["2026-12-01T21:45"]["allowed"] == 10
    assert store.writes == 2


def test_close_writes_what_is_left_and_stops_the_timer():
    store = MemoryCheckCountStore()
    counter = CheckCounter(store, retention_days=30, flush_seconds=60)
    counter.count("2026-12-01T21:45:01.000000Z", "allowed")
    counter.flush_if_due()
    for _ in range(5):
        counter.count("2026-12-01T21:45:02.000000Z", "denied", "not_granted")
        counter.flush_if_due()
    counter.close()
    assert store.items["2026-12-01T21:45"]["denied"] == 5 and store.writes == 2
