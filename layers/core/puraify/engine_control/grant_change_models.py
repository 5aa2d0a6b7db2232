"""Four-eyes on grants: the API's views of a grant change waiting for another admin (stored: ``records``).

With ``GrantChangesRequireApproval`` on, ``PUT /engines/{id}/permissions`` and a registration that
grants ``admin`` become pending grant changes (202) that another admin approves or rejects.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import StringConstraints

from puraify.contract import Model, Request
from puraify.engine_control.records import GrantChangeEvent, GrantChangeKind, GrantChangeStatus

GrantChangeId = Annotated[str, StringConstraints(pattern=r"^gch_[0-9a-f]{10,40}$")]


class GrantChangeView(Model):
    """A grant change as ``GET /engines/changes`` lists it. ``engine_key``: only in the answer of the
    approval that registered the engine (shown once, never stored)."""

    change_id: str
    kind: GrantChangeKind
    target: str
    status: GrantChangeStatus
    requested_by: str
    requested_at: str
    expires_at: str
    request: dict[str, Any]
    simulation: dict[str, Any] | None = None
    events: list[GrantChangeEvent]
    approved_by: str | None = None
    reason: str | None = None
    result: dict[str, Any] | None = None
    engine_key: str | None = None


class GrantChangePending(Model):
    """202 of a registration granting ``admin`` or of ``PUT /engines/{id}/permissions`` under four-eyes."""

    status: Literal["pending_approval"] = "pending_approval"
    change_id: str
    change: GrantChangeView


class GrantChangeListResponse(Model):
    changes: list[GrantChangeView]
    next_cursor: str | None = None


class GrantChangeRejectRequest(Request):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]
