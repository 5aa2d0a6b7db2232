"""Audit: every decision becomes one structured log line and one record with an expiry.

Kinds: ``check`` (an action check), ``auth`` (a rejected credential), ``admin`` (a change to
engines, platforms or flags). ``status`` is ``allowed``, ``denied`` or ``error``.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from puraify.clock import expires_at, iso, now
from puraify.observability import logger

Status = Literal["allowed", "denied", "error"]


class AuditStore(Protocol):
    def put(self, record: dict[str, Any]) -> None: ...
    def last_seen(self, engine_id: str) -> str | None: ...


class AuditLog:
    store: AuditStore

    def __init__(self, store: AuditStore, retention_days: int):
        self.store = store
        self.retention_days = retention_days

    def record(
        self,
        *,
        kind: str,
        request_id: str,
        engine_id: str,
        status: Status,
        platform: str | None = None,
        action_type: str | None = None,
        reason: str | None = None,
        project_id: str | None = None,
        flow_id: str | None = None,
        details: dict[str, Any] | None = None,
        persist: bool = True,
    ) -> dict[str, Any]:
        """Log and persist one decision; returns the record. Store failures propagate."""
        at = now()
        timestamp = iso(at)
        record: dict[str, Any] = {
            "pk": f"ENGINE#{engine_id}",
            "sk": f"{timestamp}#{request_id}",
            "kind": kind,
            "request_id": request_id,
            "engine_id": engine_id,
            "platform": platform,
            "action_type": action_type,
            "status": status,
            "reason": reason,
            "project_id": project_id,
            "flow_id": flow_id,
            "details": details or None,
            "timestamp": timestamp,
            "expires_at": expires_at(self.retention_days, at),
        }
        if project_id:
            record["project_pk"] = f"PROJECT#{project_id}"
            record["project_sk"] = record["sk"]
        # The log line has the same keys every time ("" for absent ones: Powertools drops None values);
        # the logger's own ``timestamp`` (RFC 3339) is the decision's time.
        line = {k: v for k, v in record.items() if k not in ("pk", "sk", "project_pk", "project_sk", "timestamp")}
        line.update({k: line.get(k) or "" for k in ("platform", "action_type")})
        logger.info("audit", extra=line)
        if persist:
            self.store.put(record)
        return record
