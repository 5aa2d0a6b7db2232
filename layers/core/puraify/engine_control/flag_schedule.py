"""Scheduled flag changes: an admin schedules a flag to switch on or off at a time; checks follow it exactly.

A scheduled change lives in the flag's catalog entry, so every process has it cached before its time:
a check (``decisions.decide``) and the Planning Engine's ``change_freeze`` fact take the flag's state
at their own clock reading (``Flag.enabled_at``), with no cache refresh at the switch. The ``config``
function's schedule (every minute) then records each change that came due as the flag's own change
(``enabled``, ``updated_at`` = the scheduled time, ``updated_by`` = the admin who scheduled it) with an
admin audit record by that admin, and drops it from the schedule. At most ``MAX_SCHEDULED`` pending
changes per flag. Each flag write is conditional on the revision it read, so two runs of the pass at
once (two instances) record each change once.
"""

from __future__ import annotations

import uuid

from puraify.auth import Principal
from puraify.clock import iso, now
from puraify.engine_control import models as m
from puraify.engine_control.base import EngineControlBase
from puraify.engine_control.records import MAX_SCHEDULED, Flag, ScheduledFlagChange
from puraify.errors import ConflictError, NotFoundError, UnavailableError, ValidationFailedError
from puraify.observability import logger


def scheduled_view(flag: str, change: ScheduledFlagChange) -> m.ScheduledFlagChangeView:
    return m.ScheduledFlagChangeView(
        schedule_id=change.schedule_id,
        flag=flag,
        enabled=change.enabled,
        at=change.at,
        created_by=change.created_by,
        created_at=change.created_at,
    )


class FlagSchedule(EngineControlBase):
    def schedule_flag(
        self, caller: Principal, name: str, body: m.FlagScheduleRequest, request_id: str
    ) -> m.ScheduledFlagChangeView:
        """Admin: schedule ``name`` to be switched ``enabled`` at ``at`` (in the future)."""
        at = body.at.timestamp()
        change = ScheduledFlagChange(
            schedule_id=uuid.uuid4().hex[:16],
            enabled=body.enabled,
            at=iso(at),
            at_epoch=at,
            created_by=caller.engine_id,
            created_at=iso(),
        )
        details = {"schedule_id": change.schedule_id, "enabled": body.enabled, "at": change.at}
        with self._admin_audit(caller, request_id, "schedule_flag", target=name, details=details):
            if at <= now():
                raise ValidationFailedError(
                    "a scheduled change is in the future", details=[{"field": "body.at", "message": "at is past"}]
                )
            flag = self._flag(name)
            if len(flag.schedule) >= MAX_SCHEDULED:
                raise ConflictError(
                    f"flag '{name}' already has {MAX_SCHEDULED} scheduled changes (the most kept); cancel one first",
                    code="too_many_scheduled",
                )
            flag.schedule = sorted([*flag.schedule, change], key=lambda c: (c.at_epoch, c.schedule_id))
            self.catalog_store.put_flag(flag)
        self._catalog.invalidate()
        return scheduled_view(name, change)

    def flag_schedule(self, name: str) -> m.FlagScheduleListResponse:
        """The flag's pending scheduled changes, in time order."""
        flag = self._flag(name)
        return m.FlagScheduleListResponse(
            flag=name,
            enabled=flag.enabled_at(now()),
            changes=[scheduled_view(name, c) for c in flag.schedule if c.at_epoch > now()],
            max_scheduled=MAX_SCHEDULED,
        )

    def cancel_flag_change(
        self, caller: Principal, name: str, schedule_id: str, request_id: str
    ) -> m.ScheduledFlagChangeView:
        """Admin: cancel a scheduled change that has not come due."""
        with self._admin_audit(caller, request_id, "cancel_flag_change", target=name,
                               details={"schedule_id": schedule_id}):  # fmt: skip
            flag = self._flag(name)
            found = next((c for c in flag.schedule if c.schedule_id == schedule_id and c.at_epoch > now()), None)
            if found is None:
                raise NotFoundError(f"flag '{name}' has no pending change '{schedule_id}'", code="schedule_not_found")
            flag.schedule = [c for c in flag.schedule if c.schedule_id != schedule_id]
            self.catalog_store.put_flag(flag)
        self._catalog.invalidate()
        return scheduled_view(name, found)

    def apply_due_flag_changes(self) -> int:
        """Record every scheduled change that came due as its flag's change (the schedule's run)."""
        at = now()
        applied = 0
        for flag in self.catalog_store.load().flags.values():
            due = [c for c in flag.schedule if c.at_epoch <= at]
            if not due:
                continue
            states = [flag.enabled, *(c.enabled for c in due)]  # each change's before is the previous state
            before = {c.schedule_id: states[i] for i, c in enumerate(due)}
            for change in due:  # in time order: each is audited; the last one is the flag's state
                flag.enabled, flag.updated_at, flag.updated_by = change.enabled, change.at, change.created_by
            flag.schedule = [c for c in flag.schedule if c.at_epoch > at]
            try:  # conditional on the revision read: of two runs at once, one records the changes
                self.catalog_store.put_flag(flag)
            except ConflictError:
                logger.info("scheduled flag change recorded by another run", extra={"flag": flag.name})
                continue
            except UnavailableError:
                logger.warning("scheduled flag change not recorded yet", extra={"flag": flag.name})
                continue
            for change in due:
                self._audit_quietly(
                    kind="admin",
                    request_id=f"schedule-{change.schedule_id}",
                    engine_id=change.created_by,
                    status="allowed",
                    platform=flag.platform,
                    details={
                        "operation": "put_flag",
                        "target": flag.name,
                        "enabled": change.enabled,
                        "schedule_id": change.schedule_id,
                        "scheduled_at": change.at,
                        "before": {"enabled": before[change.schedule_id]},
                        "after": {"enabled": change.enabled},
                    },
                )
                applied += 1
        if applied:
            self._catalog.invalidate()
        return applied

    def _flag(self, name: str) -> Flag:
        flag = self.catalog_store.load().flags.get(name)
        if flag is None:
            raise NotFoundError(f"flag '{name}' not found: create it first (PUT /config/flags/{name})",
                                code="flag_not_found")  # fmt: skip
        return flag
