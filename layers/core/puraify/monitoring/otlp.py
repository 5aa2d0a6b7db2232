"""``POST /v1/logs``: OpenTelemetry logs (OTLP/HTTP, JSON or protobuf) stored as Monitoring events.

Each ``LogRecord`` becomes one event of ``POST /monitoring/logs`` and goes through the same ingest
(validation, exact counts, error groups, alerts). The mapping (docs/otlp.md):

- ``puraify.project_id`` (record attribute, else resource attribute) -> ``project_id``;
- ``service.name`` -> ``engine``; severity ERROR or above (number >= 17, or the text ERROR/FATAL/
  CRITICAL when no number is set) -> ``status: error``; the body -> ``message``; ``event_name`` -> ``event_type``;
- ``trace_id`` and ``span_id`` (hex) and the severity text are kept in ``attributes``;
- the well-known attributes ``platform``, ``flow_id``, ``user_id``, ``session_id``, ``version``
  (else ``service.version``), ``deployment.environment`` (or ``deployment.environment.name``),
  ``exception.type`` and ``log.record.uid`` -> the event's fields; every other attribute -> ``attributes``.

A record that cannot become an event (no project, an invalid field) is rejected on its own and
counted in the answer's ``partialSuccess`` with the reasons; the others are stored. A record with a
timestamp gets an ``event_id`` derived from its content, so an exporter's retry stores it once.

``opentelemetry-proto`` (and protobuf) are imported on the first OTLP request, not with this module:
the other routes of the function never pay for them.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from puraify.errors import BadRequestError, PayloadTooLargeError
from puraify.monitoring.entitlement import Entitled
from puraify.monitoring.ingest import IngestResult, ParsedBatch
from puraify.monitoring.models import MAX_BATCH, LogEvent

if TYPE_CHECKING:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

Ingest = Callable[[str, ParsedBatch, Entitled], IngestResult]

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
PROJECT_ATTRIBUTE = "puraify.project_id"
SEVERITY_ERROR = 17  # SEVERITY_NUMBER_ERROR; 21..24 are FATAL
ERROR_TEXTS = frozenset({"ERROR", "FATAL", "CRITICAL", "ALERT", "EMERGENCY"})
MAX_RECORDS = 2000  # four ingest batches of 500: the OTel SDK's default export batch is 512
MAX_MESSAGE = 4096
MAX_REASONS = 5
# OTLP attribute -> event field. The first one present wins where two name the same field.
WELL_KNOWN: dict[str, str] = {
    "platform": "platform",
    "flow_id": "flow_id",
    "user_id": "user_id",
    "session_id": "session_id",
    "version": "version",
    "service.version": "version",
    "deployment.environment": "environment",
    "deployment.environment.name": "environment",
    "exception.type": "error_type",
    "log.record.uid": "event_id",
}
REQUEST_BODY = {  # the OpenAPI request body of POST /v1/logs (OTLP's own schema, not a pydantic model)
    "required": True,
    "content": {
        PROTOBUF: {"schema": {"type": "string", "format": "binary", "description": "ExportLogsServiceRequest"}},
        JSON: {"schema": {"type": "object", "description": "ExportLogsServiceRequest in OTLP/JSON"}},
    },
}
DROPPED_RESOURCE = ("telemetry.sdk.", "process.", "host.", "os.")  # describe the exporter's host, not the event


@dataclass
class Mapped:
    """The events a request's records became, each with its record's position, and the rejected records."""

    events: list[LogEvent]
    indexes: list[int]
    rejected: list[dict[str, Any]]
    total: int


def media_type(content_type: str | None) -> str:
    """``application/x-protobuf`` or ``application/json`` from a Content-Type; 415-like 400 otherwise."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind in (PROTOBUF, JSON):
        return kind
    raise BadRequestError(
        f"OTLP/HTTP bodies are {PROTOBUF} or {JSON}, not {kind or 'untyped'}", code="unsupported_media_type"
    )


