"""Platform status, feature flags, global config; the public health check, API contract and its docs page."""

from typing import Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths

from puraify import __version__, openapi, wiring
from puraify.engine_control import models as m
from puraify.engine_control.paths import FlagPath, PlatformPath, ScheduleIdPath, WindowIdPath
from puraify.http import caller, create_app, handle, is_schedule, request_id, respond
from puraify.observability import logger, metrics
from puraify.openapi import responses

app = create_app()


@app.get("/health")
def health() -> dict:
    return {"status": "ok", "version": __version__}


DOCS_ASSET = Literal["swagger-ui.css", "swagger-ui-bundle.js", "init.js"]


@app.get("/openapi.json", responses=responses(200, media_type="application/json"))
def contract() -> Response[str]:
    return Response(200, content_types.APPLICATION_JSON, openapi.document(), {"Cache-Control": "no-cache"})


@app.get("/docs", responses=responses(200, media_type="text/html"))
def docs() -> Response[str]:
    headers = {"Content-Security-Policy": openapi.DOCS_POLICY, "Cache-Control": "no-cache"}
    return Response(200, "text/html; charset=utf-8", openapi.DOCS_PAGE, headers)


@app.get("/docs/<asset>", compress=True, responses=responses(200, media_type=("text/css", "text/javascript")))
def docs_asset(asset: DOCS_ASSET) -> Response[str]:
    content_type, read = openapi.DOCS_ASSETS[asset]
    return Response(200, content_type, read(), {"Cache-Control": "public, max-age=86400"})


@app.get("/platforms/list")
def list_platforms() -> m.PlatformListResponse:
    return wiring.current().engine_control.list_platforms()


@app.put("/platforms/<name>")
def put_platform(name: PlatformPath, body: m.PlatformPutRequest) -> m.PlatformView:
    return wiring.current().engine_control.put_platform(caller(app), name, body, request_id(app))


@app.post("/platforms/<name>/maintenance", responses=responses(201, 404, 409))
def add_maintenance_window(name: PlatformPath, body: m.MaintenanceWindowRequest) -> Response[m.MaintenanceWindowView]:
    window = wiring.current().engine_control.add_window(caller(app), name, body, request_id(app))
    return respond(201, window)


@app.get("/platforms/<name>/maintenance", responses=responses(200, 404))
def list_maintenance_windows(name: PlatformPath) -> m.MaintenanceWindowListResponse:
    return wiring.current().engine_control.list_windows(name)


@app.delete("/platforms/<name>/maintenance/<window_id>", responses=responses(200, 404))
def delete_maintenance_window(name: PlatformPath, window_id: WindowIdPath) -> m.MaintenanceWindowView:
    return wiring.current().engine_control.delete_window(caller(app), name, window_id, request_id(app))


@app.patch("/platforms/<name>")
def patch_platform(name: PlatformPath, body: m.PlatformPatchRequest) -> m.PlatformView:
    return wiring.current().engine_control.patch_platform(caller(app), name, body, request_id(app))


@app.get("/config/global")
def global_config() -> m.GlobalConfigResponse:
    return wiring.current().engine_control.global_config()


@app.put("/config/flags/<name>", responses=responses(200, 409))
def put_flag(name: FlagPath, body: m.FlagPutRequest) -> m.FlagView:
    return wiring.current().engine_control.put_flag(caller(app), name, body, request_id(app))


@app.post("/config/flags/<name>/schedule", responses=responses(201, 404, 409))
def schedule_flag(name: FlagPath, body: m.FlagScheduleRequest) -> Response[m.ScheduledFlagChangeView]:
    change = wiring.current().engine_control.schedule_flag(caller(app), name, body, request_id(app))
    return respond(201, change)


@app.get("/config/flags/<name>/schedule", responses=responses(200, 404))
def list_flag_schedule(name: FlagPath) -> m.FlagScheduleListResponse:
    return wiring.current().engine_control.flag_schedule(name)


@app.delete("/config/flags/<name>/schedule/<schedule_id>", responses=responses(200, 404, 409))
def cancel_flag_change(name: FlagPath, schedule_id: ScheduleIdPath) -> m.ScheduledFlagChangeView:
    return wiring.current().engine_control.cancel_flag_change(caller(app), name, schedule_id, request_id(app))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
def lambda_handler(event, context):
    if is_schedule(event):  # every minute: record the scheduled flag changes that came due
        return {"flag_changes_applied": wiring.current().engine_control.apply_due_flag_changes()}
    return handle(app, event, context)
