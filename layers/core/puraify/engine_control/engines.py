"""Engine identities: register, rotate, revoke, suspend, permissions and grants, and the engine views."""

from __future__ import annotations

from datetime import datetime

from puraify.auth import ADMIN_SCOPE, Principal, hash_key, new_key
from puraify.clock import iso, now
from puraify.engine_control import models as m
from puraify.engine_control.base import EngineControlBase
from puraify.engine_control.records import EngineRecord, RateLimit, Suspension
from puraify.errors import (
    ConflictError,
    NotFoundError,
    ValidationFailedError,
)
from puraify.observability import logger
from puraify.versions import LATEST, UNPINNED


class Engines(EngineControlBase):
    def register(self, caller: Principal, body: m.EngineRegisterRequest, request_id: str) -> m.EngineRegisterResponse:
        """Create an engine with a fresh key; the key is returned here and never again."""
        key = new_key()
        at = iso()
        record = EngineRecord(
            engine_id=body.engine_id,
            key_hash=hash_key(key),
            permissions=body.permissions,
            scopes=sorted(set(body.scopes)),
            projects=sorted(set(body.projects)),
            description=body.description,
            rate_limit=_rate_limit(body.rate_limit),
            key_expires_at=_expiry(body.expires_at),
            api_version=body.api_version or LATEST,
            created_at=at,
            updated_at=at,
        )
        with self._admin_audit(
            caller, request_id, "register_engine", target=body.engine_id, details=_limits_audited(record)
        ) as change:
            self._known_actions(body.permissions)  # after the scope check: a non-admin learns nothing
            self.engines.create(record)
            change.update(before=None, after=_grants(record))
        self.auth.cache.invalidate(body.engine_id)
        return m.EngineRegisterResponse(
            engine_id=record.engine_id,
            engine_key=key,
            permissions=record.permissions,
            scopes=record.scopes,
            projects=record.projects,
            created_at=at,
            rate_limit=_rate_limit_view(record),
            expires_at=_iso_or_none(record.key_expires_at),
        )

    def validate(self, caller: Principal) -> m.EngineValidateResponse:
        return m.EngineValidateResponse(
            valid=True,
            engine_id=caller.engine_id,
            permissions=caller.permissions,
            scopes=sorted(caller.scopes),
            projects=sorted(caller.projects),
            api_version=caller.api_version or UNPINNED,
        )

    def rotate(
        self, caller: Principal, engine_id: str, body: m.EngineRotateRequest, request_id: str
    ) -> m.EngineRotateResponse:
        """Issue a new key; the previous one keeps working for the grace period, then stops.

        An engine rotating its own key gets at most ``self_rotation_max_grace_seconds`` of grace (more
        is 422): a leaked key cannot buy itself a week. Grace 0 ends the previous key at once.
        """
        own = caller.engine_id == engine_id
        grace = self.rotation_grace_seconds if body.grace_seconds is None else body.grace_seconds
        expires = _expiry(body.expires_at)
        audited = {"grace_seconds": grace, "expires_at": _iso_or_none(expires)}
        with self._admin_audit(
            caller, request_id, "rotate_key", target=engine_id, require_admin=not own, details=audited
        ):
            if own:
                grace = self._own_rotation_grace(body.grace_seconds, grace)
            current = self._active_engine(engine_id)
            key = new_key()
            valid_until = now() + grace if grace > 0 else None
            updated = current.model_copy(
                update={
                    "key_hash": hash_key(key),
                    "previous_key_hash": current.key_hash if valid_until else None,
                    "previous_key_expires_at": valid_until,
                    "key_expires_at": expires,
                    "updated_at": iso(),
                }
            )
            self.engines.update(updated, expected_key_hash=current.key_hash)
        self.auth.cache.invalidate(engine_id)
        self._cleared_expiry_alert(engine_id, caller.engine_id)
        return m.EngineRotateResponse(
            engine_id=engine_id,
            engine_key=key,
            previous_key_valid_until=iso(valid_until) if valid_until else None,
            expires_at=_iso_or_none(expires),
        )

    def _cleared_expiry_alert(self, engine_id: str, by: str) -> None:
        """A rotated key resolves the engine's ``key_expiring`` alert; the rotation stands if that fails."""
        if self.key_rotated is None:
            return
        try:
            self.key_rotated(engine_id, by)
        except Exception:  # noqa: BLE001 - the next pass sees the new expiry; an operator may resolve it
            logger.exception("key_expiring could not be resolved after a rotation", extra={"engine_id": engine_id})

    def _own_rotation_grace(self, asked: int | None, grace: int) -> int:
        limit = self.self_rotation_max_grace_seconds
        if asked is not None and asked > limit:
            message = f"an engine rotating its own key may keep the old one at most {limit} s"
            raise ValidationFailedError(
                message,
                code="grace_too_long",
                details=[{"field": "body.grace_seconds", "message": message, "type": "less_than_equal"}],
            )
        return min(grace, limit)

    def revoke(self, caller: Principal, engine_id: str, request_id: str) -> m.EngineRevokeResponse:
        """Revoke an engine: its keys stop working here at once, everywhere within the cache TTL."""
        with self._admin_audit(caller, request_id, "revoke_engine", target=engine_id) as change:
            current = self._active_engine(engine_id)
            change.update(before={"status": current.status}, after={"status": "revoked"})
            at = iso()
            updated = current.model_copy(
                update={
                    "status": "revoked",
                    "previous_key_hash": None,
                    "previous_key_expires_at": None,
                    "updated_at": at,
                }
            )
            self._write_keeping_an_admin(current, updated)
        self.auth.cache.invalidate(engine_id)
        return m.EngineRevokeResponse(engine_id=engine_id, status="revoked", revoked_at=at)

    def set_permissions(
        self, caller: Principal, engine_id: str, body: m.EnginePermissionsRequest, request_id: str
    ) -> m.EnginePermissionsResponse:
        """Replace the engine's permission set (and its scopes and project grants, when given)."""
        with self._admin_audit(
            caller,
            request_id,
            "set_permissions",
            target=engine_id,
            details={
                "permissions": body.permissions,
                "scopes": body.scopes,
                "projects": body.projects,
                **({"rate_limit": _plain(body.rate_limit)} if "rate_limit" in body.model_fields_set else {}),
            },
        ) as change:
            self._known_actions(body.permissions)
            current = self._active_engine(engine_id)
            changes: dict[str, object] = {"permissions": body.permissions, "updated_at": iso()}
            if body.scopes is not None:
                changes["scopes"] = sorted(set(body.scopes))
            if body.projects is not None:
                changes["projects"] = sorted(set(body.projects))
            if "rate_limit" in body.model_fields_set:
                changes["rate_limit"] = _rate_limit(body.rate_limit)
            updated = current.model_copy(update=changes)
            self._write_keeping_an_admin(current, updated)
            change.update(before=_grants(current), after=_grants(updated))
        self.auth.cache.invalidate(engine_id)
        return m.EnginePermissionsResponse(
            engine_id=engine_id,
            permissions=updated.permissions,
            scopes=updated.scopes,
            projects=updated.projects,
            updated_at=updated.updated_at,
            rate_limit=_rate_limit_view(updated),
        )

    def suspend(
        self, caller: Principal, engine_id: str, body: m.EngineSuspendRequest, request_id: str
    ) -> m.EngineSuspensionResponse:
        """Suspend an engine: every call it makes answers 403 ``engine_suspended`` (here at once, on
        other instances within the cache TTL); its identity, keys and history stay. Admin only; the
        last active admin cannot be suspended (409 ``last_admin``)."""
        details = {"reason": body.reason}
        with self._admin_audit(caller, request_id, "suspend_engine", target=engine_id, details=details):
            current = self._active_engine(engine_id)
            at = iso()
            suspension = current.suspended or Suspension(reason=body.reason, by=caller.engine_id, at=at)
            updated = current.model_copy(update={"suspended": suspension, "updated_at": at})
            if current.suspended is None:
                self._write_keeping_an_admin(current, updated)
        self.auth.cache.invalidate(engine_id)
        return _suspension(updated)

    def reinstate(
        self, caller: Principal, engine_id: str, body: m.EngineReinstateRequest, request_id: str
    ) -> m.EngineSuspensionResponse:
        """Lift a suspension (admin only); the engine's keys work again at once here, elsewhere within the TTL."""
        with self._admin_audit(
            caller, request_id, "reinstate_engine", target=engine_id, details={"reason": body.reason or None}
        ):
            current = self._active_engine(engine_id)
            updated = current.model_copy(update={"suspended": None, "updated_at": iso()})
            if current.suspended is not None:
                self.engines.update(updated, expected_key_hash=current.key_hash)
            else:
                updated = current
        self.auth.cache.invalidate(engine_id)
        return _suspension(updated)

    def set_api_version(
        self, caller: Principal, engine_id: str, body: m.EngineApiVersionRequest, request_id: str
    ) -> m.EngineView:
        """Pin the API version the engine's requests are served in when they name none (admin only)."""
        details = {"api_version": body.api_version}
        with self._admin_audit(caller, request_id, "set_api_version", target=engine_id, details=details):
            current = self._active_engine(engine_id)
            updated = current.model_copy(update={"api_version": body.api_version, "updated_at": iso()})
            self.engines.update(updated, expected_key_hash=current.key_hash)
        self.auth.cache.invalidate(engine_id)
        return _engine_view(updated, last_seen_at=self.last_seen(engine_id))

    def list_engines(self, caller: Principal) -> m.EngineListResponse:
        """Every engine, revoked ones included, sorted by id, each with the time of its last audited
        request (admin only, never a key hash). One small audit Query per engine (its newest 25 records)."""
        caller.require(ADMIN_SCOPE)
        records = sorted(self.engines.list(), key=lambda r: r.engine_id)
        return m.EngineListResponse(
            engines=[_engine_view(r, last_seen_at=self.last_seen(r.engine_id)) for r in records]
        )

    def get_engine(self, caller: Principal, engine_id: str) -> m.EngineView:
        """One engine with the time of its last audited request (admin only, never a key hash)."""
        caller.require(ADMIN_SCOPE)
        record = self.engines.get(engine_id)
        if record is None:
            raise NotFoundError(f"engine '{engine_id}' not found", code="engine_not_found")
        return _engine_view(record, last_seen_at=self.last_seen(engine_id))

    def _known_actions(self, permissions: dict[str, list[str]]) -> None:
        """422 unless every platform and action of ``permissions`` is in the catalog (read fresh)."""
        if not permissions:
            return
        platforms = self.catalog_store.load().platforms
        details = []
        for platform, actions in sorted(permissions.items()):
            spec = platforms.get(platform)
            if spec is None:
                details.append({"field": f"body.permissions.{platform}", "message": f"unknown platform '{platform}'"})
                continue
            details += [
                {
                    "field": f"body.permissions.{platform}.{action}",
                    "message": f"unknown action '{action}' on '{platform}'",
                }
                for action in actions
                if action not in spec.actions
            ]
        if details:
            raise ValidationFailedError(
                "permissions must name platforms and actions of the catalog", code="not_in_catalog", details=details
            )

    def _write_keeping_an_admin(self, current: EngineRecord, updated: EngineRecord) -> None:
        """Write ``updated``; if that removes an active admin, only while another stays one (409 ``last_admin``).

        The other admin's standing is checked in the same conditional write, so two admins
        revoking or demoting each other at the same moment cannot leave nobody in charge.
        """
        if not (_is_admin(current) and not _is_admin(updated)):
            self.engines.update(updated, expected_key_hash=current.key_hash)
            return
        others = [e.engine_id for e in self.engines.list() if e.engine_id != current.engine_id and _is_admin(e)]
        for other in sorted(others):
            try:
                self.engines.update(updated, expected_key_hash=current.key_hash, keep_admin=other)
                return
            except ConflictError as error:
                if error.code != "last_admin":
                    raise
        raise ConflictError(
            f"engine '{current.engine_id}' is the last active engine holding 'admin': "
            "grant 'admin' to another engine first",
            code="last_admin",
        )


