"""HTTP for every function: the resolver, authentication, size limits, and the error envelope.

Every response that is not a success has the shape
``{"error": {"code", "message", "details"}, "request_id"}``; no stack trace ever leaves here.
Authentication runs before routing and validation, so a caller without valid credentials learns
nothing about routes or bodies: every route but the public ones answers 401 first.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from pydantic_core import to_json

from puraify import versions, wiring
from puraify.auth import Principal
from puraify.bodies import parse_json_body, request_body_text
from puraify.errors import (
    BadRequestError,
    NotFoundError,
    PayloadTooLargeError,
    PuraifyError,
    UnauthorizedError,
    UnavailableError,
    ValidationFailedError,
    validation_error,
)
from puraify.observability import logger
from puraify.ratelimit import RateLimitedError

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

# Powertools' event handler is imported where a resolver or a Response is made, not with this
# module: the check serves its route without it, and its import is ~80 ms of a cold start.

# Routes (as template.yaml declares them) that answer without credentials and show no data. The
# console's assets are public too: the console calls the API with the operator's own credentials.
PUBLIC_ROUTES = frozenset(
    {
        ("GET", "/health"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/{asset}"),
        ("GET", "/console"),
        ("GET", "/console/"),
        ("GET", "/console/{asset}"),
    }
)
JSON = "application/json"
# Routes whose body is not JSON text: OTLP/HTTP sends protobuf (binary) or JSON, possibly gzipped. Their
# handlers read the raw body themselves (``raw_body``) and check its type; size limits still apply.
RAW_BODY_ROUTES = frozenset({("POST", "/v1/logs")})
# On every answer: a browser never second-guesses the declared type (a JSON reply read as HTML or script).
NOSNIFF = {"X-Content-Type-Options": "nosniff"}


def error_payload(error: PuraifyError, request_id: str) -> dict[str, Any]:
    return {
        "error": {"code": error.code, "message": error.message, "details": error.details},
        "request_id": request_id,
    }


def _error_response(error: PuraifyError, request_id: str) -> Response:
    from aws_lambda_powertools.event_handler import Response

    return Response(
        status_code=error.status,
        content_type=JSON,
        body=json.dumps(error_payload(error, request_id)),
        headers=retry_after(error) or None,
    )


def retry_after(error: PuraifyError) -> dict[str, str]:
    """Headers for a 429 (``Retry-After`` and the ``RateLimit-*`` headers) or an idempotency error
    (a retry of one in progress may come back in a second)."""
    if isinstance(error, RateLimitedError):
        return {"Retry-After": str(error.retry_after), **error.quota.headers()}
    return {"Retry-After": "1"} if error.code == "idempotency_in_progress" else {}


def _with_quota(result: dict[str, Any], principal: Principal | None) -> dict[str, Any]:
    """The ``RateLimit-*`` headers on an authenticated answer (a 429 has them already)."""
    if principal is not None and principal.quota is not None:
        headers = result.get("headers") or {}
        if "RateLimit-Limit" not in headers:
            result["headers"] = {**headers, **principal.quota.headers()}
    return result


def _raw_error(error: PuraifyError, request_id: str) -> dict[str, Any]:
    """An API Gateway (payload 2.0) response for errors raised before routing."""
    return {
        "statusCode": error.status,
        "headers": {"Content-Type": JSON, **NOSNIFF, **retry_after(error)},
        "body": json.dumps(error_payload(error, request_id)),
        "isBase64Encoded": False,
    }


def create_app() -> APIGatewayHttpResolver:
    """A resolver with request validation and the error envelope wired in."""
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

    app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=parse_json_body)

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
    """Authenticate, enforce the body size limit, choose the API version, then route. Used by every
    ``lambda_handler``; the answer is shaped as its version answers it (``puraify.versions``)."""
    served = {"version": versions.LATEST}
    try:
        result = _handle(app, event, context, max_body_bytes, served)
    finally:
        after_answer()
    result = versions.shape(event.get("routeKey") or "", served["version"], result)
    result["headers"] = {**NOSNIFF, **(result.get("headers") or {}), versions.HEADER: served["version"]}
    return result


def _handle(
    app: APIGatewayHttpResolver,
    event: dict[str, Any],
    context: Any,
    max_body_bytes: int | None,
    served: dict[str, str],
) -> dict[str, Any]:
    rid = event_request_id(event)
    try:
        principal = admit(event, rid, max_body_bytes=max_body_bytes, served=served)
        if event.get("isBase64Encoded") and not _raw_body_route(event):
            event = {**event, "body": request_body_text(event), "isBase64Encoded": False}
    except PuraifyError as error:
        return _raw_error(error, rid)
    if principal is None:
        app.append_context(request_id=rid)
        return app.resolve(event, context)
    logger.append_keys(engine_id=principal.engine_id)
    app.append_context(principal=principal, request_id=rid)
    idempotency = wiring.current().idempotency
    if not idempotency.applies(event):
        return _with_quota(app.resolve(event, context), principal)
    try:
        result = idempotency.run(event, context, principal.engine_id, lambda: app.resolve(event, context))
    except PuraifyError as error:
        result = _raw_error(error, rid)
    return _with_quota(result, principal)


def after_answer() -> None:
    """After a request: share this instance's rate-limit use, and write its counts, when either is due."""
    current = wiring.current()
    if current.auth.limiter is not None:
        current.auth.limiter.sync_if_due()
    current.engine_control.counter.flush_if_due()


