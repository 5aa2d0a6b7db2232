"""OpenTelemetry in, Prometheus out, over real HTTP against the local runner (issue 24).

The logs come from the OpenTelemetry Python SDK's own OTLP/HTTP exporter (protobuf, and gzip), as an
engine instrumented with OpenTelemetry sends them; the metrics are read with ``prometheus_client``'s
own parser, as Prometheus would.
"""

from __future__ import annotations

import base64
import gzip
import logging
import uuid

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client.parser import text_string_to_metric_families

ADMIN_KEY = "pfk_e2e-admin-key-0123456789abcdefghijklmnopqrstuv"


@pytest.fixture(scope="module")
def http(plane):
    with httpx.Client(base_url=plane.base_url, timeout=30) as client:
        yield client


def admin() -> dict[str, str]:
    return {"X-Engine-ID": "admin", "X-Engine-Key": ADMIN_KEY}


def register(http: httpx.Client, scopes: list[str], projects: list[str]) -> dict[str, str]:
    engine_id = f"otel-{uuid.uuid4().hex[:8]}"
    reply = http.post(
        "/engines/register",
        headers=admin(),
        json={"engine_id": engine_id, "scopes": scopes, "projects": projects, "permissions": {"gmail": ["send_email"]}},
    )
    assert reply.status_code == 201, reply.text
    return {"X-Engine-ID": engine_id, "X-Engine-Key": reply.json()["engine_key"]}


def otel_logger(
    plane, headers: dict[str, str], project: str, compression: Compression
) -> tuple[logging.Logger, LoggerProvider]:
    """A stdlib logger whose records the OpenTelemetry SDK exports to ``POST /v1/logs``."""
    resource = Resource.create(
        {"service.name": "checkout-engine", "puraify.project_id": project, "deployment.environment": "staging"}
    )
    provider = LoggerProvider(resource=resource)
    exporter = OTLPLogExporter(
        endpoint=f"{plane.base_url}/v1/logs", headers=headers, compression=compression, timeout=30
    )
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = logging.getLogger(f"otel-e2e-{uuid.uuid4().hex[:6]}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(LoggingHandler(level=logging.INFO, logger_provider=provider))
    return logger, provider


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip], ids=["protobuf", "gzip"])
def test_the_otel_sdk_exporter_logs_show_up_in_monitoring_logs(http, plane, compression):
    # Given an engine granted its project, instrumented with the OpenTelemetry SDK's OTLP/HTTP exporter
    project = f"otel-{uuid.uuid4().hex[:8]}"
    creds = register(http, ["logs:write", "logs:read"], [project])
    logger, provider = otel_logger(plane, creds, project, compression)
    tracer = TracerProvider().get_tracer("e2e")
    # When it logs an info line, and an error inside a span, with well-known attributes
    logger.info("order placed", extra={"flow_id": "checkout", "user_id": "u_42", "cart_items": 3})
    with tracer.start_as_current_span("pay") as span:
        logger.error("payment provider timed out", extra={"platform": "stripe", "flow_id": "checkout"})
        trace_id = format(span.get_span_context().trace_id, "032x")
    assert provider.force_flush(30_000)
    provider.shutdown()
    for handler in list(logger.handlers):  # else logging's atexit flush would start a thread at shutdown
        logger.removeHandler(handler)
    # Then GET /monitoring/logs shows both, mapped to the event model
    shown = http.get("/monitoring/logs", headers=creds, params={"project_id": project, "limit": 10})
    assert shown.status_code == 200, shown.text
    logs = {e["message"]: e for e in shown.json()["items"]}
    assert set(logs) == {"order placed", "payment provider timed out"}
    info, error = logs["order placed"], logs["payment provider timed out"]
    assert info["engine"] == error["engine"] == "checkout-engine"
    assert info["environment"] == "staging" and info["flow_id"] == "checkout" and info["user_id"] == "u_42"
    assert info["attributes"]["cart_items"] == 3 and info.get("status") is None
    assert error["status"] == "error" and error["platform"] == "stripe"
    assert error["attributes"]["trace_id"] == trace_id and len(error["attributes"]["span_id"]) == 16
    assert error["reported_by"] == creds["X-Engine-ID"]
    # And the error counts: GET /monitoring/errors groups it
    errors = http.get("/monitoring/errors", headers=creds, params={"project_id": project}).json()
    assert sum(g["count"] for g in errors["items"]) == 1


