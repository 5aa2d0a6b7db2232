"""``POST /log/engine_event``: one event, stored with the caller's engine id and an expiry."""

from __future__ import annotations

import uuid

from puraify.auth import Principal
from puraify.clock import expires_at, iso, now
from puraify.monitoring.models import EngineEventRequest, EngineEventResponse
from puraify.monitoring.ports import EventStore


def record_engine_event(
    store: EventStore, caller: Principal, body: EngineEventRequest, retention_days: int
) -> EngineEventResponse:
    """Store the event; with an ``event_id`` a retry overwrites the same item instead of adding one."""
    event_id = body.event_id or uuid.uuid4().hex
    at = now()
    store.put(
        {
            "pk": f"ENGINE#{caller.engine_id}",
            "sk": f"EVENT#{event_id}",
            "event_id": event_id,
            "engine_id": caller.engine_id,
            "timestamp": iso(at),
            "expires_at": expires_at(retention_days, at),
            **body.model_dump(exclude={"event_id"}, exclude_none=True),
        }
    )
    return EngineEventResponse(event_id=event_id)