def inflate(body: bytes, encoding: str | None, limit: int) -> bytes:
    """The body with its Content-Encoding (gzip, deflate) undone, refused past ``limit`` bytes inflated."""
    kind = (encoding or "identity").strip().lower()
    if kind in ("", "identity"):
        return body
    if kind not in ("gzip", "deflate"):
        raise BadRequestError(f"Content-Encoding {kind} is not supported (gzip, deflate)", code="unsupported_encoding")
    inflater = zlib.decompressobj(wbits=31 if kind == "gzip" else 15)
    try:
        data = inflater.decompress(body, limit + 1)
    except (zlib.error, gzip.BadGzipFile) as error:
        raise BadRequestError(f"the body is not valid {kind}", code="invalid_encoding") from error
    if len(data) > limit:
        raise PayloadTooLargeError(f"the inflated request body exceeds {limit} bytes")
    return data


def parse_request(body: bytes, kind: str) -> ExportLogsServiceRequest:
    """An ``ExportLogsServiceRequest`` from its protobuf or OTLP/JSON encoding; 400 when it is neither."""
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    request = ExportLogsServiceRequest()
    if kind == PROTOBUF:
        try:
            request.ParseFromString(body)
        except (DecodeError, RecursionError, ValueError) as error:
            raise BadRequestError("the body is not an OTLP ExportLogsServiceRequest", code="invalid_protobuf") from (
                error
            )
        return request
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequestError("the request body is not UTF-8 text (OTLP/JSON is UTF-8)", code="invalid_encoding") from (
            error
        )
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise BadRequestError("the request body is not valid JSON", code="invalid_json") from error
    if not isinstance(document, dict):
        raise BadRequestError("the body is not an OTLP ExportLogsServiceRequest", code="invalid_otlp_json")
    try:
        _ids_to_base64(document)
        # Receivers ignore fields they do not know (OTLP/JSON), so a newer exporter still gets through.
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, AttributeError, RecursionError) as error:
        raise BadRequestError(
            f"the body is not an OTLP ExportLogsServiceRequest: {str(error)[:200]}", code="invalid_otlp_json"
        ) from error
    return request


def _ids_to_base64(document: dict[str, Any]) -> None:
    """OTLP/JSON writes trace and span ids as hex, where protobuf's JSON mapping expects base64."""
    for resource in document.get("resourceLogs") or []:
        for scope in (resource or {}).get("scopeLogs") or []:
            for record in (scope or {}).get("logRecords") or []:
                for name in ("traceId", "spanId", "trace_id", "span_id"):
                    value = record.get(name) if isinstance(record, dict) else None
                    if isinstance(value, str) and value:
                        try:
                            record[name] = base64.b64encode(bytes.fromhex(value)).decode()
                        except ValueError:
                            raise ValueError(f"{name} must be hex, got {value[:40]!r}") from None


def _value(any_value: Any) -> Any:
    """An OTLP ``AnyValue`` as plain JSON-able Python (bytes as base64 text)."""
    kind = any_value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in any_value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(any_value.bytes_value).decode()
    return getattr(any_value, kind)


def _attributes(pairs: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in pairs}


def _message(body: Any) -> str | None:
    value = _value(body)
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text[:MAX_MESSAGE]


def _is_error(record: Any) -> bool:
    if record.severity_number:
        return record.severity_number >= SEVERITY_ERROR
    return record.severity_text.strip().upper() in ERROR_TEXTS


def _timestamp(record: Any) -> datetime | None:
    nanos = record.time_unix_nano or record.observed_time_unix_nano
    return datetime.fromtimestamp(nanos / 1e9, UTC) if nanos else None


def _event_id(record: Any, resource: dict[str, Any], project_id: str) -> str | None:
    """A stable id for a timestamped record (its content's digest): a retried export stores it once."""
    if not (record.time_unix_nano or record.observed_time_unix_nano):
        return None
    digest = hashlib.sha256(project_id.encode() + b"\0" + record.SerializeToString(deterministic=True))
    digest.update(json.dumps(resource, sort_keys=True, default=str).encode())
    return "otlp-" + digest.hexdigest()[:32]