def _otlp_json(project: str | None, *bodies: str, severity: int = 9) -> dict:
    resource = [{"key": "service.name", "value": {"stringValue": "json-engine"}}]
    if project is not None:
        resource.append({"key": "puraify.project_id", "value": {"stringValue": project}})
    records = [
        {
            "timeUnixNano": "1795316400000000000",
            "severityNumber": severity,
            "body": {"stringValue": body},
            "traceId": "5b8efff798038103d269b633813fc60c",
            "attributes": [{"key": "session_id", "value": {"intValue": "7"}}],
        }
        for body in bodies
    ]
    return {"resourceLogs": [{"resource": {"attributes": resource}, "scopeLogs": [{"logRecords": records}]}]}


def test_otlp_json_counts_rejected_records_in_partial_success(http):
    # Given a JSON export whose second resource names no project, and a record whose flow_id is invalid
    project = f"otel-{uuid.uuid4().hex[:8]}"
    creds = register(http, ["logs:write", "logs:read"], [project])
    export = _otlp_json(project, "kept", "also kept")
    bad = _otlp_json(project, "bad flow")["resourceLogs"][0]
    bad["scopeLogs"][0]["logRecords"][0]["attributes"].append({"key": "flow_id", "value": {"stringValue": "a b"}})
    export["resourceLogs"] += [_otlp_json(None, "orphan")["resourceLogs"][0], bad]
    # When it is sent as OTLP/JSON
    reply = http.post("/v1/logs", headers={**creds, "Content-Type": "application/json"}, json=export)
    # Then 200 with an ExportLogsServiceResponse in JSON counting the two rejected records, each with its reason
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    partial = reply.json()["partialSuccess"]
    assert partial["rejectedLogRecords"] == "2"
    assert (
        "record 2: no puraify.project_id" in partial["errorMessage"] and "record 3: flow_id" in partial["errorMessage"]
    )
    stored = http.get("/monitoring/logs", headers=creds, params={"project_id": project}).json()["items"]
    assert sorted(e["message"] for e in stored) == ["also kept", "kept"]
    assert stored[0]["session_id"] == "7" and stored[0]["attributes"]["trace_id"] == "5b8efff798038103d269b633813fc60c"
    # And a retry of the same export stores nothing twice (each record's id is its content's digest)
    again = http.post("/v1/logs", headers={**creds, "Content-Type": "application/json"}, json=export)
    assert again.status_code == 200
    assert len(http.get("/monitoring/logs", headers=creds, params={"project_id": project}).json()["items"]) == 2


def test_otlp_applies_the_same_scopes_grants_and_limits(http, plane):
    project = f"otel-{uuid.uuid4().hex[:8]}"
    writer = register(http, ["logs:write"], [project])
    reader = register(http, ["logs:read"], [project])
    pb = {"Content-Type": "application/x-protobuf"}
    from google.protobuf import json_format
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    def protobuf(export: dict) -> bytes:
        for resource in export["resourceLogs"]:
            for record in resource["scopeLogs"][0]["logRecords"]:
                record["traceId"] = base64.b64encode(bytes.fromhex(record["traceId"])).decode()
        return json_format.ParseDict(export, ExportLogsServiceRequest()).SerializeToString()

    # No credentials: 401; no logs:write: 403; a project not granted: 403 for the whole export, nothing stored
    assert http.post("/v1/logs", headers=pb, content=protobuf(_otlp_json(project, "x"))).status_code == 401
    denied = http.post("/v1/logs", headers={**reader, **pb}, content=protobuf(_otlp_json(project, "x")))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "missing_scope"
    mixed = _otlp_json(project, "mine")
    mixed["resourceLogs"] += _otlp_json("someone-else", "theirs")["resourceLogs"]
    refused = http.post("/v1/logs", headers={**writer, **pb}, content=protobuf(mixed))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "project_not_granted"
    assert http.get("/monitoring/logs", headers=admin(), params={"project_id": project}).json()["items"] == []
    # A body that is not OTLP is a 400, an unknown media type too; a gzip bomb past the limit is a 413
    garbage = http.post("/v1/logs", headers={**writer, **pb}, content=b"\xff\xfe\x00garbage")
    assert garbage.status_code == 400 and garbage.json()["error"]["code"] == "invalid_protobuf"
    form = http.post("/v1/logs", headers={**writer, "Content-Type": "text/plain"}, content=b"hello")
    assert form.status_code == 400 and form.json()["error"]["code"] == "unsupported_media_type"
    bomb = gzip.compress(b"\n" * (8 * 1024 * 1024))
    too_big = http.post("/v1/logs", headers={**writer, **pb, "Content-Encoding": "gzip"}, content=bomb)
    assert too_big.status_code == 413
    # The protobuf answer is an ExportLogsServiceResponse in protobuf
    ok = http.post("/v1/logs", headers={**writer, **pb}, content=protobuf(_otlp_json(project, "fine", severity=21)))
    assert ok.status_code == 200 and ok.headers["content-type"] == "application/x-protobuf"
    answer = ExportLogsServiceResponse()
    answer.ParseFromString(ok.content)
    assert answer.partial_success.rejected_log_records == 0
    stored = http.get("/monitoring/logs", headers=admin(), params={"project_id": project}).json()["items"]
    assert [(e["message"], e["status"]) for e in stored] == [("fine", "error")]


