"""Audit: every decision becomes one structured log line and one record with an expiry.

Kinds: ``check`` (an action check), ``auth`` (a rejected credential), ``admin`` (a change to
engines, platforms or flags). ``status`` is ``allowed``, ``denied`` or ``error``. A record names the
engine it is about (``engine_id``, the checked engine of a check) and the authenticated engine that
made the request (``caller_id``); it is kept in the caller's partition.

A rejected credential writes a line, but no record of its own: it is counted in one aggregate per
source, claimed engine id and minute (``auth_failure``), so a flood of bad credentials cannot
amplify into as many writes of new items.

The log line is the one the Powertools logger would write for ``logger.info("audit", extra=...)``
(its keys, its persistent and per-invocation keys, its stream and level), built directly and
serialised by pydantic-core: the record machinery of ``logging`` was 40% of a check. CloudWatch metric filters count
these lines (``message = "audit"``, ``kind``, ``status``), so their shape is a contract.
"""

from __future__ import annotations

import logging
import os
import zlib
from typing import Any, Literal, Protocol

from aws_lambda_powertools.logging.formatter import THREAD_LOCAL_KEYS
from pydantic_core import to_json

from puraify.clock import expires_at, iso, now, rfc3339_ms
from puraify.observability import logger

Status = Literal["allowed", "denied", "error"]

# The record's keys that the line leaves out (the line's own ``timestamp`` is the logger's, RFC 3339).
_NOT_LOGGED = frozenset({"pk", "sk", "project_pk", "project_sk", "flow_pk", "timestamp", "subject_pk", "platform_pk"})
# The partitions of the ``by_platform`` index per platform: a check's by crc32 of its key (stable across
# processes, unlike ``hash``), so one busy platform spreads its index writes; a read queries each of them.
PLATFORM_SHARDS = 8
ADMIN_PARTITION = "ADMIN"
# What ``AuditStore.checks_on`` (and ``checks_about(replayed=True)``) return of a check: what a replay reads; the
# reason, index keys and expiry stay behind (a ProjectionExpression: half the bytes to parse).
REPLAYED = ("pk", "sk", "request_id", "timestamp", "engine_id", "caller_id", "platform", "action_type", "project_id",
            "status", "details")  # fmt: skip
_RECORD_KEYS = frozenset(
    {"kind", "request_id", "engine_id", "platform", "action_type", "status", "reason", "project_id", "flow_id"}
    | {"details", "expires_at", "item", "caller_id", "count"}
)
AUTH_FAILURE_SAMPLES = 5  # requests an auth-failure aggregate keeps in full; the rest are only counted
UNKNOWN_ENGINE = "-"  # the aggregate of ids no engine has (the samples keep the ids claimed)
_LINE_HEAD = {"level": "INFO", "location": "record", "message": "audit"}


class AuditStore(Protocol):
    def put(self, record: dict[str, Any]) -> None: ...
    def last_seen(self, engine_id: str) -> str | None: ...
    def add_auth_failure(self, aggregate: dict[str, Any], sample: dict[str, Any], *, samples: int, at: str) -> int: ...

    def put_many(self, records: list[dict[str, Any]]) -> None: ...
    def by_project(
        self, project_id: str, *, since: str = "", flow_id: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]: ...
    def checks_about(
        self, engine_id: str, *, since: str, until: str, limit: int, replayed: bool = False
    ) -> list[dict[str, Any]]: ...
    def checks_on(self, platform: str, *, since: str, until: str, limit: int) -> list[dict[str, Any]]: ...
    def admin_changes(self, *, since: str, until: str, limit: int) -> list[dict[str, Any]]: ...


