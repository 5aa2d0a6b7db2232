"""Change requests: a promotion into an environment that needs approvals waits as a pending change.

``approvals_required`` (``PUT /env/{project_id}/{environment}/config``, 0-5) makes ``POST /env/promote``
into that environment answer 202 ``pending_approval`` with a ``change_id`` and change nothing. The
environment holds one pending change at a time (a second request is 409 ``change_pending``). Other
engines holding ``env:approve`` approve it (``puraify.environments.approvals``); it expires after
``ChangeRequestTtlHours``. Every transition is audited and listed in the environment's history.
"""

from __future__ import annotations

import uuid

from puraify.auth import Principal
from puraify.clock import iso, parse_iso
from puraify.environments import models as m
from puraify.environments import records as r
from puraify.environments.base import EnvironmentsBase
from puraify.environments.errors import ChangeChanged, ChangePending
from puraify.environments.ports import ChangeStore
from puraify.errors import UnavailableError

# An approved change is `applying` while the approval's request runs its promotion. Every function's Timeout in
# template.yaml is far below this (a test holds it so): one still `applying` this long after its approval was cut
# off (its instance stopped between the approval and the outcome), and the next request into its environment
# settles it instead of waiting behind it.
APPLY_DEADLINE_SECONDS = 120
SETTLE_HISTORY = 50  # the environment's newest history entries searched for the interrupted promotion


def new_change_id(at: float) -> str:
    """``chg_`` and the creation time in milliseconds, then random: ids sort by creation time."""
    return f"chg_{int(at * 1000):013d}{uuid.uuid4().hex[:10]}"


def change_view(record: r.ChangeRecord, at: float) -> m.ChangeView:
    """A change as the API shows it at ``at`` (a pending change past its expiry reads ``expired``)."""
    return m.ChangeView(
        change_id=record.change_id,
        project_id=record.project_id,
        environment=record.environment,
        kind=record.kind,
        status=record.status_at(at),
        requested_by=record.requested_by,
        requested_at=record.requested_at,
        expires_at=iso(record.expires_epoch),
        version=record.version,
        previous_version=record.previous_version,
        source_env=record.request.get("source_env"),
        diff_from_previous=m.PromotionDiff.model_validate(record.diff_from_previous),
        approvals_required=record.approvals_required,
        approvals=record.approvals,
        events=record.events,
        reason=record.reason,
        reasons=record.reasons,
        result=record.result,
    )


def environment_changes(store: ChangeStore | None, project_id: str, env: str, at: float) -> list[m.ChangeView]:
    """The environment's latest change requests (of the project's last 100), newest first: its history shows them."""
    if store is None:
        return []
    return [change_view(c, at) for c in store.page(project_id, 100) if c.environment == env][:20]