def _families(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        found[family.name] = [(s.labels, s.value) for s in family.samples]
    return found


def test_metrics_parse_count_checks_and_show_only_granted_projects(http):
    # Given two projects with events, a check, and an engine granted only one of them
    mine, theirs = f"mine-{uuid.uuid4().hex[:6]}", f"theirs-{uuid.uuid4().hex[:6]}"
    for project in (mine, theirs):
        sent = http.post(
            "/v1/logs", headers={**admin(), "Content-Type": "application/json"}, json=_otlp_json(project, "a", "b")
        )
        assert sent.status_code == 200, sent.text
    before = _families(http.get("/metrics", headers=admin()).text)
    checker = register(http, ["metrics:read"], [mine])
    assert http.post("/actions/check", headers=checker, json={"platform": "gmail", "action_type": "send_email"}).json()[
        "allowed"
    ]
    # When an engine granted every project scrapes (naming both), and the engine granted one scrapes
    everything = http.get("/metrics", headers=admin(), params={"project_id": f"{mine},{theirs}"})
    scoped = http.get("/metrics", headers=checker)
    # Then both parse with prometheus_client, checks are counted, and each sees only its granted projects
    assert everything.status_code == 200 and everything.headers["content-type"].startswith("text/plain")
    all_families = _families(everything.text)
    allowed = lambda fams: dict((s[0]["decision"], s[1]) for s in fams["puraify_checks_last_hour"])["allowed"]  # noqa: E731
    assert allowed(all_families) == allowed(before) + 1
    events = {labels["project_id"]: value for labels, value in all_families["puraify_events_last_hour"]}
    assert events == {mine: 2, theirs: 2}
    assert len(all_families["puraify_alerts_open"]) == 8
    assert all_families["puraify_policy_info"][0][0]["revision"]
    assert all_families["puraify_build_info"][0][0]["version"] == http.get("/health").json()["version"]
    mine_only = _families(scoped.text)
    assert {labels["project_id"] for labels, _ in mine_only["puraify_events_last_hour"]} == {mine}
    assert "puraify_checks_last_hour" not in mine_only  # global counts: only for an engine granted every project
    assert theirs not in scoped.text
    # And naming a project not granted is 403, a scrape without metrics:read too
    assert http.get("/metrics", headers=checker, params={"project_id": theirs}).status_code == 403
    assert http.get("/metrics", headers=register(http, ["logs:read"], [mine])).status_code == 403


def test_metrics_show_deployment_states(http):
    # Given a version published to a project's development environment
    project = f"dep-{uuid.uuid4().hex[:6]}"
    published = http.post(
        "/env/versions",
        headers=admin(),
        json={"project_id": project, "environment": "development", "label": "v1.0.0", "state": {"entities": ["a"]}},
    )
    assert published.status_code in (200, 201), published.text
    # When an engine granted every project scrapes it
    families = _families(http.get("/metrics", headers=admin(), params={"project_id": project}).text)
    # Then its latest deployment's state is the one set to 1
    states = {(labels["environment"], labels["state"]): value for labels, value in families["puraify_deployment_state"]}
    assert states[("development", "deployed")] == 1
    assert sum(value for (env, _), value in states.items() if env == "development") == 1
