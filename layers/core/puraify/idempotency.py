"""Idempotency keys: a retried POST with the same ``Idempotency-Key`` gets the first response.

Powertools' idempotency utility (``idempotent_function``) runs the route at most once per key:
the key is scoped to the authenticated engine (engines cannot replay each other's responses),
and the method, path and JSON body are its payload, so the same key with a different request is
422 ``idempotency_key_reused``. A retry that arrives while the first attempt still runs gets 409
``idempotency_in_progress`` with ``Retry-After``. Responses of 429 and 5xx are not kept: the
request did not complete, so a retry runs it again. Records expire after
``PURAIFY_IDEMPOTENCY_TTL_SECONDS`` (24 h by default, DynamoDB TTL on ``expiration``).
Requests without the header are served as before, at no extra cost.

An engine key is shown once and never kept: the record of a call that issued one (register,
rotate) holds, instead of its response, a 409 ``idempotent_replay_key_unavailable`` naming the
engine. A replay therefore still does not act twice (no second engine, no second rotation), says
that the first call succeeded, and tells the caller to rotate for a key; it never returns a key,
which by then may have been rotated or revoked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from puraify.errors import BadRequestError, ConflictError, UnavailableError, ValidationFailedError
from puraify.observability import logger

HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")

# Routes whose success shows an engine key: their records keep a 409 in place of the response.
KEY_ISSUING_ROUTES = frozenset({"POST /engines/register", "POST /engines/{engine_id}/rotate"})
KEY_UNAVAILABLE = "idempotent_replay_key_unavailable"

# The routes that honour the header: every POST that changes state. Checks and validate are reads.
ROUTES = frozenset(
    {
        "POST /engines/register",
        "POST /engines/{engine_id}/rotate",
        "POST /log/engine_event",
        "POST /monitoring/logs",
        "POST /monitoring/alert",
        "POST /env/versions",
        "POST /env/create",
        "POST /env/promote",
        "POST /env/rollback",
        "POST /env/{project_id}/changes/{change_id}/approve",
        "POST /env/{project_id}/changes/{change_id}/reject",
        "POST /engines/changes/{change_id}/approve",
        "POST /engines/changes/{change_id}/reject",
        "POST /plan/decide",
    }
)


class _NotKept(Exception):
    """Carries a response that must not be replayed (throttled, failed) out of the idempotent call."""

    def __init__(self, response: dict[str, Any]):
        super().__init__("response not kept")
        self.response = response


def _replayed(response: Any, idempotent_data: DataRecord) -> Any:
    response = dict(response)
    response["headers"] = {**(response.get("headers") or {}), REPLAYED_HEADER: "true"}
    return response


def _resolve_once(
    *, request: dict[str, Any], resolve: Callable[[], dict[str, Any]], done: dict[str, Any], route: str, rid: str
) -> dict[str, Any]:
    """Run the request; what this returns is what the record keeps (``run`` answers ``done["response"]``)."""
    response = done["response"] = resolve()
    status = response.get("statusCode", 500)
    if status >= 500 or status == 429:
        raise _NotKept(response)
    if route in KEY_ISSUING_ROUTES and 200 <= status < 300:
        return _key_unavailable(response, rid)
    return response


def _key_unavailable(response: dict[str, Any], rid: str) -> dict[str, Any]:
    """What a replay of a call that issued a key answers: it succeeded, and its key is not kept."""
    try:
        engine_id = str(json.loads(response.get("body") or "{}").get("engine_id", ""))
    except (ValueError, AttributeError):
        engine_id = ""
    message = (
        f"this request already succeeded (status {response.get('statusCode')}, engine '{engine_id}'); the key it "
        "issued was shown only in that response and is not kept: rotate the engine's key to get a new one"
    )
    body = {
        "error": {
            "code": KEY_UNAVAILABLE,
            "message": message,
            "details": [{"engine_id": engine_id, "status": response.get("statusCode"), "request_id": rid}],
        },
        "request_id": rid,
    }
    return {
        "statusCode": 409,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def _request_id(event: dict[str, Any]) -> str:
    return str((event.get("requestContext") or {}).get("requestId") or "")


def _payload(event: dict[str, Any]) -> Any:
    body = event.get("body") or ""
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body


class Idempotency:
    """Runs a request at most once per (engine, key), through Powertools on ``persistence``."""

    def __init__(self, persistence: BasePersistenceLayer, ttl_seconds: int):
        self.persistence = persistence
        self.config = IdempotencyConfig(
            event_key_jmespath="[engine_id, key]",
            payload_validation_jmespath="request",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=ttl_seconds,
            hash_function="sha256",
            response_hook=_replayed,
        )
        self._once = idempotent_function(
            _resolve_once,
            data_keyword_argument="request",
            persistence_store=persistence,
            config=self.config,
            key_prefix="puraify-request",
        )

    def applies(self, event: dict[str, Any]) -> bool:
        """Whether this request carries a key on a route that honours it."""
        return event.get("routeKey") in ROUTES and bool((event.get("headers") or {}).get(HEADER))

    def run(
        self, event: dict[str, Any], context: Any, engine_id: str, resolve: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """``resolve()`` once per key; a repeat gets the stored response (``Idempotent-Replayed: true``)."""
        key = (event.get("headers") or {})[HEADER]
        if not KEY_PATTERN.match(key):
            raise BadRequestError(
                "Idempotency-Key must be 1 to 255 printable ASCII characters",
                code="invalid_idempotency_key",
                details=[{"field": "header.Idempotency-Key", "message": "1-255 printable ASCII characters"}],
            )
        http = (event.get("requestContext") or {}).get("http") or {}
        request = {
            "engine_id": engine_id,
            "key": key,
            "request": [http.get("method"), event.get("rawPath"), _payload(event)],
        }
        done: dict[str, Any] = {}
        if context is not None:
            self.config.register_lambda_context(context)
        route = str(event.get("routeKey"))
        try:
            kept = self._once(request=request, resolve=resolve, done=done, route=route, rid=_request_id(event))
            return done.get("response", kept)  # ran now: the full response; a replay: what was kept
        except _NotKept as not_kept:
            return not_kept.response
        except IdempotencyValidationError as error:
            raise ValidationFailedError(
                "this Idempotency-Key was already used with a different request",
                code="idempotency_key_reused",
                details=[{"field": "header.Idempotency-Key", "message": "reused with another method, path or body"}],
            ) from error
        except IdempotencyAlreadyInProgressError as error:
            raise ConflictError(
                "a request with this Idempotency-Key is still in progress; retry shortly",
                code="idempotency_in_progress",
            ) from error
        except IdempotencyPersistenceLayerError as error:
            if "response" in done:  # it ran; only recording the result failed: the caller gets it
                logger.warning("idempotency record not saved", extra={"error": repr(error)[:500]})
                return done["response"]
            logger.warning("idempotency store failed", extra={"error": repr(error)[:500]})
            raise UnavailableError(
                "the idempotency store is temporarily unavailable; retry later", code="store_unavailable"
            ) from error
