"""``cp.env``'s change requests: promotions waiting for other engines' approval.

An environment with ``approvals_required`` (``cp.env.set_config(..., approvals_required=1)``) answers
a promotion with ``status == "pending_approval"`` and a ``change_id`` instead of promoting. Engines
holding ``env:approve`` list, approve and reject the project's changes; the approval that reaches
the count runs the promotion (gate, bake, watch). ``wait_for_change`` polls the environment's history
(``env:read``, as the requester holds) until the change ends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from pydantic import Field

from puraify_client.errors import NotFoundError
from puraify_client.models import Request, Response
from puraify_client.services.base import Service, paginate, segment
from puraify_client.transport import IDEMPOTENT, SAFE

ChangeStatus = Literal["pending", "applying", "applied", "denied", "rejected", "expired", "failed"]
ENDED = frozenset({"applied", "denied", "rejected", "expired", "failed"})


class Approval(Response):
    engine_id: str
    at: str


class ChangeEvent(Response):
    status: str
    by: str
    at: str
    reason: str | None = None


class Change(Response):
    """A promotion waiting for approvals, or how it ended (``result``: the promotion's answer)."""

    change_id: str
    project_id: str
    environment: str
    kind: str = "promote"
    status: str
    requested_by: str
    requested_at: str
    expires_at: str
    version: str
    previous_version: str | None = None
    source_env: str | None = None
    diff_from_previous: dict[str, Any] = {}
    approvals_required: int
    approvals: list[Approval] = []
    events: list[ChangeEvent] = []
    reason: str | None = None
    reasons: list[str] = []
    result: dict[str, Any] | None = None

    @property
    def ended(self) -> bool:
        return self.status in ENDED


class ChangeList(Response):
    project_id: str
    changes: list[Change]
    next_cursor: str | None = None


class ChangeRejectRequest(Request):
    reason: str = Field(min_length=1, max_length=500)


class ChangeRequests(Service):
    """Methods of ``cp.env`` (mixed into its service)."""

    async def list_changes(
        self,
        project_id: str,
        *,
        status: ChangeStatus | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> ChangeList:
        """One page of the project's change requests, newest first (``env:approve``)."""
        params = {"status": status, "limit": limit, "cursor": cursor}
        path = f"/env/{segment(project_id)}/changes"
        return await self.transport.call("GET", path, ChangeList, safety=SAFE, params=params)

    def iter_changes(
        self, project_id: str, *, status: ChangeStatus | None = None, page_size: int | None = None
    ) -> AsyncIterator[Change]:
        """Every change request of the project (of one ``status``), newest first, page after page."""
        return paginate(
            lambda cursor: self.list_changes(project_id, status=status, limit=page_size, cursor=cursor), "changes"
        )

    async def approve_change(self, project_id: str, change_id: str) -> Change:
        """Approve another engine's change (``env:approve``); the approval that reaches the count applies it.

        ``PermissionDenied`` ``self_approval`` for the requester's own; approving twice counts once.
        """
        path = f"/env/{segment(project_id)}/changes/{segment(change_id)}/approve"
        return await self.transport.call("POST", path, Change, safety=IDEMPOTENT)

    async def reject_change(self, project_id: str, change_id: str, reason: str) -> Change:
        """End a pending change without running it, saying why (``env:approve``)."""
        path = f"/env/{segment(project_id)}/changes/{segment(change_id)}/reject"
        body = ChangeRejectRequest(reason=reason)
        return await self.transport.call("POST", path, Change, safety=IDEMPOTENT, body=body)

    async def wait_for_change(
        self, project_id: str, environment: str, change_id: str, *, timeout: float = 600, interval: float = 2
    ) -> Change:
        """Poll the environment's history until the change ends (or ``timeout`` seconds pass: then as it is)."""
        deadline = time.monotonic() + timeout
        while True:
            history = await self.transport.call(
                "GET", f"/env/{segment(project_id)}/{segment(environment)}/history", _History, safety=SAFE
            )
            found = next((c for c in history.change_requests if c.change_id == change_id), None)
            if found is None:
                raise NotFoundError(
                    404, f"{environment} of {project_id} lists no change {change_id}", error_code="change_not_found"
                )
            if found.ended or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(min(interval, max(0.05, deadline - time.monotonic())))


class _History(Response):
    change_requests: list[Change] = []