class ChangeRequests(EnvironmentsBase):
    """Asking for approval, and the transitions every change request shares."""

    def _change_store(self) -> ChangeStore:
        if self.changes is None:
            raise UnavailableError("approvals are not configured in this process", code="approvals_unavailable")
        return self.changes

    def _ask(
        self,
        caller: Principal,
        body: m.EnvPromoteRequest,
        request_id: str,
        target: r.EnvironmentRecord,
        version: str,
        diff: m.PromotionDiff,
    ) -> m.PromotionPending:
        """Record the promotion as a pending change of ``target`` (nothing else is written)."""
        store = self._change_store()
        pid, env = target.project_id, target.env
        at = self.clock()
        self._free_slot(store, pid, env, at)
        record = r.ChangeRecord(
            change_id=new_change_id(at),
            project_id=pid,
            environment=env,
            requested_by=caller.engine_id,
            requested_at=iso(at),
            request_id=request_id,
            expires_epoch=at + self.change_ttl_hours * 3600,
            request=body.model_dump(mode="json", exclude_none=True),
            version=version,
            previous_version=target.version,
            diff_from_previous=diff.model_dump(mode="json"),
            approvals_required=target.approvals_required,
            events=[r.ChangeEvent(status="pending", by=caller.engine_id, at=iso(at))],
        )
        store.create(record, at)
        self._audit(
            caller,
            request_id,
            "change_requested",
            pid,
            env,
            {
                "change_id": record.change_id,
                "version": version,
                "source_env": body.source_env,
                "approvals_required": record.approvals_required,
            },
        )
        view = change_view(record, at)
        return m.PromotionPending(
            change_id=record.change_id,
            version=version,
            environment=env,
            previous_version=target.version,
            diff_from_previous=diff,
            approvals_required=record.approvals_required,
            expires_at=view.expires_at,
            change=view,
        )

    def _free_slot(self, store: ChangeStore, project_id: str, env: str, at: float) -> None:
        """409 while the environment's pending change waits; an expired one is marked ``expired`` first."""
        holder = store.pending(project_id, env)
        held = store.get(project_id, holder) if holder else None
        if held is None:
            return
        if held.status == "applying" and at - parse_iso(held.events[-1].at) >= APPLY_DEADLINE_SECONDS:
            held = self._settle_interrupted(held, at)
        if held.status in ("pending", "applying") and held.status_at(at) != "expired":
            raise ChangePending(project_id, env, held.change_id)
        if held.status == "pending":
            self._expire(held, at)
        elif held.status in r.FINAL:  # a slot its last write did not free (a crash between the two)
            seen = held.seq
            held.seq += 1
            store.replace(held, seen, release=True)

    def _settle_interrupted(self, record: r.ChangeRecord, at: float) -> r.ChangeRecord:
        """End an approved change whose promotion was cut off: ``applied`` when the environment's history holds a
        promotion that applied it, ``failed`` otherwise (nothing ran; promote again). Its slot is freed."""
        entries = self.store.history(record.project_id, record.environment, SETTLE_HISTORY)
        ran = next((e for e in entries if e.last_change.change_id == record.change_id), None)
        system = Principal(engine_id=record.requested_by)
        try:
            if ran is not None:
                return self._transition(
                    record, "applied", system, record.request_id, at, by="system",
                    reason="recorded after its approval's request was cut off; the promotion had run",
                    details={"revision": ran.revision, "deployment_id": ran.last_change.deployment_id},
                )  # fmt: skip
            return self._transition(
                record, "failed", system, record.request_id, at, by="system",
                reason="its approval's request was cut off before the promotion ran; promote again",
            )  # fmt: skip
        except ChangeChanged:
            return self._change_store().get(record.project_id, record.change_id) or record

    def _expire(self, record: r.ChangeRecord, at: float) -> r.ChangeRecord:
        """Write a pending change past its expiry as ``expired`` (audited once: the write is conditional)."""
        try:
            return self._transition(
                record, "expired", Principal(engine_id=record.requested_by), record.request_id, at, by="system"
            )
        except ChangeChanged:
            return self._change_store().get(record.project_id, record.change_id) or record

    def _transition(
        self,
        record: r.ChangeRecord,
        status: r.ChangeStatus,
        caller: Principal,
        request_id: str,
        at: float,
        *,
        by: str | None = None,
        reason: str | None = None,
        details: dict[str, object] | None = None,
    ) -> r.ChangeRecord:
        """Move the change to ``status`` (final: its slot is freed) in one conditional write, and audit it."""
        seen = record.seq
        record.seq += 1
        record.status = status
        if reason is not None:
            record.reason = reason
        record.events.append(r.ChangeEvent(status=status, by=by or caller.engine_id, at=iso(at), reason=reason))
        self._change_store().replace(record, seen, release=status in r.FINAL)
        self._audit(
            caller,
            request_id,
            f"change_{status}",
            record.project_id,
            record.environment,
            {"change_id": record.change_id, "version": record.version, **(details or {})},
            status="denied" if status in ("denied", "failed") else "allowed",
            reason=reason,
        )
        return record
