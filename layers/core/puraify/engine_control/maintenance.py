"""Scheduled maintenance windows of a platform: added, listed and cancelled by admins, judged by every check.

A window lives in the platform's catalog entry, so every process has it in its cached catalog before
it starts: a check compares its own clock with the cached windows (``decisions.decide``) and denies
from the window's first second to its last without waiting for a cache refresh. Adding or cancelling
a window is seen by other processes within the catalog cache TTL, like any catalog change. Each
platform keeps at most ``MAX_WINDOWS`` windows that have not ended; ended ones are dropped on the
next change.
"""

from __future__ import annotations

import uuid

from puraify.auth import Principal
from puraify.clock import iso, now
from puraify.engine_control import models as m
from puraify.engine_control.base import EngineControlBase
from puraify.engine_control.records import MAX_WINDOWS, MaintenanceWindow, Platform
from puraify.errors import ConflictError, NotFoundError, ValidationFailedError


def window_view(platform: str, window: MaintenanceWindow, at: float) -> m.MaintenanceWindowView:
    return m.MaintenanceWindowView(
        window_id=window.window_id,
        platform=platform,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        reason=window.reason,
        created_by=window.created_by,
        created_at=window.created_at,
        active=window.covers(at),
    )


def summary(platform: Platform, at: float) -> m.MaintenanceSummary:
    """The window in force at ``at`` and the next one to start."""
    current = platform.window_at(at)
    upcoming = [w for w in platform.windows if w.starts_epoch > at]
    return m.MaintenanceSummary(
        current=window_view(platform.name, current, at) if current else None,
        next=window_view(platform.name, min(upcoming, key=lambda w: w.starts_epoch), at) if upcoming else None,
        scheduled=sum(1 for w in platform.windows if w.ends_epoch > at),
    )


class Maintenance(EngineControlBase):
    def add_window(
        self, caller: Principal, name: str, body: m.MaintenanceWindowRequest, request_id: str
    ) -> m.MaintenanceWindowView:
        """Admin: schedule a maintenance window (at most ``MAX_WINDOWS`` not yet ended per platform)."""
        at = now()
        starts, ends = body.starts_at.timestamp(), body.ends_at.timestamp()
        window = MaintenanceWindow(
            window_id=uuid.uuid4().hex[:16],
            starts_at=iso(starts),
            ends_at=iso(ends),
            starts_epoch=starts,
            ends_epoch=ends,
            reason=body.reason,
            created_by=caller.engine_id,
            created_at=iso(at),
        )
        details = {"window_id": window.window_id, "starts_at": window.starts_at, "ends_at": window.ends_at,
                   "reason": body.reason}  # fmt: skip
        with self._admin_audit(caller, request_id, "add_maintenance_window", target=name, platform=name,
                               details=details):  # fmt: skip
            if ends <= at:
                raise ValidationFailedError(
                    "the window has already ended",
                    details=[{"field": "body.ends_at", "message": "ends_at is in the past"}],
                )
            platform = self._platform(name)
            kept = [w for w in platform.windows if w.ends_epoch > at]
            if len(kept) >= MAX_WINDOWS:
                raise ConflictError(
                    f"platform '{name}' already has {MAX_WINDOWS} scheduled windows (the most kept); cancel one first",
                    code="too_many_windows",
                )
            platform.windows = sorted([*kept, window], key=lambda w: (w.starts_epoch, w.window_id))
            self.catalog_store.put_platform(platform)
        self._catalog.invalidate()
        return window_view(name, window, at)

    def list_windows(self, name: str) -> m.MaintenanceWindowListResponse:
        """A platform's windows that have not ended, in start order."""
        at = now()
        platform = self._platform(name)
        return m.MaintenanceWindowListResponse(
            platform=name,
            windows=[window_view(name, w, at) for w in platform.windows if w.ends_epoch > at],
            max_windows=MAX_WINDOWS,
        )

    def delete_window(self, caller: Principal, name: str, window_id: str, request_id: str) -> m.MaintenanceWindowView:
        """Admin: cancel a window (also one in force: checks are allowed again within the cache TTL)."""
        at = now()
        with self._admin_audit(caller, request_id, "delete_maintenance_window", target=name, platform=name,
                               details={"window_id": window_id}):  # fmt: skip
            platform = self._platform(name)
            found = next((w for w in platform.windows if w.window_id == window_id and w.ends_epoch > at), None)
            if found is None:
                raise NotFoundError(f"platform '{name}' has no window '{window_id}'", code="window_not_found")
            platform.windows = [w for w in platform.windows if w.window_id != window_id and w.ends_epoch > at]
            self.catalog_store.put_platform(platform)
        self._catalog.invalidate()
        return window_view(name, found, at)

    def _platform(self, name: str) -> Platform:
        platform = self.catalog_store.load().platforms.get(name)
        if platform is None:
            raise NotFoundError(f"unknown platform '{name}'", code="unknown_platform")
        return platform
