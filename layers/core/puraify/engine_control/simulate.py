"""What if: the audited checks of a window replayed through the check's own rules, with a change applied.

The change (an engine's permissions, scopes or grants; platform statuses; flags) is validated as the
real change is (the same 422s and 404s) and applied to in-memory copies of the engine records and the
catalog; nothing is written but the simulation's own audit record. ``before`` is each check decided
by today's rules, ``after`` by today's rules with the change, so a flip is the change's alone.
The records come from the audit table's indexes by Query (``by_subject`` for the engine's checks,
``by_platform`` for every engine's checks on a changed platform), at most ``MAX_SIMULATE_RECORDS``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from puraify.auth import ADMIN_SCOPE, ON_BEHALF_SCOPE, Principal
from puraify.clock import iso, now, parse_time
from puraify.engine_control import models as m
from puraify.engine_control.catalog import CatalogAdmin
from puraify.engine_control.decisions import ALL_PROJECTS, Decision, evaluate
from puraify.engine_control.engines import Engines
from puraify.engine_control.records import Catalog, EngineRecord, Flag, Platform
from puraify.errors import ValidationFailedError

MAX_SIMULATE_RECORDS = 50_000  # audit records one simulation reads at most (then ``truncated``)
MAX_EXAMPLES = 20


class Simulation(Engines, CatalogAdmin):
    def simulate(self, caller: Principal, body: m.SimulateRequest, request_id: str) -> m.SimulateResponse:
        """Replay the window's audited checks with and without ``body.change`` (admin only)."""
        change = body.change
        until = body.until if body.until is not None else now()
        since = body.since if body.since is not None else until - m.DEFAULT_SIMULATE_WINDOW_SECONDS
        target = change.engine.engine_id if change.engine else ",".join(sorted({*change.platforms, *change.flags}))
        with self._admin_audit(caller, request_id, "simulate", target=target) as audit_details:
            caller.require_all_projects(": a simulation replays every project's checks")
            if until - since > m.MAX_SIMULATE_WINDOW_SECONDS or until <= since:
                field = "body.since" if body.since is not None else "body.until"
                message = "the window is at most 7 days, and until is after since"
                raise ValidationFailedError(
                    message, code="invalid_window", details=[{"field": field, "message": message}]
                )
            engines = {record.engine_id: record for record in self.engines.list()}
            catalog = self.catalog_store.load()
            changed_engines, changed_catalog = dict(engines), catalog.model_copy(deep=True)
            if change.engine is not None:
                changed_engines[change.engine.engine_id] = self._changed_engine(change.engine)
            platforms = self._apply_platforms(change, changed_catalog)
            records, truncated = self._records(change, platforms, iso(since), iso(until))
            result = _replay(records, (engines, catalog), (changed_engines, changed_catalog))
            result.update(truncated=truncated, records_read=len(records), max_records=MAX_SIMULATE_RECORDS,
                          since=iso(since), until=iso(until))  # fmt: skip
            audit_details["result"] = {k: result[k] for k in ("replayed", "allow_to_deny", "deny_to_allow")}
        return m.SimulateResponse.model_validate(result)

    def _changed_engine(self, engine: m.SimulatedEngine) -> EngineRecord:
        """The engine with the change, checked as ``PUT /engines/{id}/permissions`` checks it (404, 422)."""
        current = self._active_engine(engine.engine_id)
        changes: dict[str, object] = {}
        if engine.permissions is not None:
            with _fields_under("body.change.engine."):
                self._known_actions(engine.permissions)
            changes["permissions"] = engine.permissions
        if engine.scopes is not None:
            changes["scopes"] = sorted(set(engine.scopes))
        if engine.projects is not None:
            changes["projects"] = sorted(set(engine.projects))
        return current.model_copy(update=changes)

    def _apply_platforms(self, change: m.SimulatedChange, catalog: Catalog) -> set[str]:
        """Apply the platform and flag changes to ``catalog``; returns the platforms whose checks they touch."""
        touched = set(change.platforms)
        for name, platform in change.platforms.items():
            spec = catalog.platforms.get(name) or Platform(name=name)
            catalog.platforms[name] = spec.model_copy(update={"status": platform.status})
        for name, flag in change.flags.items():
            current = catalog.flags.get(name)
            target = {"platform": flag.platform, "action_type": flag.action_type}
            if flag.platform is None and current is not None:  # switching an existing flag keeps its target
                target = {"platform": current.platform, "action_type": current.action_type}
            put = m.FlagPutRequest(enabled=flag.enabled, **target)
            with _fields_under(f"body.change.flags.{name}."):
                self._flag_target(name, put)
            catalog.flags[name] = Flag(name=name, enabled=flag.enabled, **target)
            touched |= {p for p in (put.platform, current.platform if current else None) if p}
        return touched

    def _records(
        self, change: m.SimulatedChange, platforms: set[str], since: str, until: str
    ) -> tuple[list[dict[str, Any]], bool]:
        """The window's check records the change can touch, newest first per source, at most the bound."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        budget, truncated = MAX_SIMULATE_RECORDS, False
        sources = [("engine", change.engine.engine_id)] if change.engine else []
        sources += [("platform", name) for name in sorted(platforms)]
        for kind, name in sources:
            if budget <= 0:
                truncated = True
                break
            if kind == "engine":
                page = self.audit.store.checks_about(name, since=since, until=until, limit=budget + 1, replayed=True)
            else:
                page = self.audit.store.checks_on(name, since=since, until=until, limit=budget + 1)
            if len(page) > budget:
                truncated, page = True, page[:budget]
            for record in page:
                found[(record["pk"], record["sk"])] = record
            budget -= len(page)
        return list(found.values()), truncated


@contextmanager
def _fields_under(prefix: str) -> Iterator[None]:
    """Name a real change's 422 fields (``body.permissions.x``) where the simulation's body has them."""
    try:
        yield
    except ValidationFailedError as error:
        error.details = [
            {**d, "field": prefix + d["field"].removeprefix("body.")} if "field" in d else d for d in error.details
        ]
        raise


State = tuple[dict[str, EngineRecord], Catalog]


def _replay(records: list[dict[str, Any]], before: State, after: State) -> dict[str, Any]:
    """Count the flips. A check's decision depends only on who asked, about which engine, what and in which
    project, and on its time where a maintenance window or a flag schedule can apply: so each distinct
    question is decided once per state (10,000 checks of a busy engine are a few dozen questions)."""
    counts: Counter[str] = Counter()
    flips: dict[tuple[str, str, str | None], Counter[str]] = {}
    examples: list[dict[str, Any]] = []
    timed = _timed_platforms(before[1]) | _timed_platforms(after[1])
    decided: dict[tuple[Any, ...], tuple[Decision, Decision]] = {}
    for record in sorted(records, key=lambda r: r["sk"], reverse=True):
        if record.get("status") not in ("allowed", "denied"):
            counts["not_replayed"] += 1
            continue
        project_id = record.get("project_id") or (record.get("details") or {}).get("project_id")
        platform = record["platform"]
        question = (record["engine_id"], record.get("caller_id"), platform, record["action_type"], project_id)
        if platform in timed:  # decided at the check's own time: no two are alike
            old, new = _decide(record, project_id, *before), _decide(record, project_id, *after)
        elif (pair := decided.get(question)) is not None:
            old, new = pair
        else:
            old, new = decided[question] = (_decide(record, project_id, *before), _decide(record, project_id, *after))
        counts["replayed"] += 1
        if old.allowed == new.allowed:
            counts["unchanged"] += 1
            continue
        direction = "allow_to_deny" if old.allowed else "deny_to_allow"
        counts[direction] += 1
        key = (platform, record["action_type"], project_id)
        flips.setdefault(key, Counter())[direction] += 1
        if len(examples) < MAX_EXAMPLES:
            examples.append(
                {
                    "request_id": record["request_id"],
                    "timestamp": record["timestamp"],
                    "engine_id": record["engine_id"],
                    "platform": platform,
                    "action_type": record["action_type"],
                    "project_id": project_id,
                    "before": "allowed" if old.allowed else "denied",
                    "after": "allowed" if new.allowed else "denied",
                    "rule": new.rule if old.allowed else old.rule,
                }
            )
    by_action = [
        {"platform": p, "action_type": a, "project_id": project, "allow_to_deny": c["allow_to_deny"],
         "deny_to_allow": c["deny_to_allow"]}
        for (p, a, project), c in sorted(flips.items(), key=lambda kv: (-sum(kv[1].values()), str(kv[0])))
    ]  # fmt: skip
    return {
        "replayed": counts["replayed"],
        "unchanged": counts["unchanged"],
        "allow_to_deny": counts["allow_to_deny"],
        "deny_to_allow": counts["deny_to_allow"],
        "not_replayed": counts["not_replayed"],
        "by_action": by_action,
        "examples": examples,
    }


def _timed_platforms(catalog: Catalog) -> set[str]:
    """The platforms whose checks depend on their time: a maintenance window, or a flag with a schedule."""
    windowed = {name for name, spec in catalog.platforms.items() if spec.windows}
    return windowed | {flag.platform for flag in catalog.flags.values() if flag.schedule and flag.platform}


def _decide(
    record: dict[str, Any], project_id: str | None, engines: dict[str, EngineRecord], catalog: Catalog
) -> Decision:
    """One audited check decided again: the caller's standing (checking another engine), then the check."""
    engine_id = record["engine_id"]
    caller_id = record.get("caller_id") or engine_id
    if caller_id != engine_id:
        caller = engines.get(caller_id)
        if caller is None or caller.status != "active":
            return Decision(False, "engine_not_found", f"engine '{caller_id}' not found")
        if ADMIN_SCOPE not in caller.scopes and ON_BEHALF_SCOPE not in caller.scopes:
            return Decision(False, "missing_scope", f"checking another engine needs the '{ON_BEHALF_SCOPE}' scope")
        if project_id is not None and ALL_PROJECTS not in caller.projects and project_id not in caller.projects:
            return Decision(False, "project_not_granted", f"engine '{caller_id}' is not granted project '{project_id}'")
    at = parse_time(record["timestamp"])  # a maintenance window counts at the time the check was made
    return evaluate(
        engine_id, engines.get(engine_id), catalog, record["platform"], record["action_type"], project_id, at=at
    )
