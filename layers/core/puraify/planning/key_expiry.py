"""Expiring keys: seven days before an engine's key expires, the schedule raises one ``key_expiring`` alert.

Once a minute (the CollectFunction schedule, with the engine watch) the pass asks the engine registry for
the active engines whose key expires before ``now + 7 days`` (``ExpiringKeys``: one filtered Scan of the
EnginesTable, projecting two attributes; the registry holds one small item per engine, so a page of 1 MB
covers about a thousand engines, and the read stops after ``MAX_PAGES`` pages with a warning). For each,
Monitoring's engine-level alert is raised: its fingerprint ``key_expiring:<engine_id>`` is claimed with one
conditional write, so there is at most one unresolved ``key_expiring`` alert per engine, however many passes
see the key. No alert is read, let alone scanned.

A rotation resolves it at once (Engine Control calls Monitoring's ``resolve_engine_alert``, one read of the
fingerprint); a rotated key with a new expiry within seven days gets a new alert on the next pass, naming
the new time. Resolving the alert by hand without rotating raises it again on the next pass (the key still
expires): acknowledge it instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from puraify import clock
from puraify.errors import UnavailableError
from puraify.observability import logger
from puraify.planning.ports import EngineAlert, ExpiringKeys

__all__ = ["ExpiringKey", "ExpiringKeys", "watch_keys"]

WARN_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class ExpiringKey:
    engine_id: str
    expires_at: str
    alerted: bool  # False: its alert was already open


def watch_keys(expiring: ExpiringKeys, alert: EngineAlert, at: float | None = None) -> list[ExpiringKey]:
    """Raise ``key_expiring`` (severity medium) for each active engine whose key expires within seven days."""
    at = clock.now() if at is None else at
    found: list[ExpiringKey] = []
    try:
        keys = expiring(at + WARN_SECONDS)
    except UnavailableError:
        logger.warning("key_expiring pass skipped: the engine registry is unavailable")  # the next pass retries
        return found
    for engine_id, expires in sorted(keys):
        when = clock.iso(expires)
        if expires > at:
            days = (expires - at) / 86400
            message = f"engine {engine_id}: its key expires at {when} (in {days:.1f} days); rotate it"
        else:
            message = f"engine {engine_id}: its key expired at {when}; it is refused until rotated"
        try:
            raised = alert(
                engine_id=engine_id,
                event_type="key_expiring",
                severity="medium",
                message=message,
                details={"expires_at": when},
            )
        except Exception as error:  # noqa: BLE001 - one engine's alert never stops the pass
            logger.warning("key_expiring could not be raised", extra={"engine_id": engine_id, "error": str(error)})
            continue
        found.append(ExpiringKey(engine_id, when, alerted=raised is not None))
    return found
