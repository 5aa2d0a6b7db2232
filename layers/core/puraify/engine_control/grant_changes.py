"""Four-eyes on grants (opt-in, ``GrantChangesRequireApproval``; ``PURAIFY_GRANT_APPROVALS=1`` for ``make run``).

With it on, every ``PUT /engines/{id}/permissions`` and a registration that grants ``admin`` become a
pending grant change (202): validated as the change itself would be, with the simulated effect of a
permission change on the last day's audited checks attached (``POST /actions/simulate``'s summary), and
nothing else written. Another admin approves (``POST /engines/changes/{change_id}/approve``): the change
then runs as its requester asked it, through the same code. No admin approves its own request nor a
change of its own grants (403 ``self_approval``). Off (the default), both routes act at once as before.
"""

from __future__ import annotations

import uuid
from contextlib import suppress
from typing import Any

from puraify.auth import ADMIN_SCOPE, Principal
from puraify.clock import iso
from puraify.engine_control import models as m
from puraify.engine_control.engines import Engines, _is_admin
from puraify.engine_control.grant_change_models import (
    GrantChangeId,
    GrantChangeListResponse,
    GrantChangePending,
    GrantChangeRejectRequest,
    GrantChangeView,
)
from puraify.engine_control.ports import GrantChangeStore
from puraify.engine_control.records import (
    FINAL,
    GrantChangeEvent,
    GrantChangeKind,
    GrantChangeRecord,
    GrantChangeStatus,
)
from puraify.engine_control.simulate import Simulation
from puraify.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PuraifyError,
    UnavailableError,
    validation_error,
)

MAX_PAGES = 10
SIMULATED = ("replayed", "unchanged", "allow_to_deny", "deny_to_allow", "since", "until", "truncated")


def _new_id(at: float) -> str:
    return f"gch_{int(at * 1000):013d}{uuid.uuid4().hex[:10]}"


def view(record: GrantChangeRecord, at: float, engine_key: str | None = None) -> GrantChangeView:
    return GrantChangeView(
        change_id=record.change_id,
        kind=record.kind,
        target=record.target,
        status=record.status_at(at),
        requested_by=record.requested_by,
        requested_at=record.requested_at,
        expires_at=iso(record.expires_epoch),
        request=record.request,
        simulation=record.simulation,
        events=record.events,
        approved_by=record.approved_by,
        reason=record.reason,
        result=record.result,
        engine_key=engine_key,
    )


