"""Monitoring & Logs: events reported by engines."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths

from puraify import runtime
from puraify.engine_control import models as m
from puraify.http import caller, create_app, handle, respond
from puraify.monitoring.engine_events import record_engine_event
from puraify.observability import logger, metrics

app = create_app()


@app.post("/log/engine_event")
def engine_event(body: m.EngineEventRequest) -> Response[m.EngineEventResponse]:
    current = runtime.current()
    stored = record_engine_event(current.events, caller(app), body, current.settings.event_retention_days)
    return respond(202, stored)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event, context):
    return handle(app, event, context)
