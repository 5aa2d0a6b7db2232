"""The Planning Engine's operations: collect facts, decide deployments, publish and report policy.

A decision never allows when it cannot be made properly: a stale or missing fact, an unavailable
provider, no active policy, an evaluation error or an evaluation past the decision budget each force
``allow: false`` (outcome ``deny``, or ``pause`` in that mode) with the cause among the reasons; the
decision is stored either way and an alert is raised. If the decision cannot be stored, the caller
gets 503, not an answer.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

from puraify.audit import AuditLog, Status
from puraify.auth import ADMIN_SCOPE, Principal
from puraify.clock import expires_at, iso, now
from puraify.errors import UnavailableError, ValidationFailedError
from puraify.observability import logger
from puraify.planning import bundles, decision_log
from puraify.planning import models as m
from puraify.planning.compiler import compile_bundle
from puraify.planning.engine_watch import Anomaly, EngineWatch
from puraify.planning.facts import FactContext, Provider, collect, problem, view
from puraify.planning.key_expiry import ExpiringKey, ExpiringKeys, watch_keys
from puraify.planning.loader import PolicyLoader, Rejection, status_time
from puraify.planning.ports import Alert, BundleStore, DecisionStore, EngineAlert, EngineCounters, FactStore, Suspend
from puraify.planning.rego import (
    BundleRejectedError,
    CompiledPolicy,
    PolicyBudgetExceededError,
    PolicyEvaluationError,
    PolicyResult,
)
from puraify.settings import Settings

GLOBAL_SCOPE = "global"
DECIDE_SCOPE = "plan:decide"
READ_SCOPE = "plan:read"


class PlanningService:
    def __init__(
        self,
        *,
        settings: Settings,
        facts: FactStore,
        decisions: DecisionStore,
        bundle_store: BundleStore,
        providers: Sequence[Provider],
        audit: AuditLog,
        alert: Alert,
        engine_counters: EngineCounters | None = None,
        engine_alert: EngineAlert | None = None,
        suspend: Suspend | None = None,
        expiring_keys: ExpiringKeys | None = None,
    ):
        self.settings = settings
        self.facts = facts
        self.decisions = decisions
        self.bundle_store = bundle_store
        self.providers = list(providers)
        self.audit = audit
        self.alert = alert
        self.engine_counters, self.engine_alert, self.suspend = engine_counters, engine_alert, suspend
        self.expiring_keys = expiring_keys
        self.max_age = settings.plan_fact_max_age_seconds
        self.max_ages = fact_max_ages(settings)
        self.timeout = settings.plan_provider_timeout_seconds
        self.budget = settings.plan_decision_budget_ms / 1000
        self._recent_documents: dict[str, dict[str, Any]] = {}  # the last decision input per phase
        self.loader = PolicyLoader(
            bundle_store,
            settings.plan_policy_poll_seconds,
            on_reject=self._bundle_rejected,
            samples=self.budget_samples,
            budget_seconds=self.budget,
        )
        self.config_revision = _config_revision(settings, providers, self.max_ages)

    def watch_engines(self, at: float | None = None) -> list[Anomaly]:
        """Judge each engine's recent check counters with the bundle's engine_anomaly rule (the schedule)."""
        if self.engine_counters is None or self.engine_alert is None:
            return []
        watch = EngineWatch(policy=self.loader.current, counters=self.engine_counters, alert=self.engine_alert,
                            suspend=self.suspend, budget_seconds=self.budget)  # fmt: skip
        return watch.run(at)

    def watch_keys(self, at: float | None = None) -> list[ExpiringKey]:
        """Raise one ``key_expiring`` alert per engine whose key expires within seven days (the schedule)."""
        return watch_keys(self.expiring_keys, self.engine_alert, at) if self.expiring_keys and self.engine_alert else []

    # --- facts ---------------------------------------------------------------------------

    def collect_snapshot(self) -> m.Snapshot:
        """Collect the global facts now and store them as the latest snapshot (the ``collect`` schedule)."""
        global_providers = [p for p in self.providers if p.scope == "global"]
        facts = collect(global_providers, FactContext(), self.timeout)
        at = now()
        snapshot = m.Snapshot(
            scope=GLOBAL_SCOPE,
            collected_at=at,
            facts=facts,
            expires_at=int(at + self.settings.plan_snapshot_retention_hours * 3600),
        )
        self.facts.put_snapshot({**snapshot.model_dump(), "collected_iso": iso(at)})
        return snapshot

    def facts_view(self) -> m.FactsResponse:
        """The latest stored snapshot, each fact with its age and staleness as of now."""
        stored = self.facts.latest(GLOBAL_SCOPE)
        at = now()
        if stored is None:
            return m.FactsResponse(
                scope=GLOBAL_SCOPE, collected_at=None, max_age_seconds=self.max_age, stale=True, facts={}
            )
        snapshot = m.Snapshot.model_validate(stored)
        views = {fid: view(fact, at, self.max_age_of(fid)) for fid, fact in sorted(snapshot.facts.items())}
        return m.FactsResponse(
            scope=GLOBAL_SCOPE,
            collected_at=iso(snapshot.collected_at),
            max_age_seconds=self.max_age,
            stale=any(v.stale for v in views.values()) or not views,
            facts=views,
        )

    def max_age_of(self, fact_id: str) -> float:
        """How old ``fact_id`` may be: its own limit if configured, else the default."""
        return self.max_ages.get(fact_id, self.max_age)

    def gather(self, context: FactContext) -> dict[str, m.Fact]:
        """Every fact a decision needs: stored global facts while fresh, the rest collected now."""
        post_deploy = context.phase == "post_deploy"
        providers = [p for p in self.providers if (p.scope == "deployment") == post_deploy]
        stored = self._stored_global_facts() if not post_deploy else {}
        at = now()
        facts: dict[str, m.Fact] = {}
        live: list[Provider] = []
        for provider in providers:
            found = [stored.get(fid) for fid in provider.fact_ids] if provider.scope == "global" else [None]
            if all(f is not None and not view(f, at, self.max_age_of(f.id)).stale for f in found):
                facts.update({f.id: f for f in found if f is not None})
            else:
                live.append(provider)
        facts.update(collect(live, context, self.timeout))
        return facts

    def _stored_global_facts(self) -> dict[str, m.Fact]:
        try:
            stored = self.facts.latest(GLOBAL_SCOPE)
        except UnavailableError:
            logger.warning("fact snapshot store unavailable; collecting every fact live")
            return {}
        return m.Snapshot.model_validate(stored).facts if stored else {}

    # --- decisions -----------------------------------------------------------------------

    def decide(self, body: m.PlanDecideRequest, *, engine_id: str, request_id: str) -> m.PlanDecideResponse:
        """Decide, store and log one deployment decision. Fails safe; 503 if it cannot be stored."""
        policy = self.loader.current()
        context = FactContext(
            project_id=body.project_id,
            environment=body.environment,
            deployment_id=body.deployment_id,
            phase=body.phase,
            version=body.version,
            baseline_version=body.baseline_version,
            since=body.bake.started_at if body.bake else None,
            source_env=body.source_env or body.environment,
            window_seconds=self.window_seconds(policy),
        )
        facts = self.gather(context)
        at = now()
        views = {fid: view(fact, at, self.max_age_of(fid)) for fid, fact in sorted(facts.items())}
        # A rollback's facts are the policy's to judge: a rollback to a known-good version must work when
        # the facts are bad (that is when it is needed); the policy denies a forced one on bad facts.
        causes = [] if body.phase == "rollback" else [r for fid, seen in views.items() if (r := problem(fid, seen))]
        result: PolicyResult | None = None
        duration_ms = 0.0
        if policy is None:
            causes.append("no valid policy bundle is active")
        else:
            document = {"deployment": _deployment_input(body, at), "facts": policy_facts(views)}
            self._recent_documents[body.phase] = document
            started = now()
            try:
                result = policy.evaluate(document, self.budget)
            except PolicyBudgetExceededError as error:
                causes.append(str(error))
                self.loader.reject_active(policy, f"a decision on real facts: {error}")
            except PolicyEvaluationError as error:
                causes.append(f"policy evaluation failed: {error}")
            duration_ms = round((now() - started) * 1000, 3)
        reasons = list(result.deny) if result else []
        if result is not None and not result.allow and not result.deny:
            reasons.append("the policy denied without a reason")
        # The policy words fact problems itself; the engine's wording is added only where it did not.
        reasons.extend(c for c in causes if c not in reasons and not _said(reasons, c))
        fail_safe = bool(causes)
        allow = not fail_safe and result is not None and result.allow and not result.deny
        outcome: m.Outcome = "allow" if allow else "pause" if fail_safe and self._pause else "deny"
        decision = m.PlanDecideResponse(
            decision_id=uuid.uuid4().hex,
            allow=allow,
            outcome=outcome,
            deny_reasons=reasons,
            fail_safe=fail_safe,
            deployment_id=body.deployment_id,
            project_id=body.project_id,
            environment=body.environment,
            policy=m.PolicyRef(revision=policy.revision if policy else None, sha256=policy.sha256 if policy else None),
            config_revision=self.config_revision,
            facts=views,
            evaluated_at=iso(at),
            eval_duration_ms=duration_ms,
            phase=body.phase,
            verdict=_verdict(body, result, fail_safe),
            notes=list(result.notes) if result else [],
        )
        self._record(decision, body, engine_id, request_id)
        if fail_safe:
            self._alert(
                project_id=body.project_id,
                event_type="plan_fail_safe",
                message=f"deployment {body.deployment_id} to {body.environment} was not decided: {'; '.join(causes)}",
            )
        return decision

    def window_seconds(self, policy: CompiledPolicy | None) -> int:
        """How far back a pre_deploy decision reads the promoted version's health: the policy data's
        ``gate.pre_deploy.window_seconds`` (60 s to a day), else ``PURAIFY_PLAN_ERROR_WINDOW_SECONDS``."""
        gate = policy.data.get("gate") if policy else None
        pre = gate.get("pre_deploy") if isinstance(gate, dict) else None
        window = pre.get("window_seconds") if isinstance(pre, dict) else None
        if isinstance(window, int | float) and not isinstance(window, bool) and 60 <= window <= 86400:
            return int(window)
        return int(self.settings.plan_error_window_seconds)

    @property
    def _pause(self) -> bool:
        return self.settings.plan_fail_safe_mode == "pause"

    def _record(self, decision: m.PlanDecideResponse, body: m.PlanDecideRequest, engine_id: str, rid: str) -> None:
        record = {
            **decision.model_dump(mode="json"),
            "version": body.version,
            "engine_id": engine_id,
            "request_id": rid,
            "expires_at": expires_at(self.settings.plan_decision_retention_days),
        }
        self.decisions.put(record)
        status: Status = "allowed" if decision.allow else "error" if decision.fail_safe else "denied"
        self.audit.record(
            kind="plan",
            request_id=rid,
            engine_id=engine_id,
            status=status,
            reason="; ".join(decision.deny_reasons) or None,
            project_id=decision.project_id,
            details={
                "decision_id": decision.decision_id,
                "deployment_id": decision.deployment_id,
                "environment": decision.environment,
                "outcome": decision.outcome,
                "policy_revision": decision.policy.revision,
            },
            persist=False,  # the decisions table is this audit's store, with its own retention
        )

    # --- what an engine may ask (every access check of the Planning Engine's routes) -------------

    def decide_for(self, caller: Principal, body: m.PlanDecideRequest, request_id: str) -> m.PlanDecideResponse:
        """``POST /plan/decide``: ``plan:decide`` and the project's grant."""
        caller.require(DECIDE_SCOPE)
        caller.require_project(body.project_id)
        return self.decide(body, engine_id=caller.engine_id, request_id=request_id)

    def decisions_for(
        self,
        caller: Principal,
        *,
        deployment_id: str | None,
        project_id: str | None,
        since: str | None,
        limit: int,
        cursor: str | None = None,
        decision_id: str | None = None,
        request_id: str | None = None,
    ) -> m.DecisionListResponse:
        """``GET /plan/decisions``: ``plan:read``, and the project's grant (by deployment alone: ``*``);
        with ``decision_id`` or ``request_id``, the decisions of that id (``decision_log.find``)."""
        caller.require(READ_SCOPE)
        if project_id:
            caller.require_project(project_id)
        else:
            caller.require_all_projects("; name project_id")
        if decision_id or request_id:
            return decision_log.find(
                self.decisions,
                deployment_id=deployment_id,
                project_id=project_id,
                since=since,
                decision_id=decision_id,
                request_id=request_id,
            )
        return decision_log.page(
            self.decisions, deployment_id=deployment_id, project_id=project_id, since=since, limit=limit, cursor=cursor
        )

    def facts_for(self, caller: Principal) -> m.FactsResponse:
        """``GET /plan/facts``: ``plan:read``."""
        caller.require(READ_SCOPE)
        return self.facts_view()

    def policy_for(self, caller: Principal) -> m.PolicyStatusResponse:
        """``GET /plan/policy``: ``plan:read``."""
        caller.require(READ_SCOPE)
        return self.policy_status()

    # --- policy --------------------------------------------------------------------------

    def budget_samples(self) -> list[dict[str, Any]]:
        """Decision inputs on the current facts, to time a bundle on before it becomes active.

        The last real input of each phase this process decided, and one of each phase built from
        the latest stored global facts (a process that has not decided yet has only those).
        """
        at = now()
        stored = self._stored_global_facts()
        facts = policy_facts({fid: view(fact, at, self.max_age_of(fid)) for fid, fact in sorted(stored.items())})
        samples = list(self._recent_documents.values())
        for request in _sample_requests(at):
            samples.append({"deployment": _deployment_input(request, at), "facts": facts})
        return samples

    def policy_status(self) -> m.PolicyStatusResponse:
        """The active bundle (after a due check for a new one) and the last rejected one."""
        active = self.loader.current()
        rejected = self.loader.last_rejected
        return m.PolicyStatusResponse(
            revision=active.revision if active else None,
            sha256=active.sha256 if active else None,
            entrypoint=active.entrypoint if active else None,
            loaded_at=status_time(active.loaded_at) if active else None,
            checked_at=status_time(self.loader.checked_at),
            poll_seconds=self.loader.poll_seconds,
            files=active.files if active else {},
            last_rejected=m.RejectedBundle(
                revision=rejected.revision, reason=rejected.reason, rejected_at=iso(rejected.rejected_at)
            )
            if rejected
            else None,
        )

    def publish(self, caller: Principal, body: m.PolicyPutRequest, request_id: str) -> m.PolicyPutResponse:
        """Admin: compile a bundle (422 if it would be rejected), publish it, and make it active here."""
        caller.require(ADMIN_SCOPE)
        files = {name: text.encode() for name, text in body.files.items()}
        bundles.check_files(files)
        try:
            compile_bundle(
                files,
                revision=body.revision,
                entrypoint=body.entrypoint,
                samples=self.budget_samples(),
                budget_seconds=self.budget,
            )
        except BundleRejectedError as error:
            raise ValidationFailedError(
                f"the bundle would be rejected: {error}",
                details=[{"field": "body.files", "message": str(error), "type": "bundle_rejected"}],
                code="bundle_rejected",
            ) from error
        manifest, created = bundles.publish(
            self.bundle_store, files, revision=body.revision, entrypoint=body.entrypoint
        )
        self.audit.record(
            kind="admin",
            request_id=request_id,
            engine_id=caller.engine_id,
            status="allowed",
            details={"operation": "publish_policy", "revision": manifest.revision, "sha256": manifest.sha256},
        )
        self.loader.refresh(force=True)
        return m.PolicyPutResponse(
            revision=manifest.revision,
            sha256=manifest.sha256,
            entrypoint=manifest.entrypoint,
            files={name: entry.sha256 for name, entry in manifest.files.items()},
            published_at=manifest.published_at,
            created=created,
        )

    def _bundle_rejected(self, rejection: Rejection) -> None:
        logger.error("policy bundle rejected", extra={"revision": rejection.revision, "reason": rejection.reason})
        self._alert(
            project_id="puraify-control-plane",
            event_type="policy_bundle_rejected",
            message=f"policy bundle {rejection.revision or '?'} rejected, the previous one stays active: "
            f"{rejection.reason}",
        )

    def _alert(self, *, project_id: str, event_type: str, message: str) -> None:
        # High, not critical: open critical alerts are themselves a deny fact, and a fail-safe
        # alert must not keep the gate closed after its cause is gone. High is still notified.
        try:
            self.alert(
                project_id=project_id,
                event_type=event_type,
                severity="high",
                message=message[:1000],
                triggered_by="planning",
            )
        except Exception:  # noqa: BLE001 - the decision stands even when alerting fails
            logger.exception("could not raise a planning alert")


