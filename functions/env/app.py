"""Environment Manager: versions, environments, promotion, rollback, configuration, and the preview sweep."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths

from puraify import wiring
from puraify.environments import models as m
from puraify.environments import records as r
from puraify.environments.service import Environments
from puraify.http import caller, create_app, handle, if_none_match, is_schedule, request_id, respond, respond_cached
from puraify.observability import logger, metrics
from puraify.openapi import responses

app = create_app()

ProjectQuery = Annotated[str, Query(pattern=r.PROJECT_PATTERN)]
EnvQuery = Annotated[str, Query(pattern=r.ENV_PATTERN)]


def _service() -> Environments:
    return wiring.current().environments


@app.post("/env/versions", responses=responses(201, 200, 404, 409))
def publish(body: m.VersionPublishRequest) -> Response[m.VersionPublishResponse]:
    published = _service().publish(caller(app), body, request_id(app))
    return respond(201 if published.created else 200, published)


@app.post("/env/create", responses=responses(201, 404, 409))
def create(body: m.EnvCreateRequest) -> Response[m.EnvCreateResponse]:
    return respond(201, _service().create(caller(app), body, request_id(app)))


@app.post("/env/promote", responses=responses(200, 202, 404, 409))
def promote(body: m.EnvPromoteRequest) -> Response[m.EnvPromoteResponse | m.PromotionPending]:
    promoted = _service().promote(caller(app), body, request_id(app))
    return respond(202 if isinstance(promoted, m.PromotionPending) else 200, promoted)


@app.get("/env/<project_id>/changes")
def list_changes(
    project_id: str,
    status: Annotated[r.ChangeStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> m.ChangeListResponse:
    return _service().list_changes(caller(app), project_id, status, limit, cursor)


@app.post("/env/<project_id>/changes/<change_id>/approve", responses=responses(200, 403, 404, 409))
def approve_change(project_id: str, change_id: str) -> m.ChangeView:
    return _service().approve_change(caller(app), project_id, change_id, request_id(app))


@app.post("/env/<project_id>/changes/<change_id>/reject", responses=responses(200, 404, 409))
def reject_change(project_id: str, change_id: str, body: m.ChangeRejectRequest) -> m.ChangeView:
    return _service().reject_change(caller(app), project_id, change_id, body, request_id(app))


@app.post("/env/rollback", responses=responses(200, 404, 409))
def rollback(body: m.EnvRollbackRequest) -> m.EnvRollbackResponse:
    return _service().rollback(caller(app), body, request_id(app))


@app.get("/env/compare", responses=responses(200, 404))
def compare(project_id: ProjectQuery, source: EnvQuery, target: EnvQuery) -> m.EnvCompareResponse:
    return _service().compare(caller(app), project_id, source, target)


@app.get("/env/<project_id>/versions/<label>", responses=responses(200, 304))
def version(project_id: str, label: str) -> Response[m.VersionView | None]:
    found = _service().version(caller(app), project_id, label, if_none_match(app))
    return respond_cached(found.etag, found.body)


@app.get("/env/<project_id>/<environment>/resolved", responses=responses(200, 304))
def resolved(project_id: str, environment: str) -> Response[m.ResolvedView | None]:
    found = _service().resolved(caller(app), project_id, environment, request_id(app), if_none_match(app))
    return respond_cached(found.etag, found.body)


@app.get("/env/<project_id>/<environment>/deployment", responses=responses(200, 404))
def deployment(project_id: str, environment: str) -> m.DeploymentView:
    return _service().deployment(caller(app), project_id, environment)


@app.get("/env/<project_id>")
def list_environments(project_id: str) -> m.EnvListResponse:
    return _service().list_environments(caller(app), project_id)


@app.get("/env/<project_id>/<environment>/history")
def history(
    project_id: str,
    environment: str,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> m.EnvHistoryResponse:
    return _service().history(caller(app), project_id, environment, limit, before)


@app.put("/env/<project_id>/<environment>/config", responses=responses(200, 409))
def update_config(project_id: str, environment: str, body: m.EnvConfigRequest) -> m.EnvConfigResponse:
    return _service().update_config(caller(app), project_id, environment, body, request_id(app))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
def lambda_handler(event, context):
    if is_schedule(event):
        service = _service()
        return {"watch": service.watch().model_dump(), "sweep": service.sweep().model_dump()}
    return handle(app, event, context)
