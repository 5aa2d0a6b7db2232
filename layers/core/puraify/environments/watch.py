"""The deployment watch: each schedule tick judges every baking deployment, and rolls back a bad one.

A tick asks the Planning Engine's ``post_deploy`` rule about each deployment being baked (one stored,
audited decision each) and acts on its verdict:

- ``continue``: keep baking; ``healthy``: the bake time passed clean;
- ``rollback``: a normal, audited rollback to the previous version by actor ``deployment-watch``, a
  critical alert naming the version and the reasons, the deployment ``rolled_back`` (``failed`` when
  there was no previous version to go back to);
- ``no_signal``: the bake ended with too little traffic on the new version to judge it; it stays, and
  is not called healthy (the policy's ``on_no_signal`` may say ``rollback`` instead);
- ``undecided``: the decision could not be made (facts unavailable): never acted on, asked again at
  the next tick; still undecided ``UNDECIDED_GRACE_SECONDS`` after the bake should have ended, the
  deployment ends ``no_signal`` with that reason.

An environment changed by anyone else during the bake ends its watch (``cancelled``): the change
itself does that (``EnvironmentsBase._commit``), and a tick that finds the environment no longer
running this deployment does too. Every write of a deployment is conditional on what the tick read,
so overlapping ticks cannot both roll back.
"""

from __future__ import annotations

import uuid
from contextlib import suppress

from puraify.auth import Principal
from puraify.clock import iso
from puraify.environments import models as m
from puraify.environments import records as r
from puraify.environments.rollback import Rollback
from puraify.errors import ConflictError, ForbiddenError, PuraifyError, UnavailableError
from puraify.observability import logger

WATCH_ACTOR = "deployment-watch"
UNDECIDED_GRACE_SECONDS = 300
MAX_DECISIONS = 50  # kept per deployment: the first one and the latest ones