def _sample_requests(at: float) -> list[m.PlanDecideRequest]:
    """A production deployment, a bake one minute in and a forced rollback: the decisions a bundle answers."""
    common = {"deployment_id": "budget-sample", "project_id": "budget-sample", "environment": "production"}
    return [
        m.PlanDecideRequest(**common, version="v2"),
        m.PlanDecideRequest(
            **common,
            version="v2",
            baseline_version="v1",
            phase="post_deploy",
            bake=m.Bake(started_at=at - 60, bake_seconds=600),
        ),
        m.PlanDecideRequest(
            **common, version="v1", phase="rollback", rollback=m.RollbackInput(from_version="v2", known_good=False)
        ),
    ]


def _verdict(body: m.PlanDecideRequest, result: PolicyResult | None, fail_safe: bool) -> str | None:
    """What the deployment watch should do; a post_deploy decision not properly made is ``undecided``."""
    if body.phase != "post_deploy":
        return None
    return (result.verdict if result and not fail_safe else None) or "undecided"


def _deployment_input(body: m.PlanDecideRequest, at: float) -> dict[str, Any]:
    """The request as the policy sees it; a bake also says how far along it is."""
    document = body.model_dump(exclude_none=True)
    if body.bake is not None:
        elapsed = max(0.0, at - body.bake.started_at)
        document["bake"] = {**document["bake"], "elapsed_seconds": round(elapsed, 3),
                            "final": elapsed >= body.bake.bake_seconds}  # fmt: skip
    return document