def event_request_id(event: dict[str, Any]) -> str:
    """API Gateway's request id of the event (a fresh one when the event has none)."""
    return (event.get("requestContext") or {}).get("requestId") or str(uuid.uuid4())


def admit(
    event: dict[str, Any],
    rid: str,
    *,
    max_body_bytes: int | None = None,
    suspended_ok: bool = False,
    served: dict[str, str] | None = None,
) -> Principal | None:
    """Everything before routing: the size limit, then the caller's credentials (None on a public route),
    its rate limit (429) and its suspension (403, unless ``suspended_ok``: the check audits it first), then
    the API version (into ``served["version"]``: the header's, else the engine's pin).

    Raises the PuraifyError to answer with; a failed authentication and a 429 are audited first.
    """
    served = served if served is not None else {}
    current = wiring.current()
    limit = max_body_bytes or current.settings.max_body_bytes
    body = event.get("body") or ""
    if len(body) > limit:
        raise PayloadTooLargeError(f"the request body exceeds {limit} bytes")
    http = (event.get("requestContext") or {}).get("http") or {}
    route = (http.get("method", ""), event.get("rawPath", ""))
    declared = event.get("routeKey") or f"{route[0]} {route[1]}"
    headers = event.get("headers") or {}
    requested = headers.get("puraify-version")
    if tuple(declared.split(" ", 1)) in PUBLIC_ROUTES:
        served["version"] = versions.chosen(requested, None)
        _decode_body(event)
        return None
    raw = _raw_body_route(event)
    if body and not raw and "json" not in headers.get("content-type", ""):
        # The API speaks only JSON; curl -d sends a form content type for JSON bodies.
        event["headers"] = headers = {**headers, "content-type": "application/json"}
    claimed = headers.get("x-engine-id")
    try:
        principal = current.auth.authenticate(claimed, headers.get("x-engine-key"))
    except UnauthorizedError:
        _audit_auth_failure(current, rid, claimed, route, str(http.get("sourceIp") or "-"))
        raise
    except RateLimitedError as error:
        audit_rate_limited(current, rid, claimed or "-", f"{route[0]} {route[1]}", error)
        raise
    if not suspended_ok:
        current.auth.require_not_suspended(principal)
    served["version"] = versions.chosen(requested, principal.api_version or versions.UNPINNED)
    if not raw:
        _decode_body(event)
    return principal


def charge_events(app: APIGatewayHttpResolver, principal: Principal, events: int) -> None:
    """Take ``events`` from the caller's ingest-events bucket (a limit apart from its requests'); 429 past it."""
    try:
        wiring.current().auth.charge_events(principal, events)
    except RateLimitedError as error:
        method, path = app.current_event.http_method, app.current_event.path
        audit_rate_limited(wiring.current(), request_id(app), principal.engine_id, f"{method} {path}", error)
        raise


def audit_rate_limited(current: wiring.Runtime, rid: str, engine_id: str, route: str, error: RateLimitedError) -> None:
    """A 429's audit line, and its count in the engine's per-minute counters (no write of its own: a
    flood must not turn into as many store writes)."""
    current.audit.record(
        kind="rate_limit",
        request_id=rid,
        engine_id=engine_id,
        status="denied",
        reason=error.message,
        details={"route": route, "rule": "rate_limited", "retry_after": error.retry_after},
        persist=False,
    )
    current.engine_control.counter.count_engine(engine_id, "limited")


def _raw_body_route(event: dict[str, Any]) -> bool:
    return tuple((event.get("routeKey") or "").split(" ", 1)) in RAW_BODY_ROUTES


def raw_body(event: dict[str, Any]) -> bytes:
    """The request body as bytes, as the client sent it (API Gateway's base64 undone): for ``RAW_BODY_ROUTES``."""
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as error:
        raise BadRequestError("the request body is not valid base64", code="invalid_encoding") from error


def json_body(event: dict[str, Any]) -> Any:
    """The event's body as JSON, checked as the resolver's bodies are (``parse_json_body``; 422 when absent)."""
    body = request_body_text(event)
    if not body:
        raise ValidationFailedError(
            "1 invalid field(s)", details=[{"field": "body", "message": "Field required", "type": "missing"}]
        )
    return parse_json_body(body)


def handle_json_route(
    event: dict[str, Any],
    route: tuple[str, str],
    call: Callable[[Principal, Any, str], dict[str, Any]],
    *,
    max_body_bytes: int | None = None,
) -> dict[str, Any]:
    """``handle`` for one JSON route without the resolver: the same admission, body decoding, field-level
    422s and error envelope, for a route whose every microsecond is billed (the check).

    ``call(principal, body, request_id)`` validates the decoded body itself and returns the response
    model's fields as a dict (built from typed values, serialised as they are).
    """
    served = {"version": versions.LATEST}
    result = _handle_json_route(event, route, call, max_body_bytes, served)
    result["headers"][versions.HEADER] = served["version"]
    return result


