"""HTTP for every function: the resolver, authentication, size limits, and the error envelope.

Every response that is not a success has the shape
``{"error": {"code", "message", "details"}, "request_id"}``; no stack trace ever leaves here.
Authentication runs before routing and validation, so a caller without valid credentials learns
nothing about routes or bodies: every route but the public ones answers 401 first.
"""

from __future__ import annotations

import json
import uuid
from contextlib import suppress
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from puraify import runtime
from puraify.auth import Principal
from puraify.errors import (
    NotFoundError,
    PayloadTooLargeError,
    PuraifyError,
    UnauthorizedError,
    UnavailableError,
    validation_error,
)
from puraify.observability import logger

# Routes (as template.yaml declares them) that answer without credentials and show no data.
PUBLIC_ROUTES = frozenset({("GET", "/health"), ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/{asset}")})


def error_payload(error: PuraifyError, request_id: str) -> dict[str, Any]:
    return {
        "error": {"code": error.code, "message": error.message, "details": error.details},
        "request_id": request_id,
    }


def _error_response(error: PuraifyError, request_id: str) -> Response:
    return Response(
        status_code=error.status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(error_payload(error, request_id)),
    )


def _raw_error(error: PuraifyError, request_id: str) -> dict[str, Any]:
    """An API Gateway (payload 2.0) response for errors raised before routing."""
    return {
        "statusCode": error.status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(error_payload(error, request_id)),
        "isBase64Encoded": False,
    }


def create_app() -> APIGatewayHttpResolver:
    """A resolver with request validation and the error envelope wired in."""
    app = APIGatewayHttpResolver(enable_validation=True)

    @app.exception_handler(PuraifyError)
    def _domain_error(error: PuraifyError) -> Response:
        return _error_response(error, request_id(app))

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response:
        return _error_response(validation_error(list(error.errors())), request_id(app))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unhandled error")
        failure = PuraifyError("internal error; the request was not completed")
        return _error_response(failure, request_id(app))

    @app.not_found
    def _not_found(_: Exception) -> Response:
        return _error_response(NotFoundError("no such route", code="route_not_found"), request_id(app))

    return app


def caller(app: APIGatewayHttpResolver) -> Principal:
    """The authenticated engine of the current request."""
    return app.context["principal"]


def request_id(app: APIGatewayHttpResolver) -> str:
    return app.context.get("request_id", "")


def query(app: APIGatewayHttpResolver) -> dict[str, str]:
    """The query string parameters of the current request (empty values dropped)."""
    params = app.current_event.query_string_parameters or {}
    return {k: v for k, v in params.items() if v != ""}


def handle(
    app: APIGatewayHttpResolver, event: dict[str, Any], context: Any, *, max_body_bytes: int | None = None
) -> dict[str, Any]:
    """Authenticate, enforce the body size limit, then route. Used by every ``lambda_handler``."""
    context_info = event.get("requestContext") or {}
    rid = context_info.get("requestId") or str(uuid.uuid4())
    http = context_info.get("http") or {}
    route = (http.get("method", ""), event.get("rawPath", ""))
    current = runtime.current()
    limit = max_body_bytes or current.settings.max_body_bytes
    body = event.get("body") or ""
    if len(body) > limit:
        return _raw_error(PayloadTooLargeError(f"the request body exceeds {limit} bytes"), rid)
    declared = event.get("routeKey") or f"{route[0]} {route[1]}"
    if tuple(declared.split(" ", 1)) in PUBLIC_ROUTES:
        app.append_context(request_id=rid)
        return app.resolve(event, context)
    headers = event.get("headers") or {}
    if body and "json" not in headers.get("content-type", ""):
        # The API speaks only JSON; curl -d sends a form content type for JSON bodies.
        event["headers"] = headers = {**headers, "content-type": "application/json"}
    claimed = headers.get("x-engine-id")
    try:
        principal = current.auth.authenticate(claimed, headers.get("x-engine-key"))
    except UnauthorizedError as error:
        _audit_auth_failure(current, rid, claimed, route)
        return _raw_error(error, rid)
    except UnavailableError as error:
        return _raw_error(error, rid)
    logger.append_keys(engine_id=principal.engine_id)
    app.append_context(principal=principal, request_id=rid)
    return app.resolve(event, context)


def _audit_auth_failure(current: runtime.Runtime, rid: str, claimed: str | None, route: tuple[str, str]) -> None:
    engine = (claimed or "-")[:64]
    with suppress(UnavailableError):  # a 401 stays a 401; the log line was still written
        current.audit.record(
            kind="auth",
            request_id=rid,
            engine_id=engine,
            status="denied",
            reason="missing or invalid engine credentials",
            details={"route": f"{route[0]} {route[1]}"},
        )


def respond(status: int, model: Any) -> Response:
    """A JSON response with a status other than 200 (201 created, 202 accepted)."""
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=model)


def is_schedule(event: dict[str, Any]) -> bool:
    """Whether a function was invoked by an EventBridge schedule rather than through the API."""
    return event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"


def if_none_match(app: APIGatewayHttpResolver) -> str | None:
    """The request's ``If-None-Match`` header (the entity tags the caller already holds)."""
    return (app.current_event.headers or {}).get("if-none-match")


def respond_cached(etag: str, model: Any | None) -> Response:
    """200 with the model and its ``ETag``, or 304 with only the tag when ``model`` is None."""
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if model is None:
        return Response(status_code=304, headers=headers, body=None)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=model, headers=headers)
