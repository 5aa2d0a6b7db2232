"""Time in one place: ISO-8601 UTC strings for records, epoch seconds for TTLs."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> float:
    return time.time()


def iso(epoch: float | None = None) -> str:
    """``2026-11-22T03:09:22.123456Z`` (sortable, microsecond precision)."""
    moment = datetime.fromtimestamp(now() if epoch is None else epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str) -> float:
    """Epoch seconds of an ISO-8601 timestamp (``Z`` or an offset; naive means UTC)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def expires_at(days: int, epoch: float | None = None) -> int:
    """The TTL attribute for a record kept ``days`` days."""
    return int((now() if epoch is None else epoch) + days * 86400)
