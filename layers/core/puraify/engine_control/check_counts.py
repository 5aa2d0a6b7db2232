"""Per-minute check counts for the operator console, tallied in process and written in few calls.

Contract (AggregatesTable, read by the console): ``pk = CHECKS``, ``sk = MIN#<YYYY-MM-DDTHH:MM>`` (UTC),
numbers ``allowed``, ``denied``, ``failed`` (a check that could not be decided) and ``deny#<rule>``
per deny rule, plus ``expires_at`` (TTL); and per calling engine ``engine#<id>#checks``,
``engine#<id>#denied`` and ``engine#<id>#limited`` (its 429s): the counters the ``engine_anomaly``
rule judges, read from this one item a minute (never a scan).

A function instance adds its tally with one UpdateItem ``ADD`` per minute it holds, at most every
``flush_seconds``: a check that finds the last flush older than that flushes at once; otherwise a timer
flushes when the interval ends, so counts reach the store within ``flush_seconds`` without waiting for
another check. A busy instance writes once every few seconds instead of once per check. ``close`` flushes
what is left (the local runner calls it on SIGTERM and SIGINT, and SnapStart before its snapshot).

Bound on loss: Lambda freezes an instance between invocations, and a frozen timer does not fire. An
instance frozen with a tally and then reclaimed without another invocation loses what it counted since
its last flush: at most ``flush_seconds`` of that one instance's checks. The overview states this bound.
A failed flush keeps the tally for the next one.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping

from puraify.clock import expires_at, iso
from puraify.engine_control.ports import CheckCountStore
from puraify.errors import UnavailableError
from puraify.observability import logger

MAX_PENDING_MINUTES = 60  # a store down for an hour: older minutes are dropped (and logged), memory stays bounded


def minute_of(timestamp: str) -> str:
    """``2026-12-01T21:45`` for the ISO timestamp ``2026-12-01T21:45:07.123456Z``."""
    return timestamp[:16]


class CheckCounter:
    """The in-process tally of one function instance, flushed to the store at most every ``flush_seconds``."""

    def __init__(self, store: CheckCountStore, *, retention_days: int, flush_seconds: float):
        self.store = store
        self.retention_days = retention_days
        self.flush_seconds = flush_seconds
        self._pending: dict[str, Counter[str]] = {}
        self._last_flush = 0.0
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def count(self, timestamp: str, status: str, rule: str | None = None, engine_id: str | None = None) -> None:
        """Count one check decided at ``timestamp``: ``allowed``, ``denied`` (with its rule) or ``failed``,
        and for ``engine_id`` (the engine that asked) when given."""
        with self._lock:
            self._add(timestamp, status, rule, engine_id, 1)

    def count_many(self, checks: Mapping[tuple[str, str, str | None, str | None], int]) -> None:
        """Count checks at once (a batch): how many were decided as each ``(timestamp, status, rule, engine_id)``."""
        with self._lock:
            for (timestamp, status, rule, engine_id), n in checks.items():
                self._add(timestamp, status, rule, engine_id, n)

    def _add(self, timestamp: str, status: str, rule: str | None, engine_id: str | None, n: int) -> None:
        minute = minute_of(timestamp)
        bucket = self._pending.get(minute)
        if bucket is None:
            bucket = self._pending[minute] = Counter()
        bucket[status] += n
        if rule and status == "denied":
            bucket[f"deny#{rule}"] += n
        if engine_id:
            bucket[f"engine#{engine_id}#checks"] += n
            if status == "denied":
                bucket[f"engine#{engine_id}#denied"] += n

    def count_engine(self, engine_id: str, what: str, timestamp: str | None = None) -> None:
        """Count one event of an engine outside a check (``limited``: a 429) in this minute's item."""
        minute = minute_of(timestamp or iso())
        with self._lock:
            self._pending.setdefault(minute, Counter())[f"engine#{engine_id}#{what}"] += 1

    def flush_if_due(self) -> None:
        """Flush when ``flush_seconds`` have passed since the last flush (the first check flushes at once),
        else make sure a timer flushes when they have."""
        if not self._pending:
            return
        wait = self._last_flush + self.flush_seconds - time.monotonic()
        if wait <= 0:
            self.flush()
        else:
            self._arm(wait)

    def _arm(self, wait: float) -> None:
        with self._lock:
            if self._timer is not None or not self._pending:
                return
            timer = self._timer = threading.Timer(wait, self._on_timer)
            timer.daemon = True
        timer.start()

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
        self.flush()

    def close(self) -> None:
        """Flush what is left and stop the timer (a process that is about to end)."""
        self.flush()

    def flush(self) -> None:
        """Write the tally, one UpdateItem per minute; never raises (counts are kept for the next flush)."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._last_flush = time.monotonic()
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        unwritten: dict[str, Counter[str]] = {}
        for minute, counts in sorted(pending.items()):
            try:
                self.store.add(minute, dict(counts), expires_at(self.retention_days))
            except UnavailableError:
                unwritten[minute] = counts
        if unwritten:
            self._keep(unwritten)

    def discard(self) -> None:
        """Forget the tally (a SnapStart restore: the snapshot's tally was counted by the instance that made it)."""
        with self._lock:
            self._pending = {}
            self._last_flush = 0.0
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def _keep(self, unwritten: dict[str, Counter[str]]) -> None:
        with self._lock:
            for minute, counts in unwritten.items():
                self._pending.setdefault(minute, Counter()).update(counts)
            if len(self._pending) > MAX_PENDING_MINUTES:
                dropped = sorted(self._pending)[: len(self._pending) - MAX_PENDING_MINUTES]
                for minute in dropped:
                    del self._pending[minute]
                logger.warning("check counts dropped", extra={"minutes": dropped})
