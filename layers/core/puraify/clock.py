"""Time in one place: ISO-8601 UTC strings for records, epoch seconds for TTLs."""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime

# The times a query may name: from the epoch to the end of year 9999 (what ISO-8601 and DynamoDB keys can hold).
LATEST_EPOCH = 253402300799.0


def now() -> float:
    return time.time()


_second: tuple[int, str] = (-1, "")


def _seconds(whole: int) -> str:
    # Formatting the date is most of the cost of a timestamp, and a busy function asks for the same second often.
    global _second
    cached = _second
    if cached[0] != whole:
        cached = _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return cached[1]


def iso(epoch: float | None = None) -> str:
    """``2026-11-22T03:09:22.123456Z`` (sortable, microsecond precision)."""
    at = now() if epoch is None else epoch
    whole = int(at // 1)
    return f"{_seconds(whole)}.{int((at - whole) * 1e6):06d}Z"


def rfc3339_ms(epoch: float | None = None) -> str:
    """``2026-11-22T03:09:22.123+00:00``, the Powertools logger's timestamp."""
    at = now() if epoch is None else epoch
    whole = int(at // 1)
    return f"{_seconds(whole)}.{int((at - whole) * 1e3):03d}+00:00"


def parse_iso(value: str) -> float:
    """Epoch seconds of an ISO-8601 timestamp (``Z`` or an offset; naive means UTC)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_RELATIVE = re.compile(r"(\d{1,6})([smhdw])")


def parse_time(value: str) -> float:
    """Epoch seconds of a query's time: ISO-8601, epoch seconds from 0 to the end of year 9999, or a
    time relative to now (``30m``, ``1h``, ``24h``, ``7d``, ``2w``: that long ago).

    Raises ValueError for anything else (``nan``, ``inf``, ``1e308``, ``9999999999999``), so a
    time parameter that is not a time is a 422, never a 500 from a formatter further down.
    """
    relative = _RELATIVE.fullmatch(value.strip())
    if relative:
        return max(0.0, now() - int(relative[1]) * _UNITS[relative[2]])
    try:
        epoch = float(value)
    except ValueError:
        try:
            epoch = parse_iso(value)
        except (ValueError, OverflowError, OSError) as error:
            raise ValueError(
                "expected an ISO-8601 timestamp, epoch seconds, or a time ago such as 1h, 24h or 7d"
            ) from error
    if not math.isfinite(epoch) or not 0 <= epoch <= LATEST_EPOCH:
        raise ValueError("expected a time between 1970-01-01 and 9999-12-31 (ISO-8601 or epoch seconds)")
    return epoch


def expires_at(days: int, epoch: float | None = None) -> int:
    """The TTL attribute for a record kept ``days`` days."""
    return int((now() if epoch is None else epoch) + days * 86400)
