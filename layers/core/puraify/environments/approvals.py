"""Approvals: other engines approve or reject a promotion that waits as a change request.

The routes need ``env:approve`` and a grant of the project. The requester cannot approve its own
change (403 ``self_approval``) and each engine counts once (approving again changes nothing). The
approval that reaches ``approvals_required`` runs the promotion through the same code path as an
unapproved one (gate, bake and watch), as the requester: the change ends ``applied`` with the
promotion's answer, ``denied`` with the gate's reasons, or ``failed`` (the source moved on, the
environment is gone...). A pending change past ``ChangeRequestTtlHours`` reads ``expired``; acting
on it is 409 ``change_expired``. Every write is conditional on the change's ``seq``: of two racing
approvals one counts first and the other is re-read and counted after it, and only one applies.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from puraify.auth import Principal
from puraify.clock import iso
from puraify.environments import models as m
from puraify.environments import records as r
from puraify.environments.base import APPROVE_SCOPE, validate_path
from puraify.environments.change_requests import change_view
from puraify.environments.errors import ChangeChanged
from puraify.environments.promotion import Promotion
from puraify.errors import ConflictError, ForbiddenError, NotFoundError, PuraifyError

ChangeId = Annotated[str, StringConstraints(pattern=r"^chg_[0-9a-f]{10,40}$")]
ATTEMPTS = 5  # re-reads of a change another approval wrote first
MAX_PAGES = 10  # store pages one list request reads to fill a page of one status


class Approvals(Promotion):
    """List, approve and reject a project's change requests."""

    def list_changes(
        self, caller: Principal, project_id: str, status: str | None, limit: int = 50, cursor: str | None = None
    ) -> m.ChangeListResponse:
        """The project's change requests, newest first (``status``: only those that read so now)."""
        project_id = self._approver(caller, project_id)
        if cursor is not None:
            cursor = validate_path("query.cursor", cursor, ChangeId)
        store = self._change_store()
        at = self.clock()
        found: list[m.ChangeView] = []
        before, more = cursor, False
        for _ in range(MAX_PAGES):
            page = store.page(project_id, limit, before)
            for record in page:
                if status is None or record.status_at(at) == status:
                    found.append(change_view(record, at))
            if len(page) < limit or len(found) >= limit:
                more = len(page) == limit or len(found) > limit
                break
            before = page[-1].change_id
        else:
            more = True
        shown = found[:limit]
        next_cursor = shown[-1].change_id if more and shown else (before if more else None)
        return m.ChangeListResponse(project_id=project_id, changes=shown, next_cursor=next_cursor)

    def approve_change(self, caller: Principal, project_id: str, change_id: str, request_id: str) -> m.ChangeView:
        """Count the caller's approval; the one that reaches the count applies the promotion."""
        project_id = self._approver(caller, project_id)
        for _ in range(ATTEMPTS):
            record, at = self._pending(caller, project_id, change_id, request_id), self.clock()
            if record.requested_by == caller.engine_id:
                self._audit(
                    caller, request_id, "change_approved", project_id, record.environment,
                    {"change_id": record.change_id}, status="denied", reason="self_approval",
                )  # fmt: skip
                raise ForbiddenError(
                    f"{caller.engine_id} requested change {record.change_id} and cannot approve it: another "
                    "engine holding env:approve must",
                    code="self_approval",
                )
            if any(a.engine_id == caller.engine_id for a in record.approvals):
                return change_view(record, at)  # each engine counts once
            seen = record.seq
            record.seq += 1
            record.approvals.append(r.Approval(engine_id=caller.engine_id, at=iso(at)))
            record.events.append(r.ChangeEvent(status="approved", by=caller.engine_id, at=iso(at)))
            reached = len(record.approvals) >= record.approvals_required
            if reached:
                record.status = "applying"
            try:
                self._change_store().replace(record, seen)
            except ChangeChanged:
                continue
            self._audit(
                caller, request_id, "change_approved", project_id, record.environment,
                {"change_id": record.change_id, "approvals": len(record.approvals),
                 "approvals_required": record.approvals_required},
            )  # fmt: skip
            if reached:
                record = self._apply_change(record, caller, request_id)
            return change_view(record, self.clock())
        raise ChangeChanged(change_id)

    def reject_change(
        self, caller: Principal, project_id: str, change_id: str, body: m.ChangeRejectRequest, request_id: str
    ) -> m.ChangeView:
        """End a pending change without running it (the requester may withdraw its own)."""
        project_id = self._approver(caller, project_id)
        for _ in range(ATTEMPTS):
            record = self._pending(caller, project_id, change_id, request_id)
            try:
                record = self._transition(record, "rejected", caller, request_id, self.clock(), reason=body.reason)
            except ChangeChanged:
                continue
            return change_view(record, self.clock())
        raise ChangeChanged(change_id)

    # --- plumbing ------------------------------------------------------------------------------

    def _approver(self, caller: Principal, project_id: str) -> str:
        caller.require_project(project_id)  # the grant first: 403 before anything is read or written
        caller.require(APPROVE_SCOPE)
        return validate_path("path.project_id", project_id, m.ProjectId)

    def _pending(self, caller: Principal, project_id: str, change_id: str, request_id: str) -> r.ChangeRecord:
        """The change, still pending (404 unknown; 409 ``change_expired`` or ``change_not_pending``)."""
        change_id = validate_path("path.change_id", change_id, ChangeId)
        record = self._change_store().get(project_id, change_id)
        if record is None:
            raise NotFoundError(f"project '{project_id}' has no change '{change_id}'", code="change_not_found")
        at = self.clock()
        if record.status == "pending" and record.status_at(at) == "expired":
            self._expire(record, at)
            raise ConflictError(
                f"change {change_id} expired at {iso(record.expires_epoch)} without its approvals; "
                "promote again to ask anew",
                code="change_expired",
            )
        if record.status != "pending":
            raise ConflictError(
                f"change {change_id} is {record.status}, no longer pending", code="change_not_pending",
                details=[{"status": record.status}],
            )  # fmt: skip
        return record

    def _apply_change(self, record: r.ChangeRecord, approver: Principal, request_id: str) -> r.ChangeRecord:
        """Run the approved promotion as its requester asked it; the change ends with its outcome."""
        body = m.EnvPromoteRequest.model_validate({**record.request, "expected_revision": None})
        requester = Principal(engine_id=record.requested_by)
        details: dict[str, object] = {"approved_by": [a.engine_id for a in record.approvals]}
        try:
            answer = self._promote(requester, body, request_id, change=record)
        except ForbiddenError as error:
            record.reasons = [str(d["reason"]) for d in error.details if "reason" in d]
            return self._transition(
                record, "denied", approver, request_id, self.clock(), reason=error.message,
                details={**details, "reasons": record.reasons},
            )  # fmt: skip
        except PuraifyError as error:  # the source moved on, the environment is gone, a store failed...
            return self._transition(
                record, "failed", approver, request_id, self.clock(), reason=f"{error.code}: {error.message}",
                details=details,
            )  # fmt: skip
        record.result = answer.model_dump(mode="json")
        if isinstance(answer, m.EnvPromoteResponse):
            details.update(deployment_id=answer.deployment_id, revision=answer.revision)
        return self._transition(record, "applied", approver, request_id, self.clock(), details=details)