def _grants(record: EngineRecord) -> dict[str, object]:
    """What an admin change of an engine shows as its before and after (never a key or its hash)."""
    return {"permissions": record.permissions, "scopes": record.scopes, "projects": record.projects}


def _is_admin(record: EngineRecord) -> bool:
    """An admin that can act: active, not suspended, holding ``admin``, its key not expired."""
    expired = record.key_expires_at is not None and record.key_expires_at <= now()
    return record.status == "active" and record.suspended is None and not expired and ADMIN_SCOPE in record.scopes


def _expiry(value: datetime | None) -> float | None:
    """An expiry as epoch seconds; 422 when it is not in the future."""
    if value is None:
        return None
    at = value.timestamp()
    if at <= now():
        message = "expires_at must be in the future"
        raise ValidationFailedError(
            message, details=[{"field": "body.expires_at", "message": message, "type": "greater_than"}]
        )
    return at


def _iso_or_none(at: float | None) -> str | None:
    return iso(at) if at is not None else None


def _rate_limit(body: m.RateLimitBody | None) -> RateLimit | None:
    return RateLimit.model_validate(body.model_dump()) if body is not None else None


def _plain(body: m.RateLimitBody | None) -> dict[str, object] | None:
    return body.model_dump() if body is not None else None


def _rate_limit_view(record: EngineRecord) -> m.RateLimitView | None:
    return m.RateLimitView.model_validate(record.rate_limit.model_dump()) if record.rate_limit else None


