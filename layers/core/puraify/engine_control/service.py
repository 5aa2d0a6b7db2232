"""Engine Control's operations. Each takes the authenticated caller and returns a response model."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, NamedTuple, Protocol

from puraify.audit import AuditLog, Status
from puraify.auth import ADMIN_SCOPE, ON_BEHALF_SCOPE, Authenticator, Principal, hash_key, new_key
from puraify.cache import TtlCache
from puraify.clock import iso, now
from puraify.engine_control import models as m
from puraify.engine_control.check_counts import CheckCounter
from puraify.engine_control.decisions import Decision, decide
from puraify.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PuraifyError,
    UnavailableError,
    ValidationFailedError,
)


class EngineStore(Protocol):
    def get(self, engine_id: str) -> m.EngineRecord | None: ...
    def list(self) -> list[m.EngineRecord]: ...
    def create(self, record: m.EngineRecord) -> None: ...
    def update(self, record: m.EngineRecord, expected_key_hash: str, *, keep_admin: str | None = None) -> None: ...


class CatalogStore(Protocol):
    def load(self) -> m.Catalog: ...
    def put_platform(self, platform: m.Platform) -> None: ...
    def put_flag(self, flag: m.Flag) -> None: ...


def _counted(status: str) -> str:
    """A check's status as the console counts it: ``error`` (not decided) is ``failed``."""
    return "failed" if status == "error" else status


class Checked(NamedTuple):
    """One decided check: its audit record, its reply, and the error that stopped it (if one did)."""

    record: dict[str, Any]
    reply: dict[str, Any]  # an ActionCheckResponse's fields, in its order (tests compare it with the model)
    rule: str | None = None
    error: PuraifyError | None = None


