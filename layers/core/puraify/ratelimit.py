"""Per-engine rate limits: a token bucket per engine in each function instance, kept in step through a
shared counter.

Within one instance the limit is exact: a bucket holds at most ``burst`` tokens and refills at
``per_second``; a request takes one token (a batch of N checks, N), or is refused with 429.
The warm path is a dict lookup, one ``time.monotonic()`` and arithmetic: no store call.

Across instances, each instance adds what it admitted to one shared total per engine, and learns
the others' use, at most every ``sync_seconds`` (one UpdateItem for every engine it served, made
after a response, like the check counts). What the others admitted since its last sync is taken
from its own bucket, so all instances drain one logical bucket. The bound: an engine served by N
busy instances gets at most ``burst + per_second * t`` over t seconds, plus, per instance beyond the
first, what that instance admits before it next hears of the others: at most one burst plus
``sync_seconds`` of rate. An instance that has not synced an engine for two sync periods starts
from its own full bucket again (that is the "one burst" of the bound), not from a debt run up while
it was idle. If the shared counter cannot be reached, each instance keeps its exact local limit
and retries with its next sync.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import NamedTuple, Protocol

from puraify.errors import ThrottledError
from puraify.observability import logger

EVENTS = "events#"  # the key prefix of an engine's ingest-events bucket (a separate limit)


class Limit(NamedTuple):
    per_second: float
    burst: int


class Quota(NamedTuple):
    """What the ``RateLimit-*`` headers say: the burst, tokens left, and seconds until the bucket is full."""

    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


class RateLimitedError(ThrottledError):
    """429 ``rate_limited``: the engine is past its limit; ``retry_after`` whole seconds until a token is back."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, quota: Quota):
        super().__init__(message, details=[{"retry_after": retry_after, "limit": quota.limit}])
        self.retry_after = retry_after
        self.quota = quota


class UsageStore(Protocol):
    def add_usage(self, used: dict[str, int]) -> dict[str, int]:
        """Add each key's count to its shared total (one write); returns each total after the add."""
        ...


# A NamedTuple's own constructor parses keywords; the hot path builds Quota straight from a tuple.
_new_quota = tuple.__new__
ceil = math.ceil


class _Bucket:
    __slots__ = ("burst", "last", "limit", "per_second", "seen", "synced_at", "tokens", "unsynced")

    def __init__(self, limit: Limit, at: float):
        self.limit = limit
        self.per_second = limit.per_second
        self.burst = limit.burst
        self.tokens = float(limit.burst)
        self.last = at
        self.unsynced = 0  # admitted here since the last sync
        self.seen: int | None = None  # the shared total at the last sync
        self.synced_at = at


class RateLimiter:
    """Token buckets of one function instance, one per engine (and one per engine's ingest events)."""

    def __init__(
        self,
        store: UsageStore | None,
        *,
        sync_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_engines: int = 10_000,
    ):
        self.store = store
        self.sync_seconds = sync_seconds
        self.clock = clock
        self.max_engines = max_engines
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._last_sync = 0.0

    def take(self, key: str, limit: Limit, cost: int = 1) -> Quota:
        """Take ``cost`` tokens from ``key``'s bucket; raises RateLimitedError (nothing taken) when short.

        The warm path of every request: one clock reading, one dict lookup, a tuple comparison and
        arithmetic (profiled: bench/bench_containment.py); no datetime, no new dict."""
        at = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None or bucket.limit != limit:
                bucket = self._bucket(key, limit, at, bucket)
            burst, per_second = bucket.burst, bucket.per_second
            tokens = bucket.tokens + (at - bucket.last) * per_second
            if tokens > burst:
                tokens = burst
            bucket.last = at
            if tokens >= cost:
                bucket.tokens = tokens = tokens - cost
                bucket.unsynced += cost
                return _new_quota(Quota, (burst, int(tokens), ceil((burst - tokens) / per_second)))
            bucket.tokens = tokens
        quota = Quota(bucket.burst, 0, math.ceil((bucket.burst - tokens) / bucket.per_second))
        wait = max(1, math.ceil((min(cost, bucket.burst) - tokens) / bucket.per_second))
        raise RateLimitedError(
            f"rate limit exceeded: {limit.per_second:g} requests per second, burst {limit.burst}; retry in {wait} s",
            retry_after=wait,
            quota=quota,
        )

    def quota(self, key: str) -> Quota | None:
        """``key``'s quota now, without taking (None for a key with no bucket)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return None
        tokens = min(float(bucket.burst), bucket.tokens + (self.clock() - bucket.last) * bucket.per_second)
        return Quota(bucket.burst, max(0, int(tokens)), math.ceil((bucket.burst - tokens) / bucket.per_second))

    def _bucket(self, key: str, limit: Limit, at: float, old: _Bucket | None) -> _Bucket:
        if len(self._buckets) >= self.max_engines:
            self._buckets.clear()  # bounded memory; a cleared bucket starts full (one burst, as after a cold start)
        bucket = _Bucket(limit, at)
        if old is not None:  # a changed limit keeps what was used, capped by the new burst
            bucket.tokens = min(float(limit.burst), old.tokens)
            bucket.unsynced, bucket.seen, bucket.synced_at = old.unsynced, old.seen, old.synced_at
        self._buckets[key] = bucket
        return bucket

    def sync_if_due(self) -> None:
        """Sync with the shared totals when ``sync_seconds`` have passed since the last sync."""
        if self.store is not None and self._buckets and self.clock() - self._last_sync >= self.sync_seconds:
            self.sync()

    def sync(self) -> None:
        """Report what this instance admitted and take what the others admitted; never raises."""
        if self.store is None:
            return
        at = self.clock()
        with self._lock:
            self._last_sync = at
            stale = 2 * max(self.sync_seconds, 0.001)
            report = {k: b.unsynced for k, b in self._buckets.items() if b.unsynced or at - b.synced_at < stale}
            for key in report:
                self._buckets[key].unsynced = 0
        if not report:
            return
        try:
            totals = self.store.add_usage(report)
        except Exception as error:  # noqa: BLE001 - the local limit still holds; try again next time
            logger.warning("rate limit sync failed", extra={"error": str(error)[:200]})
            with self._lock:
                for key, used in report.items():
                    if key in self._buckets:
                        self._buckets[key].unsynced += used
            return
        with self._lock:
            for key, total in totals.items():
                bucket = self._buckets.get(key)
                if bucket is None:
                    continue
                if bucket.seen is not None and at - bucket.synced_at < stale:
                    others = total - bucket.seen - report.get(key, 0)
                    if others > 0:
                        floor = -(bucket.burst + bucket.per_second * self.sync_seconds)
                        bucket.tokens = max(floor, bucket.tokens - others)
                bucket.seen, bucket.synced_at = total, at

    def discard(self) -> None:
        """Forget every bucket (a SnapStart restore: the snapshot's buckets belong to no instance)."""
        with self._lock:
            self._buckets.clear()
            self._last_sync = 0.0
