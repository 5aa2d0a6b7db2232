"""The engine watch: once a minute the Planning Engine judges every engine that called lately.

Its input is what the check path already stores, never a scan: the AggregatesTable's per-minute CHECKS
items (one item a minute) hold ``engine#<id>#checks``, ``engine#<id>#denied``, ``engine#<id>#limited``
(its 429s) and ``engine#<id>#auth_failed`` (401s of requests naming it) for each calling engine. The
pass reads the current and the previous minute (one Query) and asks the active bundle's ``engine_anomaly``
rule (phase ``engine_watch``, thresholds in the bundle's ``data.gate.engine_anomaly``) about each engine's
minute. Reading the current minute too is what bounds the delay: counts reach the store within the check
counter's flush interval (5 s), and the schedule runs every minute, so a burst is judged at most about 65 s
after it.

An anomalous engine gets one ``engine_anomaly`` alert (severity high) naming it and its numbers: at most
one unresolved per engine, whatever the number of passes or minutes it keeps misbehaving. With
``on_anomaly: "suspend"`` in the data the engine is also suspended, through Engine Control's own suspend:
audited (by ``planning``, with the reasons), and refused with 409 ``last_admin`` for the last active admin,
who then keeps working and only the alert is raised. Failed authentications alone never suspend (the rule
lists them in its ``notes``): whoever knows an engine's id can fail its authentication. An operator undoes it with
``POST /engines/{engine_id}/reinstate`` (``puraify engines reinstate``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from puraify.clock import iso, now
from puraify.errors import PuraifyError
from puraify.observability import logger
from puraify.planning.ports import EngineAlert, EngineCounters, Suspend
from puraify.planning.rego import CompiledPolicy, PolicyEvaluationError

COUNTERS = ("checks", "denied", "limited", "auth_failed")
PREFIX = "engine#"


@dataclass(frozen=True)
class Anomaly:
    engine_id: str
    minute: str
    counts: dict[str, int]
    reasons: list[str]
    alerted: bool
    suspended: bool


def engine_minutes(items: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, int]]]:
    """``(minute, engine_id, {"checks", "denied", "limited"})`` for each engine in each CHECKS minute item."""
    found: list[tuple[str, str, dict[str, int]]] = []
    for item in items:
        minute = str(item.get("sk", ""))[len("MIN#") :]
        engines: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
        for name, value in item.items():
            if not name.startswith(PREFIX):
                continue
            engine_id, _, counter = name[len(PREFIX) :].rpartition("#")
            if engine_id and counter in COUNTERS:
                engines[engine_id][counter] = int(value)
        found.extend((minute, engine_id, counts) for engine_id, counts in sorted(engines.items()))
    return found


class EngineWatch:
    def __init__(
        self,
        *,
        policy: Callable[[], CompiledPolicy | None],
        counters: EngineCounters,
        alert: EngineAlert,
        suspend: Suspend | None,
        budget_seconds: float,
    ):
        self.policy = policy
        self.counters = counters
        self.alert = alert
        self.suspend = suspend
        self.budget = budget_seconds

    def run(self, at: float | None = None) -> list[Anomaly]:
        """Judge the current and the previous minute's engines; raise (and, opted in, suspend) the anomalous."""
        at = now() if at is None else at
        policy = self.policy()
        if policy is None:
            logger.warning("engine watch skipped: no active policy")
            return []
        settings = policy.data.get("gate", {}).get("engine_anomaly", {})
        on_anomaly = settings.get("on_anomaly", "alert") if isinstance(settings, dict) else "alert"
        items = self.counters.minutes(iso(at - 60)[:16], iso(at)[:16])
        found = []
        for minute, engine_id, counts in engine_minutes(items):
            document = {
                "deployment": {"phase": "engine_watch"},
                "engine": {"engine_id": engine_id, "minute": minute, **counts},
            }
            try:
                result = policy.evaluate(document, self.budget)
            except PolicyEvaluationError as error:
                logger.warning(
                    "engine watch could not judge an engine", extra={"engine_id": engine_id, "error": str(error)}
                )
                continue
            if result.allow:
                continue
            own = [reason for reason in result.deny if reason not in result.notes]  # not failed authentications
            found.append(self._act(engine_id, minute, counts, result.deny, on_anomaly if own else "alert"))
        return found

    def _act(self, engine_id: str, minute: str, counts: dict[str, int], reasons: list[str], on_anomaly: str) -> Anomaly:
        message = "; ".join(reasons)
        raised = self.alert(
            engine_id=engine_id,
            event_type="engine_anomaly",
            severity="high",
            message=message[:1000],
            details={"minute": minute, **counts, "reasons": reasons, "on_anomaly": on_anomaly},
        )
        suspended = False
        if raised is not None and on_anomaly == "suspend" and self.suspend is not None:
            try:
                self.suspend(engine_id, f"engine_anomaly: {message}"[:512])
                suspended = True
            except PuraifyError as error:  # 409 last_admin: the last admin keeps working, the alert stands
                logger.warning("engine_anomaly did not suspend", extra={"engine_id": engine_id, "error": error.code})
        return Anomaly(engine_id, minute, counts, reasons, alerted=raised is not None, suspended=suspended)