def event_fields(record: Any, resource: dict[str, Any]) -> dict[str, Any]:
    """The ``POST /monitoring/logs`` event one LogRecord maps to, before validation (see the module doc)."""
    merged = {k: v for k, v in resource.items() if not k.startswith(DROPPED_RESOURCE)}
    merged.update(_attributes(record.attributes))
    fields: dict[str, Any] = {}
    project_id = merged.pop(PROJECT_ATTRIBUTE, None)
    if project_id is None:
        raise ValueError(f"no {PROJECT_ATTRIBUTE} attribute on the record or its resource")
    fields["project_id"] = project_id
    engine = merged.pop("service.name", None)
    if engine is not None:
        fields["engine"] = engine
    for attribute, field in WELL_KNOWN.items():
        if attribute in merged:
            value = merged.pop(attribute)
            # An int or bool attribute (``user_id: 42``) is the same id as its text.
            fields.setdefault(field, str(value) if isinstance(value, int | float) else value)
    if _is_error(record):
        fields["status"] = "error"
    if record.event_name:
        fields["event_type"] = record.event_name
    message = _message(record.body)
    if message is not None:
        fields["message"] = message
    when = _timestamp(record)
    if when is not None:
        fields["timestamp"] = when
    if record.trace_id:
        merged["trace_id"] = record.trace_id.hex()
    if record.span_id:
        merged["span_id"] = record.span_id.hex()
    if record.severity_text:
        merged["severity_text"] = record.severity_text
    if merged:
        fields["attributes"] = merged
    if "event_id" not in fields and isinstance(project_id, str):
        event_id = _event_id(record, resource, project_id)
        if event_id is not None:
            fields["event_id"] = event_id
    return fields


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        parts = [f"{'.'.join(str(p) for p in e.get('loc', ())) or 'event'}: {e.get('msg', '')}" for e in error.errors()]
        return "; ".join(parts)[:300]
    return str(error)[:300]


def map_records(request: ExportLogsServiceRequest) -> Mapped:
    """Every LogRecord of the request as an event, or rejected with its reason (by position in the request)."""
    events: list[LogEvent] = []
    indexes: list[int] = []
    rejected: list[dict[str, Any]] = []
    index = 0
    total = sum(len(s.log_records) for r in request.resource_logs for s in r.scope_logs)
    if total > MAX_RECORDS:
        raise PayloadTooLargeError(
            f"an export holds at most {MAX_RECORDS} log records, got {total}", code="too_many_events"
        )
    for resource_logs in request.resource_logs:
        resource = _attributes(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                try:
                    events.append(LogEvent.model_validate(event_fields(record, resource)))
                    indexes.append(index)
                except (ValidationError, ValueError) as error:
                    rejected.append({"index": index, "error": _reason(error)})
                index += 1
    return Mapped(events, indexes, rejected, total)


def response_body(rejected: list[dict[str, Any]], kind: str) -> bytes:
    """The ``ExportLogsServiceResponse``: ``partialSuccess`` counts the rejected records and says why."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

    answer = ExportLogsServiceResponse()
    if rejected:
        answer.partial_success.rejected_log_records = len(rejected)
        reasons = [f"record {r['index']}: {r['error']}" for r in rejected[:MAX_REASONS]]
        more = f" (and {len(rejected) - MAX_REASONS} more)" if len(rejected) > MAX_REASONS else ""
        answer.partial_success.error_message = "; ".join(reasons) + more
    if kind == PROTOBUF:
        return answer.SerializeToString()
    return json_format.MessageToJson(answer, indent=None).encode()


@dataclass
class Export:
    """The answer to one export: the body, its content type, and what was stored."""

    body: bytes
    content_type: str
    accepted: int
    rejected: int
    stored: int


def decode(body: bytes, content_type: str | None, content_encoding: str | None, max_bytes: int) -> tuple[str, Mapped]:
    """An export's media type and its records mapped to events (400/413 for a body that is not one)."""
    kind = media_type(content_type)
    return kind, map_records(parse_request(inflate(body, content_encoding, max_bytes), kind))


def store(ingest: Ingest, reporter: str, entitled: Entitled, kind: str, mapped: Mapped) -> Export:
    """Ingest the mapped events in batches of 500 and answer with the rejected records counted.

    ``ingest`` is Monitoring's (``Monitoring.ingest``); the caller's access was checked before
    (``Monitoring.export_logs_for``).
    """
    rejected = list(mapped.rejected)
    accepted = stored = 0
    for start in range(0, len(mapped.events), MAX_BATCH):
        batch = ParsedBatch(mapped.events[start : start + MAX_BATCH], [], mapped.indexes[start : start + MAX_BATCH])
        result = ingest(reporter, batch, entitled)
        accepted += result.accepted
        stored += result.stored
        rejected += result.rejected
    rejected.sort(key=lambda r: r["index"])
    return Export(response_body(rejected, kind), kind, accepted, len(rejected), stored)
