"""Engine identities: register, list, show, validate, rotate, revoke, permissions."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths

from puraify import wiring
from puraify.engine_control import models as m
from puraify.engine_control.paths import EngineIdPath
from puraify.http import caller, create_app, handle, request_id, respond
from puraify.observability import logger, metrics
from puraify.openapi import responses

app = create_app()


@app.post("/engines/register", responses=responses(201, 409))
def register(body: m.EngineRegisterRequest) -> Response[m.EngineRegisterResponse]:
    created = wiring.current().engine_control.register(caller(app), body, request_id(app))
    return respond(201, created)


@app.get("/engines")
def list_engines() -> m.EngineListResponse:
    return wiring.current().engine_control.list_engines(caller(app))


@app.get("/engines/<engine_id>")
def show_engine(engine_id: EngineIdPath) -> m.EngineView:
    return wiring.current().engine_control.get_engine(caller(app), engine_id)


@app.post("/engines/validate")
def validate() -> m.EngineValidateResponse:
    return wiring.current().engine_control.validate(caller(app))


@app.post("/engines/<engine_id>/rotate", responses=responses(200, 409))
def rotate(engine_id: EngineIdPath, body: m.EngineRotateRequest | None = None) -> m.EngineRotateResponse:
    body = body or m.EngineRotateRequest()
    return wiring.current().engine_control.rotate(caller(app), engine_id, body, request_id(app))


@app.delete("/engines/<engine_id>", responses=responses(200, 409))
def revoke(engine_id: EngineIdPath) -> m.EngineRevokeResponse:
    return wiring.current().engine_control.revoke(caller(app), engine_id, request_id(app))


@app.put("/engines/<engine_id>/permissions", responses=responses(200, 409))
def set_permissions(engine_id: EngineIdPath, body: m.EnginePermissionsRequest) -> m.EnginePermissionsResponse:
    return wiring.current().engine_control.set_permissions(caller(app), engine_id, body, request_id(app))


@app.put("/engines/<engine_id>/api-version", responses=responses(200, 404))
def set_api_version(engine_id: EngineIdPath, body: m.EngineApiVersionRequest) -> m.EngineView:
    return wiring.current().engine_control.set_api_version(caller(app), engine_id, body, request_id(app))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
def lambda_handler(event, context):
    return handle(app, event, context)
