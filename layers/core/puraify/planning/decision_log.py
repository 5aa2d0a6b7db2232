"""The stored decisions, read back a page at a time: ``GET /plan/decisions``."""

from __future__ import annotations

import base64
from typing import Any

from puraify.clock import iso, parse_time
from puraify.errors import ValidationFailedError
from puraify.planning import models as m
from puraify.planning.ports import DecisionStore

FIND_PAGE = 500  # decisions read a page at a time when looking one up by id
FIND_READ_LIMIT = 5000  # the newest decisions of a project a look-up by id reads at most


def page(
    decisions: DecisionStore,
    *,
    deployment_id: str | None,
    project_id: str | None,
    since: str | None,
    limit: int,
    cursor: str | None = None,
) -> m.DecisionListResponse:
    """Stored decisions of a deployment or a project, newest first, a page at a time."""
    if not deployment_id and not project_id:
        raise ValidationFailedError(
            "give deployment_id or project_id",
            details=[{"field": "query.deployment_id", "message": "deployment_id or project_id is required"}],
        )
    floor = parse_since(since)
    before = decode_cursor(cursor) if cursor else None
    if deployment_id:
        records = decisions.by_deployment(deployment_id, floor, limit + 1, before, project_id or None)
    else:
        records = decisions.by_project(project_id or "", floor, limit + 1, before)
    found = records[:limit]
    more = len(records) > limit
    last = found[-1] if found else None
    return m.DecisionListResponse(
        decisions=[m.PlanDecideResponse.model_validate(r) for r in found],
        next_cursor=encode_cursor(f"{last['evaluated_at']}#{last['decision_id']}") if more and last else None,
    )


def find(
    decisions: DecisionStore,
    *,
    deployment_id: str | None,
    project_id: str | None,
    since: str | None,
    decision_id: str | None,
    request_id: str | None,
) -> m.DecisionListResponse:
    """The decisions of one id (``decision_id``, or the ``request_id`` that made them) among the newest
    ``FIND_READ_LIMIT`` of a project (or deployment), newest first.

    Decision ids are random, so no key leads to one: the decisions are read newest first, a page of
    ``FIND_PAGE`` at a time, and filtered. A decision older than that many is not found.
    """
    if not deployment_id and not project_id:
        raise ValidationFailedError(
            "give deployment_id or project_id",
            details=[{"field": "query.deployment_id", "message": "deployment_id or project_id is required"}],
        )
    floor = parse_since(since)

    def matches(record: dict[str, Any]) -> bool:
        return (decision_id is None or record.get("decision_id") == decision_id) and (
            request_id is None or record.get("request_id") == request_id
        )

    found: list[dict[str, Any]] = []
    before: str | None = None
    for _ in range(FIND_READ_LIMIT // FIND_PAGE):
        if deployment_id:
            records = decisions.by_deployment(deployment_id, floor, FIND_PAGE, before, project_id or None)
        else:
            records = decisions.by_project(project_id or "", floor, FIND_PAGE, before)
        found += [r for r in records if matches(r)]
        if len(records) < FIND_PAGE or (decision_id and found):
            break
        before = f"{records[-1]['evaluated_at']}#{records[-1]['decision_id']}"
    return m.DecisionListResponse(decisions=[m.PlanDecideResponse.model_validate(r) for r in found])


def encode_cursor(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The position a cursor from this API stands for; 422 for anything else."""
    try:
        position = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except (ValueError, UnicodeDecodeError) as error:
        raise _bad_cursor() from error
    if "#" not in position or len(position) > 200:
        raise _bad_cursor()
    return position


def _bad_cursor() -> ValidationFailedError:
    return ValidationFailedError(
        "1 invalid field(s)",
        details=[{"field": "query.cursor", "message": "not a cursor from this API", "type": "value_error"}],
    )


def parse_since(since: str | None) -> str:
    """``since`` (ISO-8601 or epoch seconds) as the sortable ISO form of the decision keys."""

    if not since:
        return "0"  # sorts before every timestamp; DynamoDB rejects an empty key value
    try:
        epoch = parse_time(since)
    except ValueError as error:
        raise ValidationFailedError(
            "since must be an ISO-8601 timestamp or epoch seconds",
            details=[{"field": "query.since", "message": str(error), "type": "datetime_parsing"}],
        ) from error
    return iso(epoch)
