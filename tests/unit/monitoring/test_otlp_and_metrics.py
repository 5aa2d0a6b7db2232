"""OTLP LogRecord -> event mapping and the Prometheus exposition, on in-memory fakes (no sockets)."""

from __future__ import annotations

import gzip
import json

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest, ExportLogsServiceResponse
from prometheus_client.parser import text_string_to_metric_families

from puraify.auth import Principal
from puraify.errors import BadRequestError, ForbiddenError, PayloadTooLargeError, ValidationFailedError
from puraify.monitoring import metrics, otlp
from puraify.settings import Settings
from tests.fakes.engine_control import MemoryCheckCountStore
from tests.fakes.monitoring import memory_monitoring


def _kv(attributes: dict) -> list[dict]:
    def value(v):
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        if isinstance(v, dict):
            return {"kvlistValue": {"values": _kv(v)}}
        return {"stringValue": v}

    return [{"key": k, "value": value(v)} for k, v in attributes.items()]


def _request(resource: dict, *records: dict) -> ExportLogsServiceRequest:
    document = {
        "resourceLogs": [{"resource": {"attributes": _kv(resource)}, "scopeLogs": [{"logRecords": list(records)}]}]
    }
    return otlp.parse_request(json.dumps(document).encode(), otlp.JSON)


def _record(body: object = "hello", severity: int = 9, text: str = "", **attributes) -> dict:
    record: dict = {"timeUnixNano": "1795316400000000000", "severityNumber": severity, "attributes": _kv(attributes)}
    record["body"] = {"kvlistValue": {"values": _kv(body)}} if isinstance(body, dict) else {"stringValue": body}
    if text:
        record["severityText"] = text
    return record


def test_a_record_maps_to_the_event_model_as_the_table_says():
    request = _request(
        {"service.name": "mailer", "puraify.project_id": "p1", "service.version": "v2.0.0", "telemetry.sdk.name": "x"},
        _record(
            "sent",
            platform="gmail",
            flow_id="f1",
            user_id=42,
            session_id="s1",
            version="v1.0.0",
            **{"deployment.environment.name": "staging", "exception.type": "Boom", "http.route": "/send"},
        ),
    )
    mapped = otlp.map_records(request)
    assert mapped.rejected == []
    event = mapped.events[0]
    assert (event.project_id, event.engine, event.platform, event.flow_id) == ("p1", "mailer", "gmail", "f1")
    assert (event.user_id, event.session_id, event.version, event.environment) == ("42", "s1", "v1.0.0", "staging")
    assert event.error_type == "Boom" and event.message == "sent" and event.status is None
    assert event.attributes == {"http.route": "/send"}  # the SDK's own resource attributes are not the event's
    assert event.event_id and event.event_id.startswith("otlp-")


@pytest.mark.parametrize(
    ("severity", "text", "error"),
    [(17, "", True), (21, "", True), (13, "ERROR", False), (9, "", False), (0, "error", True), (0, "WARN", False)],
)
def test_severity_error_and_above_is_an_error_status(severity, text, error):
    mapped = otlp.map_records(_request({"puraify.project_id": "p1"}, _record(severity=severity, text=text)))
    assert (mapped.events[0].status == "error") is error
    assert mapped.events[0].is_error is error


def test_the_record_attribute_names_the_project_over_the_resource_and_a_structured_body_is_json():
    mapped = otlp.map_records(
        _request({"puraify.project_id": "p1"}, _record({"k": "v"}, **{"puraify.project_id": "p2"}))
    )
    assert mapped.events[0].project_id == "p2" and json.loads(mapped.events[0].message or "") == {"k": "v"}


def test_records_without_a_project_or_with_a_bad_field_are_rejected_alone():
    mapped = otlp.map_records(
        _request({"service.name": "x"}, _record(), _record(**{"puraify.project_id": "p1", "flow_id": "a b"}))
    )
    assert mapped.events == [] and [r["index"] for r in mapped.rejected] == [0, 1]
    assert "puraify.project_id" in mapped.rejected[0]["error"] and "flow_id" in mapped.rejected[1]["error"]
    answer = ExportLogsServiceResponse()
    answer.ParseFromString(otlp.response_body(mapped.rejected, otlp.PROTOBUF))
    assert (
        answer.partial_success.rejected_log_records == 2 and "record 1: flow_id" in answer.partial_success.error_message
    )


