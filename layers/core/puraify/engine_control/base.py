"""Engine Control's stores, caches and audit, shared by its operations (engines, checks, catalog)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from puraify.audit import AuditLog
from puraify.auth import ADMIN_SCOPE, Authenticator, Principal
from puraify.cache import TtlCache
from puraify.clock import now
from puraify.engine_control.check_counts import CheckCounter
from puraify.engine_control.ports import CatalogStore, EngineStore, GrantChangeStore
from puraify.engine_control.records import Catalog, EngineRecord
from puraify.errors import (
    ForbiddenError,
    NotFoundError,
    PuraifyError,
    UnavailableError,
)


class EngineControlBase:
    """Engine identities, the catalog, and the check; reads go through bounded-staleness caches."""

    def __init__(
        self,
        engines: EngineStore,
        catalog: CatalogStore,
        audit: AuditLog,
        authenticator: Authenticator[EngineRecord],
        counter: CheckCounter,
        *,
        cache_ttl_seconds: float,
        rotation_grace_seconds: int,
        self_rotation_max_grace_seconds: int,
        api_version: str,
        grant_changes: GrantChangeStore | None = None,
        grant_approvals: bool = False,
        change_ttl_hours: float = 24,
        clock: Callable[[], float] = now,
    ):
        self.engines = engines
        self.catalog_store = catalog
        self.audit = audit
        self.auth = authenticator
        self.counter = counter
        self.rotation_grace_seconds = rotation_grace_seconds
        self.self_rotation_max_grace_seconds = self_rotation_max_grace_seconds
        self.api_version = api_version
        self.grant_changes = grant_changes  # four-eyes on grants (``grant_changes.py``)
        self.grant_approvals = grant_approvals
        self.change_ttl_hours = change_ttl_hours
        self.clock = clock
        self._catalog: TtlCache[str, Catalog] = TtlCache(cache_ttl_seconds)
        # Called after a key rotation with (engine_id, caller_id): Monitoring resolves the engine's
        # key_expiring alert (joined in puraify.wiring; None in unit tests).
        self.key_rotated: Callable[[str, str], Any] | None = None

    def catalog(self) -> Catalog:
        """The catalog as this process sees it: at most ``cache_ttl_seconds`` old."""
        return self._catalog.get("catalog", lambda _: self.catalog_store.load())

    def forget_cached(self) -> None:
        """Drop the cached catalog (the next check reads it again)."""
        self._catalog.invalidate()

    def _active_engine(self, engine_id: str) -> EngineRecord:
        record = self.engines.get(engine_id)
        if record is None or record.status != "active":
            raise NotFoundError(f"engine '{engine_id}' not found", code="engine_not_found")
        return record

    @contextmanager
    def _admin_audit(
        self,
        caller: Principal,
        request_id: str,
        operation: str,
        *,
        target: str,
        platform: str | None = None,
        details: dict[str, Any] | None = None,
        require_admin: bool = True,
    ) -> Iterator[dict[str, Any]]:
        """Audit an admin change once it happened (allowed) or failed (denied, error).

        Yields the record's ``details``: the change adds its ``before`` and ``after`` there (never a key).
        """
        record: dict[str, Any] = {
            "kind": "admin",
            "request_id": request_id,
            "engine_id": caller.engine_id,
            "platform": platform,
            "details": {"operation": operation, "target": target, **(details or {})},
        }
        try:
            if caller.superseded_key:
                raise ForbiddenError(
                    "this key was replaced by a rotation and only works until its grace period ends: it cannot "
                    "rotate keys or change engines, grants, platforms or flags; use the current key",
                    code="superseded_key",
                )
            if require_admin:
                caller.require(ADMIN_SCOPE)
            yield record["details"]
        except PuraifyError as error:
            self._audit_quietly(**record, status="denied" if error.status < 500 else "error", reason=error.message)
            raise
        self.audit.record(**record, status="allowed")

    def last_seen(self, engine_id: str) -> str | None:
        """When the engine last made an authenticated request, from its newest audit records."""
        return self.audit.store.last_seen(engine_id)

    def _audit_quietly(self, **record: Any) -> None:
        # The error being raised already tells the caller, and the log line was written.
        with suppress(UnavailableError):
            self.audit.record(**record)
