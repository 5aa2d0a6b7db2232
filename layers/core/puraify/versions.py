"""API versions: date-named, chosen per request, and what each one changed, declared once.

A request is served in the version its ``Puraify-Version`` header names, else the one its engine is
pinned to (``api_version`` on the engine's record: the newest when it was registered), else the
newest. Every answer says which (``Puraify-Version``). An unknown version is 400
``unsupported_version``.

The services answer one shape. What a version changed is a declaration here that the edge
(``puraify.http``) applies to the answer, and ``puraify.openapi`` applies to the document, so the
domain code, its tests and the stored data never learn that versions exist.
"""

from __future__ import annotations

import json
from typing import Any, Literal, get_args

from puraify.errors import BadRequestError

HEADER = "Puraify-Version"
# Today's shapes before versions existed; the version of every engine registered before them.
V2026_12_01 = "2026-12-01"
# Every list route answers one envelope: {"items": [...], "next_cursor": ...} (docs/api.md).
V2026_12_07 = "2026-12-07"
SUPPORTED: tuple[str, ...] = (V2026_12_01, V2026_12_07)  # oldest first; a new one goes last
LATEST = SUPPORTED[-1]
OLDEST = SUPPORTED[0]
# What a body may name (an engine's pin): the same list, as a type.
ApiVersion = Literal["2026-12-01", "2026-12-07"]
assert get_args(ApiVersion) == SUPPORTED, "ApiVersion lists SUPPORTED"
# The version of an engine whose record names none: it was registered before versions existed.
UNPINNED = OLDEST

# Since 2026-12-07: the list field each list route answered before (renamed ``items``, with
# ``next_cursor`` always present; the route's other fields stay as they were).
LIST_ENVELOPES: dict[str, str] = {
    "GET /engines": "engines",
    "GET /platforms/list": "platforms",
    "GET /monitoring/logs": "logs",
    "GET /monitoring/errors": "errors",
    "GET /monitoring/alerts": "alerts",
    "GET /monitoring/deployments": "deployments",
    "GET /plan/decisions": "decisions",
    "GET /env/{project_id}": "environments",
    "GET /env/{project_id}/changes": "changes",
}


def chosen(requested: str | None, pinned: str | None) -> str:
    """The version to serve a request in: the header's, else the engine's pin, else the newest."""
    if requested is not None:
        requested = requested.strip()
        if requested not in SUPPORTED:
            raise BadRequestError(
                f"unknown {HEADER} {requested[:40]!r}; supported: {', '.join(SUPPORTED)}",
                code="unsupported_version",
                details=[{"field": HEADER, "supported": list(SUPPORTED)}],
            )
        return requested
    return pinned if pinned in SUPPORTED else LATEST


def shape(route: str, version: str, response: dict[str, Any]) -> dict[str, Any]:
    """``response`` (API Gateway's payload 2.0, as the services' shape) as ``version`` answers it."""
    key = LIST_ENVELOPES.get(route)
    if key is None or version < V2026_12_07 or response.get("statusCode") != 200 or response.get("isBase64Encoded"):
        return response
    try:
        body = json.loads(response.get("body") or "")
    except ValueError:
        return response
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        return response
    items = body.pop(key)
    cursor = body.pop("next_cursor", None)
    return {**response, "body": json.dumps({"items": items, "next_cursor": cursor, **body}, separators=(",", ":"))}
