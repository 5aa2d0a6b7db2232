"""The deployment gate as the Environment Manager consults it: before a promotion, and while a deployment bakes.

The wiring hands ``DeploymentGate(planning).promotion`` and ``.post_deploy`` to the Environment Manager,
which knows them only as the callables of its ports.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError

from puraify.errors import validation_error
from puraify.planning.models import Bake, PlanDecideRequest, PostDeployJudgement, PromotionGate, RollbackInput
from puraify.planning.service import PlanningService

CALLER = "environment-manager"
WATCH = "deployment-watch"


class DeploymentGate:
    """The Planning Engine's two deployment decisions, each one stored and audited."""

    def __init__(self, planning: PlanningService):
        self.planning = planning

    def promotion(
        self,
        *,
        project_id: str,
        environment: str,
        version: str,
        deployment_id: str,
        phase: str = "pre_deploy",
        source_env: str | None = None,
        rollback: dict[str, Any] | None = None,
    ) -> PromotionGate:
        """Run one full, stored and audited decision for a promotion (or, phase ``rollback``, a rollback);
        ``allow`` False blocks it. An allowed decision's reasons are its notes (e.g. "no signal").

        Raises ValidationFailedError (422) on malformed ids and UnavailableError (503) when the decision
        cannot be stored: a promotion must then not proceed either.
        """
        try:
            body = PlanDecideRequest(
                deployment_id=deployment_id,
                environment=environment,
                project_id=project_id,
                version=version,
                phase=phase,
                source_env=source_env,
                rollback=RollbackInput(**rollback) if rollback is not None else None,
            )
        except ValidationError as error:
            raise validation_error([dict(e) for e in error.errors()]) from error
        decision = self.planning.decide(body, engine_id=CALLER, request_id=f"{phase}-{uuid.uuid4().hex}")
        reasons = decision.deny_reasons if not decision.allow else decision.notes
        return PromotionGate(allow=decision.allow, reasons=reasons, decision_id=decision.decision_id)

    def post_deploy(
        self,
        *,
        project_id: str,
        environment: str,
        version: str,
        baseline_version: str | None,
        deployment_id: str,
        started_at: float,
        bake_seconds: int,
    ) -> PostDeployJudgement:
        """Ask the ``post_deploy`` rule whether a deployed version may stay (one stored, audited decision).

        ``verdict`` is what the deployment watch does: continue, healthy, rollback, no_signal, undecided.
        """
        try:
            body = PlanDecideRequest(
                deployment_id=deployment_id,
                environment=environment,
                project_id=project_id,
                version=version,
                phase="post_deploy",
                baseline_version=baseline_version,
                bake=Bake(started_at=started_at, bake_seconds=max(1, bake_seconds)),
            )
        except ValidationError as error:
            raise validation_error([dict(e) for e in error.errors()]) from error
        decision = self.planning.decide(body, engine_id=WATCH, request_id=f"watch-{uuid.uuid4().hex}")
        candidate, baseline = decision.facts.get("candidate_health"), decision.facts.get("baseline_health")
        return PostDeployJudgement(
            verdict=decision.verdict or "undecided",
            reasons=decision.deny_reasons,
            notes=decision.notes,
            decision_id=decision.decision_id,
            candidate=candidate.value if candidate else None,
            baseline=baseline.value if baseline else None,
        )
