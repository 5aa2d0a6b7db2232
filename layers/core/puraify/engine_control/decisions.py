"""The action check as a pure function: may this engine do this action on this platform now?

Rules, in order (the first that denies is the reason given):
1. the platform and the action must be in the catalog (``unknown_platform``, ``unknown_action``);
2. the engine must be granted the action (``not_granted``): nothing is allowed implicitly;
3. the platform must be ``available`` (``platform_maintenance``, ``platform_disabled``) and in no scheduled
   maintenance window at the time of the check (``platform_maintenance``, with the window's reason): the
   windows are in the cached catalog before they start, so this needs no cache refresh;
4. no disabled feature flag may target the action or its whole platform (``flag_disabled``).
Permissions come before platform state so an engine learns nothing about platforms it may not use.
"""

from __future__ import annotations

from typing import NamedTuple

from puraify.engine_control.records import Catalog, EngineRecord


class Decision(NamedTuple):  # a tuple: made for every check, at a third of a frozen dataclass's cost
    allowed: bool
    rule: str | None = None
    reason: str | None = None
    required_scopes: tuple[str, ...] = ()


def decide(engine: EngineRecord, catalog: Catalog, platform: str, action_type: str, at: float = 0.0) -> Decision:
    """Evaluate the rules above; never raises for unknown names, it denies."""
    spec = catalog.platforms.get(platform)
    if spec is None:
        return Decision(False, "unknown_platform", f"unknown platform '{platform}'")
    action = spec.actions.get(action_type)
    if action is None:
        return Decision(False, "unknown_action", f"unknown action '{action_type}' on platform '{platform}'")
    scopes = tuple(action.required_scopes)
    if action_type not in engine.permissions.get(platform, ()):
        return Decision(
            False,
            "not_granted",
            f"action '{action_type}' on '{platform}' is not granted to engine '{engine.engine_id}'",
            scopes,
        )
    if spec.status != "available":
        return Decision(False, f"platform_{spec.status}", f"platform '{platform}' is in {spec.status}", scopes)
    if spec.windows:
        window = spec.window_at(at)
        if window is not None:
            reason = f"platform '{platform}' is in maintenance until {window.ends_at}: {window.reason}"
            return Decision(False, "platform_maintenance", reason, scopes)
    for flag in catalog.flags.values():
        if flag.enabled or flag.platform != platform:
            continue
        if flag.action_type is None or flag.action_type == action_type:
            return Decision(False, "flag_disabled", f"disabled by flag '{flag.name}'", scopes)
    return Decision(True, None, None, scopes)
