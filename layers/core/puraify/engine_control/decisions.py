"""The action check as a pure function: may this engine do this action on this platform now?

Rules, in order (the first that denies is the reason given):
1. the platform and the action must be in the catalog (``unknown_platform``, ``unknown_action``);
2. the engine must be granted the action (``not_granted``): nothing is allowed implicitly;
3. the platform must be ``available`` (``platform_maintenance``, ``platform_disabled``) and in no scheduled
   maintenance window at the time of the check (``platform_maintenance``, with the window's reason): the
   windows are in the cached catalog before they start, so this needs no cache refresh;
4. no disabled feature flag may target the action or its whole platform (``flag_disabled``); a flag's
   scheduled changes are in the cached catalog before their time, so its state is taken at the check's time.
Permissions come before platform state so an engine learns nothing about platforms it may not use.

Before these, the check itself establishes that the engine is active and holds the project it
names; ``evaluate`` does all of it for a stored engine record (capabilities, simulate).

``decide`` takes an optional ``steps`` list: given one, it appends each rule it evaluated as
``(rule, outcome, detail)`` (the explanation of ``explain: true``); without one it pays a None test per rule.
"""

from __future__ import annotations

from typing import NamedTuple

from puraify.auth import SUSPENDED
from puraify.engine_control.records import Catalog, EngineRecord

ALL_PROJECTS = "*"
Step = tuple[str, str, str]  # (rule, "pass" | "fail" | "not_evaluated", detail)
# Every step of a check, in evaluation order (the names of the explanation's steps).
STEPS = ("engine_active", "project_grant", "platform_known", "action_known", "permission", "platform_available",
         "flags")  # fmt: skip


class Decision(NamedTuple):  # a tuple: made for every check, at a third of a frozen dataclass's cost
    allowed: bool
    rule: str | None = None
    reason: str | None = None
    required_scopes: tuple[str, ...] = ()


def decide(
    engine: EngineRecord,
    catalog: Catalog,
    platform: str,
    action_type: str,
    at: float = 0.0,
    steps: list[Step] | None = None,
) -> Decision:
    """Evaluate the rules above; never raises for unknown names, it denies."""
    spec = catalog.platforms.get(platform)
    if spec is None:
        if steps is not None:
            steps.append(("platform_known", "fail", f"platform '{platform}' is not in the catalog"))
        return Decision(False, "unknown_platform", f"unknown platform '{platform}'")
    action = spec.actions.get(action_type)
    if action is None:
        if steps is not None:
            steps.append(("platform_known", "pass", f"platform '{platform}' is in the catalog"))
            steps.append(("action_known", "fail", f"action '{action_type}' is not one of '{platform}''s actions"))
        return Decision(False, "unknown_action", f"unknown action '{action_type}' on platform '{platform}'")
    scopes = tuple(action.required_scopes)
    granted = action_type in engine.permissions.get(platform, ())
    if steps is not None:
        steps.append(("platform_known", "pass", f"platform '{platform}' is in the catalog"))
        steps.append(("action_known", "pass", f"action '{action_type}' is one of '{platform}''s actions"))
        held = ", ".join(engine.permissions.get(platform, ())) or "none"
        steps.append(
            ("permission", "pass" if granted else "fail", f"engine '{engine.engine_id}' holds on '{platform}': {held}")
        )
    if not granted:
        return Decision(
            False,
            "not_granted",
            f"action '{action_type}' on '{platform}' is not granted to engine '{engine.engine_id}'",
            scopes,
        )
    if spec.status != "available":
        if steps is not None:
            steps.append(("platform_available", "fail", f"platform '{platform}' is {spec.status}"))
        return Decision(False, f"platform_{spec.status}", f"platform '{platform}' is in {spec.status}", scopes)
    if spec.windows:
        window = spec.window_at(at)
        if window is not None:
            reason = f"platform '{platform}' is in maintenance until {window.ends_at}: {window.reason}"
            if steps is not None:
                steps.append(("platform_available", "fail", reason))
            return Decision(False, "platform_maintenance", reason, scopes)
    if steps is not None:
        steps.append(("platform_available", "pass", f"platform '{platform}' is available"))
    for flag in catalog.flags.values():
        if flag.platform != platform or (flag.enabled if not flag.schedule else flag.enabled_at(at)):
            continue
        if flag.action_type is None or flag.action_type == action_type:
            if steps is not None:
                steps.append(("flags", "fail", f"flag '{flag.name}' is off and targets {_target(flag.action_type)}"))
            return Decision(False, "flag_disabled", f"disabled by flag '{flag.name}'", scopes)
    if steps is not None:
        targeting = sorted(
            f.name for f in catalog.flags.values() if f.platform == platform and f.action_type in (None, action_type)
        )
        on = f"on: {', '.join(targeting)}" if targeting else "none targets it"
        steps.append(("flags", "pass", f"no flag targeting '{platform}' or '{action_type}' is off ({on})"))
    return Decision(True, None, None, scopes)


