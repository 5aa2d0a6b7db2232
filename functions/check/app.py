"""The action check: may engine E do action A on platform P now? One check, or up to 25 in a batch.

Lambda calls ``lambda_handler``, which serves the one route without Powertools' resolver (the same
admission, validation and error envelope, at a tenth of the cost: README, Choices); ``app`` is that
route on a resolver, built only when something asks for it (the OpenAPI schema, the tests).
"""

from __future__ import annotations

from typing import Any

from snapshot_restore_py import register_after_restore, register_before_snapshot

from puraify import wiring
from puraify.auth import Principal
from puraify.engine_control import models as m
from puraify.http import handle_json_route
from puraify.observability import bind_invocation

ROUTE = ("POST", "/actions/check")

# SnapStart (template.yaml): one snapshot of an initialised instance starts many; see wiring.restored.
register_before_snapshot(wiring.prepare_snapshot)
register_after_restore(wiring.restored)


def check(caller: Principal, body: Any, request_id: str) -> dict[str, Any]:
    """One check's ``ActionCheckResponse``, or a batch's ``ActionCheckBatchResponse``, as its fields."""
    control = wiring.current().engine_control
    if isinstance(body, dict) and "checks" in body:
        return control.check_many(caller, m.ActionCheckBatchRequest.model_validate(body), request_id)
    return control.check(caller, m.ActionCheckRequest.model_validate(body, from_attributes=True), request_id)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    bind_invocation(event, context)
    return handle_json_route(event, ROUTE, check)


def __getattr__(name: str) -> Any:
    if name == "app":
        from puraify.http import caller, create_app, request_id
        from puraify.openapi import responses

        resolver = create_app()

        @resolver.post(ROUTE[1], responses=responses(200, 404))
        def _check(
            body: m.ActionCheckRequest | m.ActionCheckBatchRequest,
        ) -> m.ActionCheckExplainedResponse | m.ActionCheckResponse | m.ActionCheckBatchResponse:
            reply = check(caller(resolver), body.model_dump(exclude_unset=True), request_id(resolver))
            if "results" in reply:
                return m.ActionCheckBatchResponse.model_validate(reply)
            if "explanation" in reply:
                return m.ActionCheckExplainedResponse.model_validate(reply)
            return m.ActionCheckResponse.model_validate(reply)

        globals()["app"] = resolver
        return resolver
    raise AttributeError(name)