def test_bad_bodies_are_400_and_big_ones_413():
    with pytest.raises(BadRequestError, match="hex"):
        otlp.parse_request(b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "zz"}]}]}]}', otlp.JSON)
    with pytest.raises(BadRequestError):
        otlp.parse_request(b"[1]", otlp.JSON)
    with pytest.raises(BadRequestError):
        otlp.media_type("application/x-www-form-urlencoded")
    assert otlp.media_type("application/json; charset=utf-8") == otlp.JSON
    assert otlp.inflate(gzip.compress(b"abc"), "gzip", 10) == b"abc"
    with pytest.raises(PayloadTooLargeError):
        otlp.inflate(gzip.compress(b"a" * 11), "gzip", 10)
    with pytest.raises(BadRequestError):
        otlp.inflate(b"not gzip", "gzip", 10)
    many = _request({"puraify.project_id": "p1"}, *[_record() for _ in range(otlp.MAX_RECORDS + 1)])
    with pytest.raises(PayloadTooLargeError):
        otlp.map_records(many)


def _protobuf(request: ExportLogsServiceRequest) -> bytes:
    return request.SerializeToString()


def test_export_checks_scope_and_grants_in_the_service_and_stores_each_record_once():
    service = memory_monitoring(Settings())
    body = _protobuf(_request({"puraify.project_id": "p1", "service.name": "e"}, _record("a"), _record("b")))
    writer = Principal("w", scopes=frozenset({"logs:write"}), projects=frozenset({"p1"}))
    with pytest.raises(ForbiddenError, match="logs:write"):  # before the body is read
        service.export_logs_for(Principal("r", projects=frozenset({"p1"})), b"junk", otlp.PROTOBUF, None, 10**6)
    with pytest.raises(ForbiddenError, match="p1"):
        stranger = Principal("s", scopes=frozenset({"logs:write"}), projects=frozenset({"p2"}))
        service.export_logs_for(stranger, body, otlp.PROTOBUF, None, 10**6)
    assert service.store.events == {}
    done = service.export_logs_for(writer, body, otlp.PROTOBUF, None, 10**6)
    again = service.export_logs_for(writer, body, otlp.PROTOBUF, None, 10**6)
    assert (done.accepted, done.rejected, done.stored) == (2, 0, 2) and again.stored == 0
    assert len(service.store.events) == 2
    assert json_format.MessageToDict(ExportLogsServiceResponse.FromString(done.body)) == {}


def _families(text: str) -> dict[str, list]:
    return {f.name: [(s.labels, s.value) for s in f.samples] for f in text_string_to_metric_families(text)}


def test_metrics_text_parses_escapes_labels_and_keeps_to_granted_projects():
    checks = MemoryCheckCountStore()
    service = memory_monitoring(Settings())
    service.check_counts = checks
    service.policy_bundle = lambda: {"revision": 'r"1\\', "sha256": "abc"}
    service.deployment_states = lambda project, limit: [{"environment": "production", "state": "baking"}]
    reader = Principal("m", scopes=frozenset({"metrics:read"}), projects=frozenset({"p1", "p2"}))
    text = service.metrics_for(reader, metrics.MetricsQuery())
    found = _families(text)
    assert found["puraify_policy_info"] == [({"revision": 'r"1\\', "sha256": "abc"}, 1.0)]
    assert {labels["project_id"] for labels, _ in found["puraify_alerts_open"]} == {"p1", "p2"}
    assert len(found["puraify_alerts_open"]) == 8 and "puraify_checks_last_hour" not in found
    baking = [labels for labels, value in found["puraify_deployment_state"] if value == 1]
    assert baking == [{"project_id": p, "environment": "production", "state": "baking"} for p in ("p1", "p2")]
    assert len(found["puraify_deployment_state"]) == 2 * len(metrics.DEPLOYMENT_STATES)
    with pytest.raises(ForbiddenError):
        service.metrics_for(reader, metrics.MetricsQuery(project_id="p3"))
    with pytest.raises(ForbiddenError):
        service.metrics_for(Principal("x", projects=frozenset({"p1"})), metrics.MetricsQuery())
    narrowed = _families(service.metrics_for(reader, metrics.MetricsQuery(project_id="p2")))
    assert {labels["project_id"] for labels, _ in narrowed["puraify_events_last_hour"]} == {"p2"}


def test_metrics_bound_the_projects_of_one_scrape():
    service = memory_monitoring(Settings())
    many = frozenset(f"p{n}" for n in range(metrics.MAX_PROJECTS + 1))
    with pytest.raises(ValidationFailedError):
        service.metrics_for(Principal("m", scopes=frozenset({"admin"}), projects=many), metrics.MetricsQuery())
    everyone = Principal("a", scopes=frozenset({"admin"}), projects=frozenset({"*"}))
    with pytest.raises(ValidationFailedError):
        service.metrics_for(everyone, metrics.parse_query({"project_id": ",".join(sorted(many))}))
    # An engine granted every project names its projects: by default only the global series
    found = _families(service.metrics_for(everyone, metrics.MetricsQuery()))
    assert found["puraify_events_last_hour"] == [] and len(found["puraify_checks_last_hour"]) == 3
