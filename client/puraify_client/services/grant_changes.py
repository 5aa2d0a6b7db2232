"""``cp.engines``' grant changes: four-eyes on grants (``GrantChangesRequireApproval`` on the stack).

With it on, ``cp.engines.set_permissions`` and a ``register`` granting ``admin`` raise
``ApprovalPending`` carrying the pending ``GrantChange``: another admin approves or rejects it here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

from pydantic import Field

from puraify_client.errors import ApprovalPending
from puraify_client.models import Request, Response
from puraify_client.services.base import Service, paginate, segment
from puraify_client.transport import IDEMPOTENT, SAFE, Safety

GrantChangeStatus = Literal["pending", "applying", "applied", "rejected", "expired", "failed"]


class GrantChangeEvent(Response):
    status: str
    by: str
    at: str
    reason: str | None = None


class GrantChange(Response):
    """A grant change. ``engine_key``: only in the answer of the approval that registered the engine."""

    change_id: str
    kind: str
    target: str
    status: str
    requested_by: str
    requested_at: str
    expires_at: str
    request: dict[str, Any] = {}
    simulation: dict[str, Any] | None = None
    events: list[GrantChangeEvent] = []
    approved_by: str | None = None
    reason: str | None = None
    result: dict[str, Any] | None = None
    engine_key: str | None = None


class GrantChangeList(Response):
    changes: list[GrantChange]
    next_cursor: str | None = None


class GrantChangeRejectRequest(Request):
    reason: str = Field(min_length=1, max_length=500)


class GrantChangeRequests(Service):
    """Methods of ``cp.engines`` (mixed into its service)."""

    async def _granting[M: Response](self, method: str, path: str, model: type[M], body: Any, safety: Safety) -> M:
        """A call that may answer 202 ``pending_approval`` (raised as ``ApprovalPending``)."""
        payload = body.model_dump(mode="json", exclude_none=True)
        data = await self.transport.raw(method, path, safety=safety, json_body=payload)
        if isinstance(data, dict) and data.get("status") == "pending_approval":
            change = GrantChange.model_validate(data["change"])
            raise ApprovalPending(
                f"{change.kind} of {change.target} waits for another admin's approval (change {change.change_id})",
                change=change,
            )
        return self.transport.parsed(method, path, model, data)

    async def list_grant_changes(
        self, *, status: GrantChangeStatus | None = None, limit: int | None = None, cursor: str | None = None
    ) -> GrantChangeList:
        """One page of grant changes, newest first (admin)."""
        params = {"status": status, "limit": limit, "cursor": cursor}
        return await self.transport.call("GET", "/engines/changes", GrantChangeList, safety=SAFE, params=params)

    def iter_grant_changes(
        self, *, status: GrantChangeStatus | None = None, page_size: int | None = None
    ) -> AsyncIterator[GrantChange]:
        return paginate(lambda c: self.list_grant_changes(status=status, limit=page_size, cursor=c), "changes")

    async def approve_grant_change(self, change_id: str) -> GrantChange:
        """Apply another admin's grant change (admin; never your own request nor a change of your grants)."""
        path = f"/engines/changes/{segment(change_id)}/approve"
        return await self.transport.call("POST", path, GrantChange, safety=IDEMPOTENT)

    async def reject_grant_change(self, change_id: str, reason: str) -> GrantChange:
        """End a pending grant change without applying it (admin)."""
        path = f"/engines/changes/{segment(change_id)}/reject"
        body = GrantChangeRejectRequest(reason=reason)
        return await self.transport.call("POST", path, GrantChange, safety=IDEMPOTENT, body=body)