def _target(action_type: str | None) -> str:
    return "the whole platform" if action_type is None else f"action '{action_type}'"


def evaluate(
    engine_id: str,
    engine: EngineRecord | None,
    catalog: Catalog,
    platform: str,
    action_type: str,
    project_id: str | None = None,
    steps: list[Step] | None = None,
    at: float = 0.0,
) -> Decision:
    """The check for a stored engine record: the engine is active, holds ``project_id`` (when one is named),
    then ``decide``. What the check's caller may ask (on-behalf scope, its own grants) is not part of it."""
    if engine is None or engine.status != "active":
        if steps is not None:
            steps.append(("engine_active", "fail", f"engine '{engine_id}' is not registered, or is revoked"))
        return Decision(False, "engine_not_found", f"engine '{engine_id}' not found")
    if engine.suspended is not None:  # checked on its behalf too: a suspended engine may do nothing
        if steps is not None:
            steps.append(("engine_active", "fail", f"engine '{engine_id}' is suspended"))
        return Decision(False, SUSPENDED, f"engine '{engine_id}' is suspended")
    if steps is not None:
        steps.append(("engine_active", "pass", f"engine '{engine.engine_id}' is active"))
    if project_id is not None:
        held = ALL_PROJECTS in engine.projects or project_id in engine.projects
        if steps is not None:
            detail = f"engine '{engine.engine_id}' {'holds' if held else 'does not hold'} project '{project_id}'"
            steps.append(("project_grant", "pass" if held else "fail", detail))
        if not held:
            return Decision(
                False,
                "project_not_granted",
                f"engine '{engine.engine_id}' is not granted project '{project_id}'",
            )
    elif steps is not None:
        steps.append(("project_grant", "not_evaluated", "the check names no project"))
    return decide(engine, catalog, platform, action_type, at, steps)


def explanation(
    decision: Decision, steps: list[Step], engine: EngineRecord | None, catalog: Catalog | None
) -> dict[str, object]:
    """The ``explanation`` of a check: its steps in evaluation order (the ones after a failure ``not_evaluated``),
    the deciding rule (None when allowed), and the revisions of the engine record and catalog it read."""
    done = {rule for rule, _, _ in steps}
    rows = [{"rule": rule, "outcome": outcome, "detail": detail} for rule, outcome, detail in steps]
    rows += [
        {"rule": rule, "outcome": "not_evaluated", "detail": "an earlier step decided the check"}
        for rule in STEPS
        if rule not in done
    ]
    return {
        "decided_by": None if decision.allowed else decision.rule,
        "steps": rows,
        "engine_revision": engine.updated_at if engine is not None else None,
        "catalog_revision": catalog_revision(catalog) if catalog is not None else None,
    }


def catalog_revision(catalog: Catalog) -> str | None:
    """The time of the catalog's newest change (a platform's or a flag's ``updated_at``): which catalog was read."""
    times = [p.updated_at for p in catalog.platforms.values()] + [f.updated_at for f in catalog.flags.values()]
    return max((t for t in times if t), default=None)
