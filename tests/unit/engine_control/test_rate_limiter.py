"""The per-engine token bucket: exact in one instance, and kept in step with others through shared totals."""

from __future__ import annotations

import pytest

from puraify.ratelimit import Limit, RateLimitedError, RateLimiter
from tests.fakes.engine_control import MemoryUsageStore


class Clock:
    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


def _admitted(limiter: RateLimiter, limit: Limit, tries: int, key: str = "e1") -> int:
    admitted = 0
    for _ in range(tries):
        try:
            limiter.take(key, limit)
            admitted += 1
        except RateLimitedError:
            pass
    return admitted


def test_one_instance_admits_exactly_burst_then_rate():
    clock = Clock()
    limiter = RateLimiter(None, sync_seconds=1, clock=clock)
    limit = Limit(10, 5)
    assert _admitted(limiter, limit, 50) == 5
    clock.at += 0.5  # 5 tokens back
    assert _admitted(limiter, limit, 50) == 5
    clock.at += 100  # never more than the burst
    assert _admitted(limiter, limit, 50) == 5


def test_a_refusal_says_when_to_retry_and_takes_nothing():
    clock = Clock()
    limiter = RateLimiter(None, sync_seconds=1, clock=clock)
    limit = Limit(0.5, 2)
    limiter.take("e1", limit, 2)
    with pytest.raises(RateLimitedError) as refused:
        limiter.take("e1", limit)
    assert refused.value.retry_after == 2 and refused.value.quota.remaining == 0
    assert refused.value.code == "rate_limited" and refused.value.status == 429
    clock.at += 2
    assert limiter.take("e1", limit).remaining == 0


def test_a_batch_takes_its_size_and_is_refused_whole():
    limiter = RateLimiter(None, sync_seconds=1, clock=Clock())
    limit = Limit(1, 30)
    assert limiter.take("e1", limit, 25).remaining == 5
    with pytest.raises(RateLimitedError):
        limiter.take("e1", limit, 25)
    assert limiter.take("e1", limit, 5).remaining == 0


def test_engines_have_buckets_of_their_own():
    limiter = RateLimiter(None, sync_seconds=1, clock=Clock())
    assert _admitted(limiter, Limit(1, 3), 10, "e1") == 3
    assert _admitted(limiter, Limit(1, 3), 10, "e2") == 3


def test_two_instances_share_one_bucket_through_the_totals():
    # Given: two instances of one function, a shared store, an engine at 10/s with a burst of 10
    clock, store = Clock(), MemoryUsageStore()
    a = RateLimiter(store, sync_seconds=1, clock=clock)
    b = RateLimiter(store, sync_seconds=1, clock=clock)
    limit = Limit(10, 10)
    # When: both take as fast as they can for 20 s, syncing every second
    admitted = 0
    for _ in range(20 * 10):
        clock.at += 0.1
        admitted += _admitted(a, limit, 5) + _admitted(b, limit, 5)
        a.sync_if_due()
        b.sync_if_due()
    # Then: the whole is bounded by burst + rate * t, plus one burst and one sync period per extra instance
    bound = 10 + 10 * 20 + (10 + 10 * 1)
    assert admitted <= bound
    assert admitted < 2 * (10 + 10 * 20) * 0.75  # without sharing each would admit its own 210


def test_an_instance_idle_for_an_engine_starts_from_its_own_bucket_not_a_debt():
    clock, store = Clock(), MemoryUsageStore()
    a = RateLimiter(store, sync_seconds=1, clock=clock)
    b = RateLimiter(store, sync_seconds=1, clock=clock)
    limit = Limit(10, 10)
    _admitted(b, limit, 1)
    b.sync()
    for _ in range(100):  # a serves the engine alone for 10 s
        clock.at += 0.1
        _admitted(a, limit, 5)
        a.sync_if_due()
    clock.at += 1
    b.sync()
    assert _admitted(b, limit, 50) == 10


def test_a_failed_sync_keeps_the_local_limit_and_reports_later():
    class Down(MemoryUsageStore):
        fail = True

        def add_usage(self, used):
            if self.fail:
                raise RuntimeError("unreachable")
            return super().add_usage(used)

    clock, store = Clock(), Down()
    limiter = RateLimiter(store, sync_seconds=1, clock=clock)
    _admitted(limiter, Limit(1, 4), 10)
    limiter.sync()
    store.fail = False
    limiter.sync()
    assert store.totals == {"e1": 4}
