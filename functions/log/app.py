"""Monitoring & Logs: event ingest, alerts, and the read side; plus the alert-dispatch retry schedule.

Scopes and grants are checked by the service (``Monitoring.*_for``); this module parses and answers.
"""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ValidationError

from puraify import openapi, wiring
from puraify.errors import validation_error
from puraify.http import (
    caller,
    charge_events,
    create_app,
    handle,
    is_schedule,
    parse_json_body,
    query,
    raw_body,
    respond,
)
from puraify.monitoring import metrics as prometheus
from puraify.monitoring import models as mm
from puraify.monitoring import otlp, overview
from puraify.monitoring import projects as project_list
from puraify.monitoring import route_models as rm
from puraify.monitoring.ingest import parse_payload
from puraify.observability import logger, metrics
from puraify.openapi import responses

app = create_app()


def _params[Q: BaseModel](model: type[Q]) -> Q:
    try:
        return model.model_validate(query(app))
    except ValidationError as error:
        raise validation_error([{**e, "loc": ("query", *e.get("loc", ()))} for e in error.errors()]) from error


def _transition_body() -> mm.AlertTransitionRequest:
    raw = app.current_event.decoded_body or ""
    payload = parse_json_body(raw) if raw.strip() else {}
    try:
        return mm.AlertTransitionRequest.model_validate(payload)
    except ValidationError as error:
        raise validation_error([{**e, "loc": ("body", *e.get("loc", ()))} for e in error.errors()]) from error


def _transition(alert_id: str, to: str) -> mm.AlertResponse:
    alert = wiring.current().monitoring.transition_for(caller(app), alert_id, to, _transition_body().reason)
    return mm.AlertResponse.model_validate(alert)


@app.post("/log/engine_event", responses=responses(202))
def engine_event(body: mm.EngineEventRequest) -> Response[mm.EngineEventResponse]:
    return respond(202, wiring.current().monitoring.engine_event_for(caller(app), body))


@app.post(
    "/monitoring/logs",
    responses=responses(202, 400, 413, 422),
    openapi_extensions={"requestBody": openapi.request_body(mm.LogIngestRequest)},
)
def ingest_logs() -> Response[mm.LogIngestResponse]:
    # A value DynamoDB cannot store rejects only its event (by index), never the batch.
    payload = parse_json_body(app.current_event.decoded_body or "", check_values=False)
    batch = parse_payload(payload)
    charge_events(app, caller(app), len(batch.events) + len(batch.rejected))
    result = wiring.current().monitoring.ingest_for(caller(app), batch)
    metrics.add_metric(name="EventsStored", unit=MetricUnit.Count, value=result.stored)
    return respond(202, mm.LogIngestResponse(accepted=result.accepted, rejected=result.rejected))


@app.post(
    "/v1/logs",
    responses=responses(200, 400, 403, 413, media_type=(otlp.PROTOBUF, otlp.JSON)),
    openapi_extensions={"requestBody": otlp.REQUEST_BODY},
)
def export_logs() -> Response[bytes]:
    """OpenTelemetry logs (OTLP/HTTP, protobuf or JSON): each LogRecord becomes one event (docs/otlp.md)."""
    current = wiring.current()
    headers = app.current_event.headers or {}
    done = current.monitoring.export_logs_for(
        caller(app),
        raw_body(app.current_event.raw_event),
        headers.get("content-type"),
        headers.get("content-encoding"),
        current.settings.log_max_body_bytes,
    )
    metrics.add_metric(name="EventsStored", unit=MetricUnit.Count, value=done.stored)
    return Response(status_code=200, content_type=done.content_type, body=done.body)


@app.get(
    "/metrics",
    responses=responses(200, 403, 422, media_type="text/plain"),
    openapi_extensions={"parameters": openapi.query_parameters(prometheus.MetricsQuery)},
)
def scrape_metrics() -> Response[str]:
    """Prometheus text exposition from stored aggregates: the caller's granted projects only (docs/otlp.md)."""
    text = wiring.current().monitoring.metrics_for(caller(app), prometheus.parse_query(query(app)))
    return Response(status_code=200, content_type=prometheus.CONTENT_TYPE, body=text)


@app.post("/monitoring/alert", responses=responses(201))
def raise_alert(body: mm.AlertRequest) -> Response[mm.AlertResponse]:
    alert = wiring.current().monitoring.raise_alert_for(caller(app), body)
    return respond(201, mm.AlertResponse.model_validate(alert))


@app.get("/monitoring/logs", openapi_extensions={"parameters": openapi.query_parameters(mm.LogsQuery)})
def query_logs() -> dict:
    return wiring.current().monitoring.logs_for(caller(app), _params(mm.LogsQuery))


@app.get("/monitoring/errors", openapi_extensions={"parameters": openapi.query_parameters(mm.ErrorsQuery)})
def query_errors() -> dict:
    return wiring.current().monitoring.errors_for(caller(app), _params(mm.ErrorsQuery))


@app.get("/monitoring/stats", openapi_extensions={"parameters": openapi.query_parameters(mm.StatsQuery)})
def query_stats() -> dict:
    return wiring.current().monitoring.stats_for(caller(app), _params(mm.StatsQuery))


