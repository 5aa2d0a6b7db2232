"""Idempotency keys: a retried POST with the same ``Idempotency-Key`` gets the first response.

Powertools' idempotency utility (``idempotent_function``) runs the route at most once per key:
the key is scoped to the authenticated engine (engines cannot replay each other's responses),
and the method, path and JSON body are its payload, so the same key with a different request is
422 ``idempotency_key_reused``. A retry that arrives while the first attempt still runs gets 409
``idempotency_in_progress`` with ``Retry-After``. Responses of 429 and 5xx are not kept: the
request did not complete, so a retry runs it again. Records expire after
``PURAIFY_IDEMPOTENCY_TTL_SECONDS`` (24 h by default, DynamoDB TTL on ``expiration``).
Requests without the header are served as before, at no extra cost.
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
    *, request: dict[str, Any], resolve: Callable[[], dict[str, Any]], done: dict[str, Any]
) -> dict[str, Any]:
    response = done["response"] = resolve()
    status = response.get("statusCode", 500)
    if status >= 500 or status == 429:
        raise _NotKept(response)
    return response


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
        try:
            return self._once(request=request, resolve=resolve, done=done)
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