class AuditLog:
    store: AuditStore

    def __init__(self, store: AuditStore, retention_days: int):
        self.store = store
        self.retention_days = retention_days
        self._last: tuple[float, str, int] = (-1.0, "", 0)

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
        record = self.build(
            kind=kind,
            request_id=request_id,
            engine_id=engine_id,
            status=status,
            platform=platform,
            action_type=action_type,
            reason=reason,
            project_id=project_id,
            flow_id=flow_id,
            details=details,
        )
        if persist:
            self.write(record)
        else:
            write_lines([record])
        return record

    def write(self, record: dict[str, Any]) -> None:
        """Log and persist one record made by ``build``. Store failures propagate."""
        write_lines([record])
        self.store.put(record)

    def write_many(self, records: list[dict[str, Any]]) -> None:
        """Log and persist records made by ``build`` in one store call (a batch of checks). Failures propagate."""
        write_lines(records)
        self.store.put_many(records)

    def auth_failure(self, *, request_id: str, claimed: str, known: bool, source: str, route: str) -> int | None:
        """Count one rejected credential: its line, and one ``UpdateItem ADD`` on the aggregate of its
        source, engine id and minute (the first ``AUTH_FAILURE_SAMPLES`` requests kept as samples).

        An id that no engine has is counted as ``UNKNOWN_ENGINE``, so cycling made-up ids adds no
        items. Returns the aggregate's count; store failures propagate (the line is written first).
        """
        at = now()
        timestamp = iso(at)
        minute = timestamp[:16]
        engine = claimed if known else UNKNOWN_ENGINE
        aggregate = {
            "pk": f"AUTH#{minute}",
            "sk": f"{engine}#{source}",
            "kind": "auth",
            "engine_id": engine,
            "source": source,
            "minute": minute,
            "expires_at": expires_at(self.retention_days, at),
        }
        sample = {"at": timestamp, "request_id": request_id, "engine_id": claimed, "route": route}
        line: dict[str, Any] = {
            "kind": "auth",
            "request_id": request_id,
            "engine_id": claimed,
            "platform": None,
            "action_type": None,
            "status": "denied",
            "reason": "missing or invalid engine credentials",
            "details": {"route": route, "source": source, "aggregate": f"{aggregate['pk']}/{aggregate['sk']}"},
        }
        try:
            line["count"] = count = self.store.add_auth_failure(
                aggregate, sample, samples=AUTH_FAILURE_SAMPLES, at=timestamp
            )
        finally:
            write_lines([line])
        return count

    def build(
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
        at: float | None = None,
        item: int | None = None,
        caller_id: str | None = None,
    ) -> dict[str, Any]:
        """One audit record; ``item`` is a check's position in a batch (its key carries it, so keys stay unique).

        ``caller_id`` is the authenticated engine that made the request (``engine_id`` when omitted):
        the record is kept in its partition (``ENGINE#<caller_id>``), whatever engine it is about.
        """
        at = now() if at is None else at
        if at != self._last[0]:  # a batch builds all its records at one moment
            self._last = (at, iso(at), expires_at(self.retention_days, at))
        _, timestamp, expires = self._last
        key = request_id if item is None else f"{request_id}#{item:02d}"
        caller_id = caller_id or engine_id
        record: dict[str, Any] = {
            "pk": f"ENGINE#{caller_id}",
            "sk": f"{timestamp}#{key}",
            "kind": kind,
            "request_id": request_id,
            "engine_id": engine_id,
            "caller_id": caller_id,
            "platform": platform,
            "action_type": action_type,
            "status": status,
            "reason": reason,
            "project_id": project_id,
            "flow_id": flow_id,
            "details": details or None,
            "timestamp": timestamp,
            "expires_at": expires,
        }
        if item is not None:
            record["item"] = item
        if kind == "check":
            record["subject_pk"] = f"CHECK#{engine_id}"
            if platform:
                shard = zlib.crc32(key.encode()) % PLATFORM_SHARDS
                record["platform_pk"] = f"PLATFORM#{platform}#{shard}"
        elif kind == "admin":
            record["subject_pk"] = ADMIN_PARTITION
        if project_id:
            record["project_pk"] = f"PROJECT#{project_id}"
            record["project_sk"] = record["sk"]
            if flow_id:
                record["flow_pk"] = f"PROJECT#{project_id}#FLOW#{flow_id}"
        return record


def write_lines(records: list[dict[str, Any]]) -> None:
    """One audit line per record, as the Powertools logger formats them, in one write to its stream."""
    if logger.log_level > logging.INFO:
        return
    handler = logger.registered_handler
    formatter: Any = handler.formatter
    # The keys every line of this call shares, serialised once; a record's own keys win over them.
    head: dict[str, Any] = dict(_LINE_HEAD)
    head["timestamp"] = rfc3339_ms()
    for source in (formatter.log_format, THREAD_LOCAL_KEYS.get()):
        for name, value in source.items():
            if name not in head and value is not None and name not in _RECORD_KEYS:
                head[name] = value
    trace = os.environ.get("_X_AMZN_TRACE_ID")
    if trace:
        head["xray_trace_id"] = trace.split(";")[0].replace("Root=", "")
    prefix = to_json(head, fallback=str)[:-1] + b","
    lines = []
    for record in records:
        line = {k: v for k, v in record.items() if v is not None and k not in _NOT_LOGGED}
        # The same keys every time ("" for absent ones: Powertools drops None values).
        line["platform"] = record["platform"] or ""
        line["action_type"] = record["action_type"] or ""
        lines.append(prefix + to_json(line, fallback=str)[1:])
    text = (b"\n".join(lines) + b"\n").decode()
    handler.acquire()
    try:
        handler.stream.write(text)  # type: ignore[attr-defined]
        handler.flush()
    finally:
        handler.release()