class EngineControl:
    """Engine identities, the catalog, and the check; reads go through bounded-staleness caches."""

    def __init__(
        self,
        engines: EngineStore,
        catalog: CatalogStore,
        audit: AuditLog,
        authenticator: Authenticator,
        counter: CheckCounter,
        *,
        cache_ttl_seconds: float,
        rotation_grace_seconds: int,
        self_rotation_max_grace_seconds: int,
        api_version: str,
    ):
        self.engines = engines
        self.catalog_store = catalog
        self.audit = audit
        self.auth = authenticator
        self.counter = counter
        self.rotation_grace_seconds = rotation_grace_seconds
        self.self_rotation_max_grace_seconds = self_rotation_max_grace_seconds
        self.api_version = api_version
        self._catalog: TtlCache[str, m.Catalog] = TtlCache(cache_ttl_seconds)

    # --- engines -------------------------------------------------------------------------

    def register(self, caller: Principal, body: m.EngineRegisterRequest, request_id: str) -> m.EngineRegisterResponse:
        """Create an engine with a fresh key; the key is returned here and never again."""
        key = new_key()
        at = iso()
        record = m.EngineRecord(
            engine_id=body.engine_id,
            key_hash=hash_key(key),
            permissions=body.permissions,
            scopes=sorted(set(body.scopes)),
            projects=sorted(set(body.projects)),
            description=body.description,
            created_at=at,
            updated_at=at,
        )
        with self._admin_audit(caller, request_id, "register_engine", target=body.engine_id):
            self._known_actions(body.permissions)  # after the scope check: a non-admin learns nothing
            self.engines.create(record)
        self.auth.cache.invalidate(body.engine_id)
        return m.EngineRegisterResponse(
            engine_id=record.engine_id,
            engine_key=key,
            permissions=record.permissions,
            scopes=record.scopes,
            projects=record.projects,
            created_at=at,
        )

    def validate(self, caller: Principal) -> m.EngineValidateResponse:
        return m.EngineValidateResponse(
            valid=True,
            engine_id=caller.engine_id,
            permissions=caller.permissions,
            scopes=sorted(caller.scopes),
            projects=sorted(caller.projects),
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
        with self._admin_audit(
            caller, request_id, "rotate_key", target=engine_id, require_admin=not own, details={"grace_seconds": grace}
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
                    "updated_at": iso(),
                }
            )
            self.engines.update(updated, expected_key_hash=current.key_hash)
        self.auth.cache.invalidate(engine_id)
        return m.EngineRotateResponse(
            engine_id=engine_id, engine_key=key, previous_key_valid_until=iso(valid_until) if valid_until else None
        )

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
        with self._admin_audit(caller, request_id, "revoke_engine", target=engine_id):
            current = self._active_engine(engine_id)
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
            details={"permissions": body.permissions, "scopes": body.scopes, "projects": body.projects},
        ):
            self._known_actions(body.permissions)
            current = self._active_engine(engine_id)
            changes: dict[str, object] = {"permissions": body.permissions, "updated_at": iso()}
            if body.scopes is not None:
                changes["scopes"] = sorted(set(body.scopes))
            if body.projects is not None:
                changes["projects"] = sorted(set(body.projects))
            updated = current.model_copy(update=changes)
            self._write_keeping_an_admin(current, updated)
        self.auth.cache.invalidate(engine_id)
        return m.EnginePermissionsResponse(
            engine_id=engine_id,
            permissions=updated.permissions,
            scopes=updated.scopes,
            projects=updated.projects,
            updated_at=updated.updated_at,
        )

    def list_engines(self, caller: Principal) -> m.EngineListResponse:
        """Every engine, revoked ones included, sorted by id (admin only, never a key hash)."""
        caller.require(ADMIN_SCOPE)
        records = sorted(self.engines.list(), key=lambda r: r.engine_id)
        return m.EngineListResponse(engines=[_engine_view(r) for r in records])

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

    def _write_keeping_an_admin(self, current: m.EngineRecord, updated: m.EngineRecord) -> None:
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

    def _active_engine(self, engine_id: str) -> m.EngineRecord:
        record = self.engines.get(engine_id)
        if record is None or record.status != "active":
            raise NotFoundError(f"engine '{engine_id}' not found", code="engine_not_found")
        return record

    # --- checks --------------------------------------------------------------------------

    def check(self, caller: Principal, body: m.ActionCheckRequest, request_id: str) -> dict[str, Any]:
        """Decide and audit one action check: an ``ActionCheckResponse``'s fields, ready to serialise.

        Fails closed: an undecidable check raises 503. The reply is built from typed values, so it is
        not validated again (that was a tenth of a check); a test holds it to the model.
        """
        checked = self._decide(caller, body, request_id, now(), self.catalog)
        try:
            if checked.error is not None:
                with suppress(UnavailableError):  # the error being raised tells the caller; the line was written
                    self.audit.write(checked.record)
                self._count(checked.record, checked.rule)
                raise checked.error
            try:
                self.audit.write(checked.record)
            except PuraifyError:
                self._count(checked.record | {"status": "error"})  # an unaudited decision is not made
                raise
            self._count(checked.record, checked.rule)
            return checked.reply
        finally:
            self.counter.flush_if_due()

    def check_many(self, caller: Principal, body: m.ActionCheckBatchRequest, request_id: str) -> dict[str, Any]:
        """Decide up to 25 checks, audited in one store write; one result per check, in order
        (an ``ActionCheckBatchResponse``'s fields, like ``check``'s reply).

        A check the caller may not make (another engine's without ``checks:on_behalf``, an unknown engine) is
        a denial in its place. Fails closed as a whole: if one check cannot be decided, or the audit
        write fails, the batch raises 503 and every check is audited as an error.
        """
        at = now()
        catalog = functools.cache(self.catalog)  # one catalog and one read of each engine per batch
        engine = functools.cache(self.auth.engine)
        checked = [
            self._decide(caller, check, request_id, at, catalog, item, engine) for item, check in enumerate(body.checks)
        ]
        try:
            return self._answer_batch(checked, request_id)
        finally:
            self.counter.flush_if_due()

    def _answer_batch(self, checked: list[Checked], request_id: str) -> dict[str, Any]:
        failure = next((c.error for c in checked if c.error is not None and c.error.status not in (403, 404)), None)
        if failure is None:
            try:
                self.audit.write_many([c.record for c in checked])
            except PuraifyError as error:
                failure = error
        if failure is not None:
            reason = f"batch not decided: {failure.message}"
            failed = [c.record | {"status": "error", "reason": reason} for c in checked]
            with suppress(UnavailableError):
                self.audit.write_many(failed)
            for record in failed:
                self._count(record)
            raise failure
        self.counter.count_many([(c.record["timestamp"], _counted(c.record["status"]), c.rule) for c in checked])
        return {"results": [c.reply for c in checked], "request_id": request_id}

    def _decide(
        self,
        caller: Principal,
        body: m.ActionCheckRequest,
        request_id: str,
        at: float,
        catalog: Callable[[], m.Catalog],
        item: int | None = None,
        engine_of: Callable[[str], m.EngineRecord | None] | None = None,
    ) -> Checked:
        """The check's reply (a denial naming the error, if one stops it) and its audit record, not yet written.

        The record names the caller beside the checked engine and lives in the caller's partition, so
        it never moves another engine's ``last_seen_at``. A check refused before it is decided is
        filed under a project only if the caller holds that project (the project it asked for is kept
        in ``details``): a caller cannot write into another project's timeline.
        """
        engine_id = body.engine_id or caller.engine_id
        error: PuraifyError | None = None
        try:
            if engine_id != caller.engine_id and not caller.has_scope(ON_BEHALF_SCOPE):
                raise ForbiddenError(
                    f"checking another engine needs the '{ON_BEHALF_SCOPE}' scope", code="missing_scope"
                )
            if body.project_id is not None:
                caller.require_project(body.project_id)
            engine = (engine_of or self.auth.engine)(engine_id)
            if engine is None or engine.status != "active":
                raise NotFoundError(f"engine '{engine_id}' not found", code="engine_not_found")
            if body.project_id is not None and engine_id != caller.engine_id:
                Principal(engine_id=engine_id, projects=frozenset(engine.projects)).require_project(body.project_id)
            decision = decide(engine, catalog(), body.platform, body.action_type)
        except PuraifyError as failed:
            error = failed
            decision = Decision(False, failed.code, failed.message)
        project_id, flow_id = body.project_id, body.flow_id
        details: dict[str, Any] | None = {"rule": decision.rule} if decision.rule else None
        if error is None:
            status: Status = "allowed" if decision.allowed else "denied"
        else:
            status = "denied" if error.status in (403, 404) else "error"
            if project_id is not None and not caller.has_project(project_id):
                details = {"rule": decision.rule, "project_id": project_id, "flow_id": flow_id}
                project_id = flow_id = None
        record = self.audit.build(
            kind="check",
            request_id=request_id,
            engine_id=engine_id,
            caller_id=caller.engine_id,
            status=status,
            platform=body.platform,
            action_type=body.action_type,
            reason=decision.reason,
            project_id=project_id,
            flow_id=flow_id,
            details=details,
            at=at,
            item=item,
        )
        reply = {
            "allowed": decision.allowed,
            "required_scopes": decision.required_scopes,
            "reason": decision.reason,
            "rule": decision.rule,
            "engine_id": engine_id,
            "platform": body.platform,
            "action_type": body.action_type,
            "request_id": request_id,
        }
        return Checked(record, reply, decision.rule, error)

    def _count(self, record: dict[str, Any], rule: str | None = None) -> None:
        self.counter.count(record["timestamp"], _counted(record["status"]), rule)

    # --- catalog -------------------------------------------------------------------------

    def catalog(self) -> m.Catalog:
        """The catalog as this process sees it: at most ``cache_ttl_seconds`` old."""
        return self._catalog.get("catalog", lambda _: self.catalog_store.load())

    def forget_cached(self) -> None:
        """Drop the cached catalog (the next check reads it again)."""
        self._catalog.invalidate()

    def list_platforms(self) -> m.PlatformListResponse:
        platforms = self.catalog().platforms
        return m.PlatformListResponse(
            platforms=[m.PlatformView.model_validate(platforms[name].model_dump()) for name in sorted(platforms)]
        )

    def put_platform(self, caller: Principal, name: str, body: m.PlatformPutRequest, request_id: str) -> m.PlatformView:
        platform = m.Platform(name=name, updated_at=iso(), updated_by=caller.engine_id, **body.model_dump())
        with self._admin_audit(
            caller, request_id, "put_platform", target=name, platform=name, details={"status": body.status}
        ):
            self.catalog_store.put_platform(platform)
        self._catalog.invalidate()
        return m.PlatformView.model_validate(platform.model_dump())

    def global_config(self) -> m.GlobalConfigResponse:
        catalog = self.catalog()
        versions = {"control_plane": self.api_version}
        versions.update({name: p.api_version for name, p in sorted(catalog.platforms.items())})
        return m.GlobalConfigResponse(
            api_version=self.api_version,
            api_versions=versions,
            feature_flags={
                name: m.FlagView.model_validate(flag.model_dump()) for name, flag in sorted(catalog.flags.items())
            },
        )

    def put_flag(self, caller: Principal, name: str, body: m.FlagPutRequest, request_id: str) -> m.FlagView:
        """Create or replace a flag. ``enabled`` means what the flag targets may run; off switches it off.

        A flag targets a catalog platform, or one of its actions; the only flag without a target is
        ``deployments`` (the deployment gate's: off is a change freeze on protected environments).
        """
        flag = m.Flag(name=name, updated_at=iso(), updated_by=caller.engine_id, **body.model_dump())
        with self._admin_audit(
            caller, request_id, "put_flag", target=name, platform=body.platform, details={"enabled": body.enabled}
        ):
            self._flag_target(name, body)
            self.catalog_store.put_flag(flag)
        self._catalog.invalidate()
        return m.FlagView.model_validate(flag.model_dump())

    def _flag_target(self, name: str, body: m.FlagPutRequest) -> None:
        def invalid(message: str, field: str, code: str) -> ValidationFailedError:
            return ValidationFailedError(message, code=code, details=[{"field": field, "message": message}])

        if name == m.DEPLOYMENTS_FLAG:
            if body.platform or body.action_type:
                raise invalid("the 'deployments' flag targets deployments, not a platform", "body.platform",
                              "flag_target_invalid")  # fmt: skip
            return
        if not body.platform:
            raise invalid(
                "a flag targets a platform (and optionally one of its actions); the only flag without a target "
                f"is '{m.DEPLOYMENTS_FLAG}' (off: a change freeze on protected environments)",
                "body.platform",
                "flag_target_required",
            )
        spec = self.catalog_store.load().platforms.get(body.platform)
        if spec is None:
            raise invalid(f"unknown platform '{body.platform}'", "body.platform", "unknown_platform")
        if body.action_type and body.action_type not in spec.actions:
            raise invalid(
                f"unknown action '{body.action_type}' on '{body.platform}'", "body.action_type", "unknown_action"
            )

    # --- audit ---------------------------------------------------------------------------

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
    ) -> Iterator[None]:
        """Audit an admin change once it happened (allowed) or failed (denied, error)."""
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
            yield
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


def _is_admin(record: m.EngineRecord) -> bool:
    return record.status == "active" and ADMIN_SCOPE in record.scopes


def _engine_view(record: m.EngineRecord, *, last_seen_at: str | None = None) -> m.EngineView:
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
    )
