"""Four-eyes on grants: the stored shape of a grant change waiting for another admin, and its views.

With ``GrantChangesRequireApproval`` on, ``PUT /engines/{id}/permissions`` and a registration that
grants ``admin`` become pending grant changes (202) that another admin approves or rejects.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, StringConstraints

from puraify.contract import Model, Request

GrantChangeStatus = Literal["pending", "applying", "applied", "rejected", "expired", "failed"]
GrantChangeKind = Literal["register", "permissions"]
FINAL = frozenset({"applied", "rejected", "expired", "failed"})
GrantChangeId = Annotated[str, StringConstraints(pattern=r"^gch_[0-9a-f]{10,40}$")]


class GrantChangeEvent(BaseModel):
    status: GrantChangeStatus | Literal["approved"]
    by: str
    at: str
    reason: str | None = None


class GrantChangeRecord(BaseModel):
    """``seq`` advances with every write; each write is conditional on the one it read."""

    change_id: str
    kind: GrantChangeKind
    target: str  # the engine whose grants change (or that the registration creates)
    status: GrantChangeStatus = "pending"
    seq: int = 1
    requested_by: str
    requested_at: str
    request_id: str = ""
    expires_epoch: float
    request: dict[str, Any]  # the body of the registration or of PUT /engines/{id}/permissions
    simulation: dict[str, Any] | None = None  # POST /actions/simulate's summary of the change, when asked
    events: list[GrantChangeEvent] = []
    approved_by: str | None = None
    reason: str | None = None
    result: dict[str, Any] | None = None  # the change's answer (a registration's without its key)

    def status_at(self, at: float) -> GrantChangeStatus:
        return "expired" if self.status == "pending" and at >= self.expires_epoch else self.status


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
