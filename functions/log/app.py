"""Monitoring & Logs: event ingest, alerts, and the read side; plus the alert-dispatch retry schedule."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ValidationError

from puraify import clock, openapi, wiring
from puraify.errors import validation_error
from puraify.http import caller, create_app, handle, is_schedule, parse_json_body, query, require_projects, respond
from puraify.monitoring import models as mm
from puraify.monitoring import overview, queries
from puraify.monitoring.engine_events import record_engine_event
from puraify.monitoring.entitlement import WRITE_SCOPE, entitlement
from puraify.monitoring.ingest import parse_payload
from puraify.observability import logger, metrics
from puraify.openapi import responses

READ_SCOPE = "logs:read"
MANAGE_SCOPE = "alerts:manage"
ALERT_SCOPE = "alerts:write"

app = create_app()


def _params[Q: BaseModel](model: type[Q]) -> Q:
    try:
        params = model.model_validate(query(app))
    except ValidationError as error:
        raise validation_error([{**e, "loc": ("query", *e.get("loc", ()))} for e in error.errors()]) from error
    project_id = params.project_id  # type: ignore[attr-defined]
    if project_id is not None:  # optional only on the overview, which refuses it to engines without "*"
        caller(app).require_project(project_id)
    return params


def _reader() -> None:
    caller(app).require(READ_SCOPE)


def _grant(project_id: str) -> None:
    """403 unless the caller's project grants cover ``project_id``."""
    caller(app).require_project(project_id)


def _transition_body() -> mm.AlertTransitionRequest:
    raw = app.current_event.decoded_body or ""
    payload = parse_json_body(raw) if raw.strip() else {}
    try:
        return mm.AlertTransitionRequest.model_validate(payload)
    except ValidationError as error:
        raise validation_error([{**e, "loc": ("body", *e.get("loc", ()))} for e in error.errors()]) from error


def _transition(alert_id: str, to: str) -> mm.AlertResponse:
    principal = caller(app)
    principal.require(MANAGE_SCOPE)
    reason = _transition_body().reason
    alert = wiring.current().monitoring.alerts.transition(
        alert_id, to, by=principal.engine_id, reason=reason, authorize=_grant
    )
    return mm.AlertResponse.model_validate(alert)


@app.post("/log/engine_event", responses=responses(202))
def engine_event(body: mm.EngineEventRequest) -> Response[mm.EngineEventResponse]:
    caller(app).require(WRITE_SCOPE)
    current = wiring.current()
    stored = record_engine_event(
        current.monitoring.engine_events, caller(app), body, current.settings.event_retention_days
    )
    return respond(202, stored)


@app.post(
    "/monitoring/logs",
    responses=responses(202, 400, 413, 422),
    openapi_extensions={"requestBody": openapi.request_body(mm.LogIngestRequest)},
)
def ingest_logs() -> Response[mm.LogIngestResponse]:
    principal = caller(app)
    principal.require(WRITE_SCOPE)
    # A value DynamoDB cannot store rejects only its event (by index), never the batch.
    payload = parse_json_body(app.current_event.decoded_body or "", check_values=False)
    batch = parse_payload(payload)
    require_projects(principal, [event.project_id for event in batch.events])
    result = wiring.current().monitoring.ingest(principal.engine_id, batch, entitlement(principal))
    metrics.add_metric(name="EventsStored", unit=MetricUnit.Count, value=result.stored)
    return respond(202, mm.LogIngestResponse(accepted=result.accepted, rejected=result.rejected))


@app.post("/monitoring/alert", responses=responses(201))
def raise_alert(body: mm.AlertRequest) -> Response[mm.AlertResponse]:
    caller(app).require(ALERT_SCOPE)
    _grant(body.project_id)
    alert = wiring.current().monitoring.alerts.raise_alert(**body.model_dump(), raised_by=caller(app).engine_id)
    assert alert is not None
    return respond(201, mm.AlertResponse.model_validate(alert))


@app.get("/monitoring/logs", openapi_extensions={"parameters": openapi.query_parameters(mm.LogsQuery)})
def query_logs() -> dict:
    _reader()
    return queries.logs(wiring.current().monitoring.store, _params(mm.LogsQuery))


@app.get("/monitoring/errors", openapi_extensions={"parameters": openapi.query_parameters(mm.ErrorsQuery)})
def query_errors() -> dict:
    _reader()
    service = wiring.current().monitoring
    return queries.errors(service.store, service.window_seconds, _params(mm.ErrorsQuery))


@app.get("/monitoring/stats", openapi_extensions={"parameters": openapi.query_parameters(mm.StatsQuery)})
def query_stats() -> dict:
    _reader()
    service = wiring.current().monitoring
    return queries.stats(service.store, _params(mm.StatsQuery), service.versions)


@app.get("/monitoring/alerts", openapi_extensions={"parameters": openapi.query_parameters(mm.AlertsQuery)})
def list_alerts() -> mm.AlertsPage:
    _reader()
    q = _params(mm.AlertsQuery)  # checks the project grant
    page = wiring.current().monitoring.alerts.list_alerts(q.project_id, q.status, q.severity, q.limit, q.cursor)
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


@app.get("/monitoring/audit", openapi_extensions={"parameters": openapi.query_parameters(mm.AuditQuery)})
def query_audit() -> dict:
    _reader()
    current = wiring.current()
    q = _params(mm.AuditQuery)
    marks = current.environments.deployment_markers(
        q.project_id, since=clock.iso(q.since) if q.since is not None else "", limit=500
    )
    return queries.audit(current.monitoring.store, current.audit_store, q, marks)


@app.get(
    "/monitoring/deployments",
    openapi_extensions={"parameters": openapi.query_parameters(mm.DeploymentsQuery)},
    responses=responses(200),
)
def query_deployments() -> dict:
    _reader()
    q = _params(mm.DeploymentsQuery)
    since = clock.iso(q.since) if q.since is not None else ""
    found = wiring.current().environments.deployment_markers(q.project_id, q.environment, since, q.limit)
    return {"project_id": q.project_id, "environment": q.environment, "deployments": found}


# The console's overview (issue 13): charts from stored counters only.
@app.get("/monitoring/overview", openapi_extensions={"parameters": openapi.query_parameters(overview.OverviewQuery)})
def query_overview() -> dict:
    _reader()
    current = wiring.current()
    q = _params(overview.OverviewQuery)
    every_project = caller(app).has_all_projects
    return overview.overview(current.monitoring, current.monitoring.check_counts, q, every_project=every_project)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
def lambda_handler(event, context):
    if is_schedule(event):
        summary = wiring.current().monitoring.scheduled()
        logger.info("monitoring schedule", extra=summary)
        return summary
    current = wiring.current()
    return handle(app, event, context, max_body_bytes=current.settings.log_max_body_bytes)