def _limits_audited(record: EngineRecord) -> dict[str, object]:
    return {
        "rate_limit": record.rate_limit.model_dump() if record.rate_limit else None,
        "expires_at": _iso_or_none(record.key_expires_at),
    }


def _suspension(record: EngineRecord) -> m.EngineSuspensionResponse:
    suspended = m.SuspensionView.model_validate(record.suspended.model_dump()) if record.suspended else None
    return m.EngineSuspensionResponse(engine_id=record.engine_id, suspended=suspended, updated_at=record.updated_at)


def _engine_view(record: EngineRecord, *, last_seen_at: str | None = None) -> m.EngineView:
    grace = record.previous_key_expires_at
    return m.EngineView(
        engine_id=record.engine_id,
        status=record.status,
        permissions=record.permissions,
        scopes=record.scopes,
        projects=record.projects,
        description=record.description,
        created_at=record.created_at,
        updated_at=record.updated_at,
        previous_key_valid_until=iso(grace) if record.previous_key_hash and grace and grace > now() else None,
        last_seen_at=last_seen_at,
        rate_limit=_rate_limit_view(record),
        expires_at=_iso_or_none(record.key_expires_at),
        suspended=m.SuspensionView.model_validate(record.suspended.model_dump()) if record.suspended else None,
        api_version=record.api_version or UNPINNED,
    )
