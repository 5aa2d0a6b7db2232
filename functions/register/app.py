"""Engine identities: register, list, show, validate, rotate, revoke, suspend, reinstate, permissions,
capabilities; and simulate."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths

from puraify import wiring
from puraify.engine_control import models as m
from puraify.engine_control.grant_change_models import (
    GrantChangeListResponse,
    GrantChangePending,
    GrantChangeRejectRequest,
    GrantChangeView,
)
from puraify.engine_control.paths import EngineIdPath
from puraify.engine_control.records import GrantChangeStatus
from puraify.http import caller, create_app, handle, request_id, respond
from puraify.observability import logger, metrics
from puraify.openapi import responses

app = create_app()


@app.post("/engines/register", responses=responses(201, 202, 409))
def register(body: m.EngineRegisterRequest) -> Response[m.EngineRegisterResponse | GrantChangePending]:
    created = wiring.current().engine_control.register_or_ask(caller(app), body, request_id(app))
    return respond(202 if isinstance(created, GrantChangePending) else 201, created)


# Before GET /engines/<engine_id>: the first route that matches serves (API Gateway prefers it too).
@app.get("/engines/changes")
def list_grant_changes(
    status: Annotated[GrantChangeStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> GrantChangeListResponse:
    return wiring.current().engine_control.list_grant_changes(caller(app), status, limit, cursor)


@app.post("/engines/changes/<change_id>/approve", responses=responses(200, 403, 404, 409))
def approve_grant_change(change_id: str) -> GrantChangeView:
    return wiring.current().engine_control.approve_grant_change(caller(app), change_id, request_id(app))


@app.post("/engines/changes/<change_id>/reject", responses=responses(200, 404, 409))
def reject_grant_change(change_id: str, body: GrantChangeRejectRequest) -> GrantChangeView:
    return wiring.current().engine_control.reject_grant_change(caller(app), change_id, body, request_id(app))


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


@app.post("/engines/<engine_id>/suspend", responses=responses(200, 409))
def suspend(engine_id: EngineIdPath, body: m.EngineSuspendRequest) -> m.EngineSuspensionResponse:
    return wiring.current().engine_control.suspend(caller(app), engine_id, body, request_id(app))


@app.post("/engines/<engine_id>/reinstate")
def reinstate(engine_id: EngineIdPath, body: m.EngineReinstateRequest | None = None) -> m.EngineSuspensionResponse:
    body = body or m.EngineReinstateRequest()
    return wiring.current().engine_control.reinstate(caller(app), engine_id, body, request_id(app))


@app.put("/engines/<engine_id>/permissions", responses=responses(200, 202, 409))
def set_permissions(
    engine_id: EngineIdPath, body: m.EnginePermissionsRequest
) -> Response[m.EnginePermissionsResponse | GrantChangePending]:
    changed = wiring.current().engine_control.set_permissions_or_ask(caller(app), engine_id, body, request_id(app))
    return respond(202 if isinstance(changed, GrantChangePending) else 200, changed)


@app.get("/engines/<engine_id>/capabilities", responses=responses(200, 404))
def capabilities(
    engine_id: EngineIdPath,
    project_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> m.CapabilitiesResponse:
    return wiring.current().engine_control.capabilities(
        caller(app), engine_id, project_id=project_id, limit=limit, cursor=cursor
    )


@app.post("/actions/simulate", responses=responses(200, 404))
def simulate(body: m.SimulateRequest) -> m.SimulateResponse:
    return wiring.current().engine_control.simulate(caller(app), body, request_id(app))


@app.put("/engines/<engine_id>/api-version", responses=responses(200, 404))
def set_api_version(engine_id: EngineIdPath, body: m.EngineApiVersionRequest) -> m.EngineView:
    return wiring.current().engine_control.set_api_version(caller(app), engine_id, body, request_id(app))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
def lambda_handler(event, context):
    return handle(app, event, context)