@app.get("/monitoring/alerts", openapi_extensions={"parameters": openapi.query_parameters(mm.AlertsQuery)})
def list_alerts() -> mm.AlertsPage:
    page = wiring.current().monitoring.alerts_for(caller(app), _params(mm.AlertsQuery))
    return mm.AlertsPage.model_validate(page)


@app.post(
    "/monitoring/alerts/<alert_id>/acknowledge",
    responses=responses(200, 404, 409, 422),
    openapi_extensions={"requestBody": {**openapi.request_body(mm.AlertTransitionRequest), "required": False}},
)
def acknowledge_alert(alert_id: mm.Id) -> mm.AlertResponse:
    return _transition(alert_id, "acknowledged")


@app.post(
    "/monitoring/alerts/<alert_id>/resolve",
    responses=responses(200, 404, 409, 422),
    openapi_extensions={"requestBody": {**openapi.request_body(mm.AlertTransitionRequest), "required": False}},
)
def resolve_alert(alert_id: mm.Id) -> mm.AlertResponse:
    return _transition(alert_id, "resolved")


@app.get("/monitoring/alerts/<alert_id>", responses=responses(200, 404))
def show_alert(alert_id: mm.Id) -> mm.AlertResponse:
    return mm.AlertResponse.model_validate(wiring.current().monitoring.alert_detail(caller(app), alert_id))


@app.get("/monitoring/routes/<project_id>", responses=responses(200))
def get_routes(project_id: rm.RouteProject) -> rm.RoutesResponse:
    return rm.RoutesResponse.model_validate(wiring.current().monitoring.routing.get_routes(caller(app), project_id))


@app.put("/monitoring/routes/<project_id>", responses=responses(200, 422))
def put_routes(project_id: rm.RouteProject, body: rm.RoutesRequest) -> rm.RoutesResponse:
    saved = wiring.current().monitoring.routing.put_routes(caller(app), project_id, body)
    return rm.RoutesResponse.model_validate(saved)


@app.post("/monitoring/silences", responses=responses(201, 422))
def add_silence(body: rm.SilenceRequest) -> Response[rm.SilenceResponse]:
    silence = wiring.current().monitoring.routing.add_silence(caller(app), body)
    return respond(201, rm.SilenceResponse.model_validate(silence))


@app.get("/monitoring/silences", openapi_extensions={"parameters": openapi.query_parameters(rm.SilencesQuery)})
def list_silences() -> rm.SilencesPage:
    found = wiring.current().monitoring.routing.list_silences(caller(app), _params(rm.SilencesQuery).project_id)
    return rm.SilencesPage.model_validate(found)


@app.delete("/monitoring/silences/<silence_id>", responses=responses(204, 404))
def delete_silence(silence_id: mm.Id) -> Response[None]:
    wiring.current().monitoring.routing.delete_silence(caller(app), silence_id)
    return Response(status_code=204)


def _audit_parameters() -> list[dict]:
    """The timeline's parameters and the engine and admin views' (``project_id`` is optional with those)."""
    timeline = openapi.query_parameters(mm.AuditQuery)
    names = {p["name"] for p in timeline}
    views = [p for p in openapi.query_parameters(mm.AuditViewQuery) if p["name"] not in names]
    return [{**p, "required": False} if p["name"] == "project_id" else p for p in timeline] + views


@app.get("/monitoring/audit", openapi_extensions={"parameters": _audit_parameters()})
def query_audit() -> dict:
    current = wiring.current()
    if "engine_id" in query(app) or "kind" in query(app):  # one engine's checks, or the admin changes
        return current.monitoring.audit_view_for(caller(app), _params(mm.AuditViewQuery), current.audit_store)
    q = _params(mm.AuditQuery)
    return current.monitoring.audit_for(caller(app), q, current.audit_store, current.environments.deployment_markers)


@app.get(
    "/monitoring/deployments",
    openapi_extensions={"parameters": openapi.query_parameters(mm.DeploymentsQuery)},
    responses=responses(200),
)
def query_deployments() -> dict:
    current = wiring.current()
    q = _params(mm.DeploymentsQuery)
    return current.monitoring.deployments_for(caller(app), q, current.environments.deployment_markers)


@app.get(
    "/monitoring/projects",
    openapi_extensions={"parameters": openapi.query_parameters(project_list.ProjectsQuery)},
    responses=responses(200, 422),
)
def list_projects() -> project_list.ProjectsPage:
    found = wiring.current().monitoring.projects_for(caller(app), _params(project_list.ProjectsQuery))
    return project_list.ProjectsPage.model_validate(found)


# The console's overview (issue 13): charts from stored counters only.
@app.get("/monitoring/overview", openapi_extensions={"parameters": openapi.query_parameters(overview.OverviewQuery)})
def query_overview() -> dict:
    return wiring.current().monitoring.overview_for(caller(app), _params(overview.OverviewQuery))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
def lambda_handler(event, context):
    if is_schedule(event):
        summary = wiring.current().monitoring.scheduled()
        if any(summary.values()):  # a line when the pass did something, as the deployment watch and preview sweep
            logger.info("monitoring schedule", extra=summary)
        return summary
    current = wiring.current()
    return handle(app, event, context, max_body_bytes=current.settings.log_max_body_bytes)