def _said(reasons: list[str], cause: str) -> bool:
    if not cause.startswith("fact "):
        return False
    subject = " ".join(cause.split(" ")[:2]) + " "
    return any(reason.startswith(subject) for reason in reasons)


def policy_facts(views: dict[str, m.FactView]) -> dict[str, dict[str, Any]]:
    """Facts as the policy sees them. Absent keys stay absent: Rego treats ``null`` as true."""
    out: dict[str, dict[str, Any]] = {}
    for fid, seen in views.items():
        entry: dict[str, Any] = {"stale": seen.stale}
        if seen.value is not None:
            entry["value"] = seen.value
        if seen.age_seconds is not None:
            entry["age_seconds"] = seen.age_seconds
        if seen.error:
            entry["error"] = seen.error
        out[fid] = entry
    return out


def fact_max_ages(settings: Settings) -> dict[str, float]:
    """Per-fact max ages from ``PURAIFY_PLAN_FACT_MAX_AGES`` (a JSON object of fact id -> seconds)."""
    if not settings.plan_fact_max_ages.strip():
        return {}
    ages = json.loads(settings.plan_fact_max_ages)
    if not isinstance(ages, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in ages.values()
    ):
        raise ValueError("PURAIFY_PLAN_FACT_MAX_AGES must be a JSON object of fact id -> positive seconds")
    return {str(k): float(v) for k, v in ages.items()}


def _config_revision(settings: Settings, providers: Sequence[Provider], max_ages: dict[str, float]) -> str:
    config = {
        "fact_max_age_seconds": settings.plan_fact_max_age_seconds,
        "fact_max_ages": max_ages,
        "provider_timeout_seconds": settings.plan_provider_timeout_seconds,
        "fail_safe_mode": settings.plan_fail_safe_mode,
        "error_window_seconds": settings.plan_error_window_seconds,
        "decision_budget_ms": settings.plan_decision_budget_ms,
        "providers": sorted(f"{p.name}:{','.join(p.fact_ids)}" for p in providers),
    }
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
