"""The audit an operator can read: one engine's check decisions, and the admin changes, newest first.

Who sees what (checked here, for the caller of the request):
- one engine's checks: the engine itself and admins see every one (an admin without ``"*"``, those of
  its projects and those without one); an engine holding ``logs:read`` sees those that carry a project
  it holds; anyone else gets 403;
- admin changes: admins see every one; any other engine sees only the changes it made or that target it.
Admin changes never carry a key, a key hash or a secret: they record grants, statuses and flags.
"""

from __future__ import annotations

from typing import Any

from puraify.auth import Principal
from puraify.clock import iso
from puraify.errors import ForbiddenError
from puraify.monitoring.models import AuditViewQuery
from puraify.monitoring.ports import AuditReader

READ_SCOPE = "logs:read"
LATEST = "~"
MAX_ADMIN_PAGES = 10  # sorts after every ``<timestamp>#<request id>`` key


def audit_view(caller: Principal, reader: AuditReader, q: AuditViewQuery) -> dict[str, Any]:
    """A page of ``q``'s view: ``decisions`` (``kind=check``) or ``changes`` (``kind=admin``), and ``next_cursor``."""
    if q.project_id is not None:
        caller.require_project(q.project_id)
    since = iso(q.since) if q.since is not None else ""
    until = min(q.cursor or LATEST, iso(q.until) if q.until is not None else LATEST)
    if q.kind == "admin":
        return _admin_changes(caller, reader, q, since, until)
    engine_id = q.engine_id or ""
    whole = caller.engine_id == engine_id or caller.is_admin
    if not whole and not caller.has_scope(READ_SCOPE):
        raise ForbiddenError(
            f"an engine's checks are readable by the engine itself, by admins, and with the '{READ_SCOPE}' scope "
            "for the projects one holds",
            code="missing_scope",
        )
    page = reader.checks_about(engine_id, since=since, until=until, limit=q.limit + 1)
    more, page = len(page) > q.limit, page[: q.limit]

    def visible(record: dict[str, Any]) -> bool:
        project = record.get("project_id")
        if q.project_id is not None and project != q.project_id:
            return False
        if caller.engine_id == engine_id:
            return True
        return caller.has_project(project) if project else caller.is_admin

    return {
        "engine_id": engine_id,
        "decisions": [_decision(r) for r in page if visible(r)],
        "next_cursor": page[-1]["sk"] if more and page else None,
    }


def _admin_changes(caller: Principal, reader: AuditReader, q: AuditViewQuery, since: str, until: str) -> dict[str, Any]:
    about = q.engine_id if caller.is_admin else caller.engine_id
    if q.engine_id is not None and q.engine_id != about:
        raise ForbiddenError("other engines' admin changes are readable by admins only", code="missing_scope")
    changes: list[dict[str, Any]] = []
    cursor, exhausted, pages = until, False, 0
    # A filtered view skips others' changes: read on until the page is full, the window ends, or
    # MAX_ADMIN_PAGES were read (then ``next_cursor`` continues where this stopped).
    while len(changes) < q.limit and not exhausted and pages < MAX_ADMIN_PAGES:
        page = reader.admin_changes(since=since, until=cursor, limit=q.limit + 1)
        pages, exhausted = pages + 1, len(page) <= q.limit
        for record in page[: q.limit]:
            if len(changes) == q.limit:
                exhausted = False  # this record is left for the next page
                break
            cursor = record["sk"]
            if about is None or about in (record.get("engine_id"), (record.get("details") or {}).get("target")):
                changes.append(_change(record))
    return {"kind": "admin", "changes": changes, "next_cursor": None if exhausted else cursor}


def _decision(record: dict[str, Any]) -> dict[str, Any]:
    details = record.get("details") or {}
    return {
        "request_id": record["request_id"],
        "timestamp": record["timestamp"],
        "engine_id": record["engine_id"],
        "caller_id": record.get("caller_id") or record["engine_id"],
        "project_id": record.get("project_id"),
        "flow_id": record.get("flow_id"),
        "platform": record.get("platform"),
        "action_type": record.get("action_type"),
        "allowed": record.get("status") == "allowed",
        "status": record.get("status"),
        "rule": details.get("rule"),
        "reason": record.get("reason"),
    }


def _change(record: dict[str, Any]) -> dict[str, Any]:
    details = dict(record.get("details") or {})
    operation, target = details.pop("operation", None), details.pop("target", None)
    before, after = details.pop("before", None), details.pop("after", None)
    return {
        "request_id": record["request_id"],
        "timestamp": record["timestamp"],
        "by": record["engine_id"],
        "operation": operation,
        "target": target,
        "status": record.get("status"),
        "reason": record.get("reason"),
        "before": before,
        "after": after,
        "details": details or None,
    }
