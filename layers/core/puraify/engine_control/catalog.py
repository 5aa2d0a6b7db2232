"""The catalog: platforms, their status, and feature flags, changed by admins and read by every check."""

from __future__ import annotations

from puraify.auth import Principal
from puraify.clock import iso
from puraify.contract import DEPLOYMENTS_FLAG
from puraify.engine_control import models as m
from puraify.engine_control.base import EngineControlBase
from puraify.engine_control.records import Flag, Platform
from puraify.errors import (
    NotFoundError,
    ValidationFailedError,
)


class CatalogAdmin(EngineControlBase):
    def list_platforms(self) -> m.PlatformListResponse:
        platforms = self.catalog().platforms
        return m.PlatformListResponse(
            platforms=[m.PlatformView.model_validate(platforms[name].model_dump()) for name in sorted(platforms)]
        )

    def put_platform(self, caller: Principal, name: str, body: m.PlatformPutRequest, request_id: str) -> m.PlatformView:
        platform = Platform(name=name, updated_at=iso(), updated_by=caller.engine_id, **body.model_dump())
        with self._admin_audit(
            caller, request_id, "put_platform", target=name, platform=name, details={"status": body.status}
        ):
            self.catalog_store.put_platform(platform)
        self._catalog.invalidate()
        return m.PlatformView.model_validate(platform.model_dump())

    def patch_platform(
        self, caller: Principal, name: str, body: m.PlatformPatchRequest, request_id: str
    ) -> m.PlatformView:
        """Change the named fields of an existing platform (a status change keeps its actions and API
        version); 404 ``platform_not_found`` when the catalog has no such platform."""
        changes = body.model_dump(exclude_none=True)
        with self._admin_audit(
            caller, request_id, "patch_platform", target=name, platform=name, details={"changed": sorted(changes)}
        ):
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
        flag = Flag(name=name, updated_at=iso(), updated_by=caller.engine_id, **body.model_dump())
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