class Watching(Rollback):
    """One tick of the deployment watch over every baking deployment."""

    def watch(self, limit: int = 100) -> m.WatchSummary:
        """Judge each baking deployment once (the schedule calls this every minute, locally more often)."""
        summary = m.WatchSummary()
        for deployment in self.deployments.baking(limit):
            try:
                outcome = self.judge_deployment(deployment)
            except PuraifyError as error:  # one deployment's trouble must not stop the others' watch
                logger.warning(
                    "deployment not judged", extra={"deployment": deployment.deployment_id, "error": str(error)}
                )
                continue
            summary.judged += 1
            if outcome in ("healthy", "rolled_back", "cancelled", "no_signal", "failed"):
                getattr(summary, outcome).append(
                    f"{deployment.project_id}/{deployment.environment}/{deployment.version}"
                )
        if summary.judged:
            logger.info("deployment watch", extra=summary.model_dump())
        return summary

    def judge_deployment(self, deployment: r.DeploymentRecord) -> str:
        """Judge one baking deployment now and act on the verdict; returns its state afterwards."""
        seen = deployment.checks
        _, found = self.store.load(deployment.project_id, [deployment.environment])
        head = found.get(deployment.environment)
        if head is None or not self.alive(head) or head.last_change.deployment_id != deployment.deployment_id:
            change = head.last_change if head else None
            reason = (
                f"{deployment.environment} changed during the bake ({change.action} by {change.created_by}): "
                f"the watch of {deployment.version} ended"
                if change
                else f"{deployment.environment} no longer exists: the watch of {deployment.version} ended"
            )
            return self._finish(deployment, seen, "cancelled", reason)
        if self.judge is None:
            raise UnavailableError("no post_deploy judge is configured", code="watch_unavailable")
        at = self.clock()
        judged = self.judge(
            project_id=deployment.project_id,
            environment=deployment.environment,
            version=deployment.version,
            baseline_version=deployment.previous_version,
            deployment_id=deployment.deployment_id,
            started_at=deployment.started_epoch,
            bake_seconds=deployment.bake_seconds or 0,
        )
        decision = m.BakeDecision(
            decision_id=judged.decision_id,
            at=iso(at),
            verdict=judged.verdict if judged.verdict in r.VERDICTS else "undecided",
            reasons=list(judged.reasons),
            notes=list(judged.notes),
            candidate=judged.candidate,
            baseline=judged.baseline,
        )
        decisions = [*deployment.decisions, decision]
        deployment.decisions = decisions[:1] + decisions[1:][-(MAX_DECISIONS - 1) :]
        overdue = at - deployment.started_epoch - (deployment.bake_seconds or 0) > UNDECIDED_GRACE_SECONDS
        if decision.verdict == "healthy":
            return self._finish(deployment, seen, "healthy", f"{deployment.version} baked clean")
        if decision.verdict == "no_signal":
            return self._no_signal(deployment, seen, "; ".join(decision.notes) or "no signal")
        if decision.verdict == "undecided" and overdue:
            reason = f"could not be judged: {'; '.join(decision.reasons) or 'no decision'}"
            return self._no_signal(deployment, seen, reason)
        if decision.verdict == "rollback":
            return self._roll_back(deployment, seen, head, decision)
        return self._save(deployment, seen)

    # --- outcomes ------------------------------------------------------------------------

    def _save(self, deployment: r.DeploymentRecord, seen: int) -> str:
        deployment.checks = seen + 1
        with suppress(ConflictError):  # another tick or a manual change got there first; its write stands
            self.deployments.replace(deployment, seen)
        return deployment.state

    def _finish(self, deployment: r.DeploymentRecord, seen: int, state: m.DeploymentState, reason: str) -> str:
        deployment.state, deployment.reason, deployment.finished_at = state, reason, iso(self.clock())
        return self._save(deployment, seen)

    def _no_signal(self, deployment: r.DeploymentRecord, seen: int, reason: str) -> str:
        state = self._finish(deployment, seen, "no_signal", reason)
        self._raise(
            deployment,
            "medium",
            "deployment_no_signal",
            f"{deployment.version} in {deployment.environment} was not verified: {reason}",
        )
        return state

    def _roll_back(
        self, deployment: r.DeploymentRecord, seen: int, head: r.EnvironmentRecord, decision: m.BakeDecision
    ) -> str:
        reasons = "; ".join(decision.reasons) or "the post_deploy rule denied it"
        # Claim the deployment first: of two overlapping ticks only one goes on to roll back.
        try:
            deployment.checks = seen + 1
            self.deployments.replace(deployment, seen)
        except ConflictError:
            return deployment.state
        seen = deployment.checks
        if deployment.previous_version is None:
            alert = self._raise(
                deployment,
                "critical",
                "deployment_failed",
                f"{deployment.version} in {deployment.environment} is unhealthy and there is no previous version "
                f"to roll back to: {reasons}",
            )
            deployment.alert_id = alert
            return self._finish(deployment, seen, "failed", reasons)
        request_id = f"watch-{uuid.uuid4().hex}"
        try:
            rolled = self._rollback(
                # The watch acts for the control plane itself: only this project, only the scopes a rollback needs.
                Principal(
                    engine_id=WATCH_ACTOR,
                    scopes=frozenset({"env:write", "env:production"}),
                    projects=frozenset({deployment.project_id}),
                ),
                m.EnvRollbackRequest(
                    project_id=deployment.project_id,
                    environment=deployment.environment,
                    version=deployment.previous_version,
                    expected_revision=head.revision,
                ),
                request_id,
                undoing=deployment,
            )
        except ConflictError as error:
            return self._finish(
                deployment, seen, "cancelled", f"{deployment.environment} changed while rolling back: {error.message}"
            )
        except (UnavailableError, ForbiddenError) as error:
            logger.warning(
                "rollback failed; the next tick tries again",
                extra={"deployment": deployment.deployment_id, "error": str(error)},
            )
            return deployment.state
        deployment.rollback_deployment_id = rolled.deployment_id
        deployment.alert_id = self._raise(
            deployment,
            "critical",
            "deployment_rolled_back",
            f"{deployment.version} in {deployment.environment} was rolled back to {deployment.previous_version} "
            f"by the deployment watch: {reasons}",
        )
        return self._finish(deployment, seen, "rolled_back", reasons)

    def _raise(self, deployment: r.DeploymentRecord, severity: str, event_type: str, message: str) -> str | None:
        """Raise an alert through Monitoring; the watch's action stands even if alerting fails."""
        if self.alert is None:
            logger.warning("alert not raised: no alert channel", extra={"message": message})
            return None
        try:
            alert = self.alert(
                project_id=deployment.project_id,
                event_type=event_type,
                severity=severity,
                message=message[:2000],
                triggered_by=WATCH_ACTOR,
            )
        except Exception:  # noqa: BLE001 - the rollback is done; a lost alert is logged, not fatal
            logger.exception("could not raise the deployment watch's alert")
            return None
        return (alert or {}).get("alert_id")
