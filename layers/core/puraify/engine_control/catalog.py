"""The catalog: platforms, their status, and feature flags, changed by admins and read by every check."""

from __future__ import annotations

from puraify.auth import Principal
from puraify.clock import iso, now
from puraify.contract import DEPLOYMENTS_FLAG
from puraify.engine_control import models as m
from puraify.engine_control.base import EngineControlBase
from puraify.engine_control.maintenance import summary
from puraify.engine_control.records import Flag, Platform
from puraify.errors import (
    NotFoundError,
    ValidationFailedError,
)
from puraify.versions import SUPPORTED


def platform_view(platform: Platform, at: float) -> m.PlatformView:
    return m.PlatformView(
        name=platform.name,
        status=platform.status,
        api_version=platform.api_version,
        actions=platform.actions,
        updated_at=platform.updated_at,
        updated_by=platform.updated_by,
        maintenance=summary(platform, at),
    )


class CatalogAdmin(EngineControlBase):
    def list_platforms(self) -> m.PlatformListResponse:
        """Every platform with its status and its current and next maintenance window."""
        platforms = self.catalog().platforms
        at = now()
        return m.PlatformListResponse(platforms=[platform_view(platforms[name], at) for name in sorted(platforms)])

    def put_platform(self, caller: Principal, name: str, body: m.PlatformPutRequest, request_id: str) -> m.PlatformView:
        """Admin: create or replace a platform; its scheduled maintenance windows are kept."""
        platform = Platform(name=name, updated_at=iso(), updated_by=caller.engine_id, **body.model_dump())
        with self._admin_audit(
            caller, request_id, "put_platform", target=name, platform=name, details={"status": body.status}
        ) as change:
            current = self.catalog_store.load().platforms.get(name)
            platform.windows = [w for w in current.windows if w.ends_epoch > now()] if current else []
            self.catalog_store.put_platform(platform)
            change.update(before={"status": current.status} if current else None, after={"status": body.status})
        self._catalog.invalidate()
        return platform_view(platform, now())

    def patch_platform(
        self, caller: Principal, name: str, body: m.PlatformPatchRequest, request_id: str
    ) -> m.PlatformView:
        """Change the named fields of an existing platform (a status change keeps its actions and API
        version); 404 ``platform_not_found`` when the catalog has no such platform."""
        changes = body.model_dump(exclude_none=True)
        with self._admin_audit(
            caller, request_id, "patch_platform", target=name, platform=name, details={"changed": sorted(changes)}
        ) as change:
            current = self.catalog_store.load().platforms.get(name)
            if current is None:
                raise NotFoundError(
                    f"platform '{name}' not found: create it with PUT /platforms/{name} "
                    "(status, api_version and actions)",
                    code="platform_not_found",
                )
            platform = current.model_copy(update={**changes, "updated_at": iso(), "updated_by": caller.engine_id})
            platform = Platform.model_validate(platform.model_dump())
            self.catalog_store.put_platform(platform)
            fields = [f for f in ("status", "api_version") if f in changes]
            change.update(
                before={f: getattr(current, f) for f in fields}, after={f: getattr(platform, f) for f in fields}
            )
        self._catalog.invalidate()
        return platform_view(platform, now())

    def global_config(self) -> m.GlobalConfigResponse:
        catalog = self.catalog()
        at = now()
        versions = {"control_plane": self.api_version}
        versions.update({name: p.api_version for name, p in sorted(catalog.platforms.items())})
        return m.GlobalConfigResponse(
            api_version=self.api_version,
            api_versions=versions,
            supported_versions=list(SUPPORTED),
            feature_flags={
                name: m.FlagView.model_validate({**flag.model_dump(), "enabled": flag.enabled_at(at)})
                for name, flag in sorted(catalog.flags.items())
            },
        )

    def put_flag(self, caller: Principal, name: str, body: m.FlagPutRequest, request_id: str) -> m.FlagView:
        """Create or replace a flag. ``enabled`` means what the flag targets may run; off switches it off.

        A flag targets a catalog platform, or one of its actions; the only flag without a target is
        ``deployments`` (the deployment gate's: off is a change freeze on protected environments).
        """
        flag = Flag(name=name, updated_at=iso(), updated_by=caller.engine_id, **body.model_dump())
        with self._admin_audit(
            caller, request_id, "put_flag", target=name, platform=body.platform, details={"enabled": body.enabled}
        ) as change:
            self._flag_target(name, body)
            current = self.catalog_store.load().flags.get(name)
            if current is not None:  # a PUT keeps the flag's scheduled changes
                flag.schedule, flag.revision = current.schedule, current.revision
            self.catalog_store.put_flag(flag)
            change.update(before=_flag_state(current), after=_flag_state(flag))
        self._catalog.invalidate()
        return m.FlagView.model_validate(flag.model_dump())

    def _flag_target(self, name: str, body: m.FlagPutRequest) -> None:
        def invalid(message: str, field: str, code: str) -> ValidationFailedError:
            return ValidationFailedError(message, code=code, details=[{"field": field, "message": message}])

        if name == DEPLOYMENTS_FLAG:
            if body.platform or body.action_type:
                raise invalid("the 'deployments' flag targets deployments, not a platform", "body.platform",
                              "flag_target_invalid")  # fmt: skip
            return
        if not body.platform:
            raise invalid(
                "a flag targets a platform (and optionally one of its actions); the only flag without a target "
                f"is '{DEPLOYMENTS_FLAG}' (off: a change freeze on protected environments)",
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


def _flag_state(flag: Flag | None) -> dict[str, object] | None:
    if flag is None:
        return None
    return {"enabled": flag.enabled, "platform": flag.platform, "action_type": flag.action_type}
