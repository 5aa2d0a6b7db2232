"""The action check: may engine E do action A on platform P now?"""

from aws_lambda_powertools.logging import correlation_paths

from puraify import runtime
from puraify.engine_control import models as m
from puraify.http import caller, create_app, handle, request_id
from puraify.observability import logger, metrics

app = create_app()


@app.post("/actions/check")
def check(body: m.ActionCheckRequest) -> m.ActionCheckResponse:
    # CheckAllowed / CheckDenied are counted from the audit line by metric filters (template.yaml).
    return runtime.current().engine_control.check(caller(app), body, request_id(app))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
def lambda_handler(event, context):
    return handle(app, event, context)