class GrantChanges(Simulation):
    """The routes' entry points (``register_or_ask``, ``set_permissions_or_ask``) and the approvals."""

    def register_or_ask(
        self, caller: Principal, body: m.EngineRegisterRequest, request_id: str
    ) -> m.EngineRegisterResponse | GrantChangePending:
        if self.grant_approvals and ADMIN_SCOPE in body.scopes and self._another_admin(caller):
            return self._ask(caller, "register", body.engine_id, body.model_dump(mode="json"), request_id)
        return self.register(caller, body, request_id)

    def set_permissions_or_ask(
        self, caller: Principal, engine_id: str, body: m.EnginePermissionsRequest, request_id: str
    ) -> m.EnginePermissionsResponse | GrantChangePending:
        if self.grant_approvals:
            request = body.model_dump(mode="json", exclude_unset=True)
            return self._ask(caller, "permissions", engine_id, request, request_id)
        return self.set_permissions(caller, engine_id, body, request_id)

    def list_grant_changes(
        self, caller: Principal, status: GrantChangeStatus | None, limit: int = 50, cursor: str | None = None
    ) -> GrantChangeListResponse:
        caller.require(ADMIN_SCOPE)
        if cursor is not None:
            cursor = _valid_id(cursor, "query.cursor")
        store, at = self._grant_store(), self.clock()
        found: list[GrantChangeView] = []
        before, more = cursor, False
        for _ in range(MAX_PAGES):
            page = store.page(limit, before)
            found += [view(c, at) for c in page if status is None or c.status_at(at) == status]
            if len(page) < limit or len(found) >= limit:
                more = len(page) == limit or len(found) > limit
                break
            before = page[-1].change_id
        else:
            more = True
        shown = found[:limit]
        next_cursor = shown[-1].change_id if more and shown else (before if more else None)
        return GrantChangeListResponse(changes=shown, next_cursor=next_cursor)

    def approve_grant_change(self, caller: Principal, change_id: str, request_id: str) -> GrantChangeView:
        """Apply the change as its requester asked it (never by the requester, nor by its target)."""
        change_id = _valid_id(change_id, "path.change_id")
        with self._admin_audit(caller, request_id, "approve_grant_change", target=change_id) as details:
            record = self._pending(change_id)
            details.update(kind=record.kind, engine=record.target, requested_by=record.requested_by)
            if caller.engine_id in (record.requested_by, record.target):
                whose = "requested" if caller.engine_id == record.requested_by else "changes the grants of"
                raise ForbiddenError(
                    f"{caller.engine_id} {whose} change {change_id} and cannot approve it: another admin must",
                    code="self_approval",
                )
            at = self.clock()
            self._write(record, "applying", caller.engine_id, at, approved_by=caller.engine_id)
            record, key = self._apply(record)
            self._write(record, record.status, caller.engine_id, self.clock())
            details.update(status=record.status, reason=record.reason)
        return view(record, self.clock(), engine_key=key)

    def reject_grant_change(
        self, caller: Principal, change_id: str, body: GrantChangeRejectRequest, request_id: str
    ) -> GrantChangeView:
        change_id = _valid_id(change_id, "path.change_id")
        with self._admin_audit(caller, request_id, "reject_grant_change", target=change_id) as details:
            record = self._pending(change_id)
            details.update(kind=record.kind, engine=record.target, reason=body.reason)
            record.reason = body.reason
            self._write(record, "rejected", caller.engine_id, self.clock(), reason=body.reason)
        return view(record, self.clock())

    # --- plumbing ------------------------------------------------------------------------------

    def _another_admin(self, caller: Principal) -> bool:
        """Whether an admin other than the caller could approve. The stack's only admin registers the
        second one at once (nobody else could ever approve it); every later admin waits for approval."""
        return any(_is_admin(e) and e.engine_id != caller.engine_id for e in self.engines.list())

    def _grant_store(self) -> GrantChangeStore:
        if self.grant_changes is None:
            raise UnavailableError("grant approvals are not configured in this process", code="approvals_unavailable")
        return self.grant_changes

    def _ask(
        self, caller: Principal, kind: GrantChangeKind, target: str, request: dict[str, Any], request_id: str
    ) -> GrantChangePending:
        """Validate the change as it would be applied, then keep it pending (audited; nothing else written)."""
        at = self.clock()
        with self._admin_audit(caller, request_id, "request_grant_change", target=target) as details:
            self._known_actions(request.get("permissions") or {})
            if kind == "register" and self.engines.get(target) is not None:
                raise ConflictError(f"engine '{target}' already exists", code="engine_exists")
            if kind == "permissions":
                self._active_engine(target)
            record = GrantChangeRecord(
                change_id=_new_id(at),
                kind=kind,
                target=target,
                requested_by=caller.engine_id,
                requested_at=iso(at),
                request_id=request_id,
                expires_epoch=at + self.change_ttl_hours * 3600,
                request=request,
                simulation=self._simulated(caller, kind, target, request, request_id),
                events=[GrantChangeEvent(status="pending", by=caller.engine_id, at=iso(at))],
            )
            self._grant_store().create(record)
            details.update(change_id=record.change_id, kind=kind, request=request)
        return GrantChangePending(change_id=record.change_id, change=view(record, at))

    def _simulated(
        self, caller: Principal, kind: str, target: str, request: dict[str, Any], request_id: str
    ) -> dict[str, Any]:
        """What the change would have flipped in the last day's audited checks (``POST /actions/simulate``)."""
        if kind == "register":
            return {"note": "a new engine has no audited checks to replay"}
        fields = {k: request[k] for k in ("permissions", "scopes", "projects") if request.get(k) is not None}
        try:
            engine = m.SimulatedEngine(engine_id=target, **fields)
            result = self.simulate(caller, m.SimulateRequest(change=m.SimulatedChange(engine=engine)), request_id)
        except PuraifyError as error:
            return {"error": error.message}
        summary = {k: getattr(result, k) for k in SIMULATED}
        summary["by_action"] = [flip.model_dump(mode="json") for flip in result.by_action[:10]]
        return summary

    def _pending(self, change_id: str) -> GrantChangeRecord:
        record = self._grant_store().get(change_id)
        if record is None:
            raise NotFoundError(f"no grant change '{change_id}'", code="change_not_found")
        at = self.clock()
        if record.status == "pending" and record.status_at(at) == "expired":
            with suppress(ConflictError):  # another request wrote it first
                self._write(record, "expired", "system", at)
            raise ConflictError(
                f"grant change {change_id} expired at {iso(record.expires_epoch)}; request it again",
                code="change_expired",
            )
        if record.status != "pending":
            raise ConflictError(
                f"grant change {change_id} is {record.status}, no longer pending", code="change_not_pending",
                details=[{"status": record.status}],
            )  # fmt: skip
        return record

    def _apply(self, record: GrantChangeRecord) -> tuple[GrantChangeRecord, str | None]:
        """Run the change as its requester (an admin when it asked); ``applied`` or ``failed`` with why."""
        requester = Principal(engine_id=record.requested_by, scopes=frozenset({ADMIN_SCOPE}), projects=frozenset({"*"}))
        key = None
        try:
            if record.kind == "register":
                created = Engines.register(
                    self, requester, m.EngineRegisterRequest.model_validate(record.request), record.request_id
                )
                key = created.engine_key
                record.result = created.model_dump(mode="json", exclude={"engine_key"})
            else:
                body = m.EnginePermissionsRequest.model_validate(record.request)
                changed = Engines.set_permissions(self, requester, record.target, body, record.request_id)
                record.result = changed.model_dump(mode="json")
            record.status = "applied"
        except PuraifyError as error:
            record.status, record.reason = "failed", f"{error.code}: {error.message}"
        return record, key

    def _write(
        self,
        record: GrantChangeRecord,
        status: GrantChangeStatus,
        by: str,
        at: float,
        *,
        approved_by: str | None = None,
        reason: str | None = None,
    ) -> None:
        seen = record.seq
        record.seq += 1
        record.status = status
        if approved_by is not None:
            record.approved_by = approved_by
        event_status: Any = "approved" if status == "applying" else status
        shown = reason or (record.reason if status in FINAL else None)
        record.events.append(GrantChangeEvent(status=event_status, by=by, at=iso(at), reason=shown))
        self._grant_store().replace(record, seen)


def _valid_id(value: str, field: str) -> str:
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(GrantChangeId).validate_python(value)
    except ValidationError as error:
        raise validation_error([{**e, "loc": tuple(field.split("."))} for e in error.errors()]) from error
