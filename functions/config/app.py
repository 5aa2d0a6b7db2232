"""Platform status, feature flags, global config, and the unauthenticated health check."""

from aws_lambda_powertools.logging import correlation_paths

from puraify import __version__, runtime
from puraify.engine_control import models as m
from puraify.http import caller, create_app, handle, request_id
from puraify.observability import logger, metrics

app = create_app()


@app.get("/health")
def health() -> dict:
    return {"status": "ok", "version": __version__}


@app.get("/platforms/list")
def list_platforms() -> m.PlatformListResponse:
    return runtime.current().engine_control.list_platforms()


@app.put("/platforms/<name>")
def put_platform(name: m.PlatformPath, body: m.PlatformPutRequest) -> m.PlatformView:
    return runtime.current().engine_control.put_platform(caller(app), name, body, request_id(app))


@app.get("/config/global")
def global_config() -> m.GlobalConfigResponse:
    return runtime.current().engine_control.global_config()


@app.put("/config/flags/<name>")
def put_flag(name: m.FlagPath, body: m.FlagPutRequest) -> m.FlagView:
    return runtime.current().engine_control.put_flag(caller(app), name, body, request_id(app))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
def lambda_handler(event, context):
    return handle(app, event, context)