def _handle_json_route(
    event: dict[str, Any],
    route: tuple[str, str],
    call: Callable[[Principal, Any, str], dict[str, Any]],
    max_body_bytes: int | None,
    served: dict[str, str],
) -> dict[str, Any]:
    rid = event_request_id(event)
    principal = None
    try:
        principal = admit(event, rid, max_body_bytes=max_body_bytes, suspended_ok=True, served=served)
        http = (event.get("requestContext") or {}).get("http") or {}
        if principal is None or (http.get("method"), event.get("rawPath")) != route:
            current = wiring.current()
            if principal is not None:
                current.auth.require_not_suspended(principal)
            raise NotFoundError("no such route", code="route_not_found")
        logger.append_keys(engine_id=principal.engine_id)
        reply = call(principal, json_body(event), rid)
    except ValidationError as error:
        return _with_quota(_raw_error(validation_error(_in_body(error.errors())), rid), principal)
    except RateLimitedError as error:  # the rest of a batch, past the limit (admit audited its own)
        if principal is not None:
            audit_rate_limited(wiring.current(), rid, principal.engine_id, f"{route[0]} {route[1]}", error)
        return _raw_error(error, rid)
    except PuraifyError as error:
        return _with_quota(_raw_error(error, rid), principal)
    except Exception:  # noqa: BLE001 - the envelope, never a stack trace
        logger.exception("unhandled error")
        return _raw_error(PuraifyError("internal error; the request was not completed"), rid)
    finally:
        after_answer()
    headers = {"Content-Type": JSON, **NOSNIFF}
    quota = principal.quota
    if quota is not None and "results" in reply:  # a batch took more tokens after admission
        quota = wiring.current().auth.limiter.quota(principal.engine_id) or quota  # type: ignore[union-attr]
    if quota is not None:
        headers["RateLimit-Limit"] = str(quota.limit)
        headers["RateLimit-Remaining"] = str(quota.remaining)
        headers["RateLimit-Reset"] = str(quota.reset)
    return {
        "statusCode": 200,
        "body": to_json(reply).decode(),
        "isBase64Encoded": False,
        "headers": headers,
        "cookies": [],
    }


def _in_body(errors: list[Any]) -> list[dict[str, Any]]:
    """Pydantic's errors located under ``body``, as the resolver's validation reports them."""
    return [{**e, "loc": ("body", *e.get("loc", ()))} for e in errors]


def _decode_body(event: dict[str, Any]) -> None:
    """Turn a base64 body into text in place; 400 ``invalid_encoding`` if it is not UTF-8.

    API Gateway base64-encodes bodies it does not take for text; Powertools would raise
    ``UnicodeDecodeError`` (a 500) decoding them.
    """
    body = event.get("body")
    if not (body and event.get("isBase64Encoded")):
        return
    try:
        event["body"] = base64.b64decode(body, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequestError("the request body is not UTF-8 text", code="invalid_encoding") from error
    event["isBase64Encoded"] = False


def _audit_auth_failure(
    current: wiring.Runtime, rid: str, claimed: str | None, route: tuple[str, str], source: str
) -> None:
    """Count the rejected credential in its aggregate (per source, engine id and minute), not as a record;
    for an engine this instance knows, also in its per-minute counters (``auth_failed``, read by the
    engine_anomaly rule; flushed with the check counts, so no store call of its own)."""
    known = bool(claimed) and current.auth.known(claimed or "")
    if known:
        current.engine_control.counter.count_engine(claimed or "", "auth_failed")
    with suppress(UnavailableError):  # a 401 stays a 401; the log line was still written
        current.audit.auth_failure(
            request_id=rid,
            claimed=(claimed or "-")[:64],
            known=known,
            source=source[:64],
            route=f"{route[0]} {route[1]}",
        )


def respond(status: int, model: Any) -> Response:
    """A JSON response with a status other than 200 (201 created, 202 accepted)."""
    from aws_lambda_powertools.event_handler import Response

    return Response(status_code=status, content_type=JSON, body=model)


def is_schedule(event: dict[str, Any]) -> bool:
    """Whether a function was invoked by an EventBridge schedule rather than through the API."""
    return event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"


def if_none_match(app: APIGatewayHttpResolver) -> str | None:
    """The request's ``If-None-Match`` header (the entity tags the caller already holds)."""
    return (app.current_event.headers or {}).get("if-none-match")


def respond_cached(etag: str, model: Any | None) -> Response:
    """200 with the model and its ``ETag``, or 304 with only the tag when ``model`` is None."""
    from aws_lambda_powertools.event_handler import Response

    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if model is None:
        return Response(status_code=304, headers=headers, body=None)
    return Response(status_code=200, content_type=JSON, body=model, headers=headers)
