"""The production gate: the Planning Engine decides whether a version may go into production.

The Planning Engine is imported lazily, at decision time. While it is not installed the gate fails
closed (deny, "planning gate unavailable"); ``PURAIFY_PRODUCTION_GATE=off`` switches it off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from puraify.observability import logger

UNAVAILABLE = "planning gate unavailable"


@dataclass(frozen=True)
class GateDecision:
    allow: bool
    reasons: list[str] = field(default_factory=list)
    decision_id: str = ""


def production_gate(rt: Any) -> Any:
    """The gate for ``rt``: a callable taking project_id, environment, version and deployment_id."""
    if rt.settings.production_gate == "off":
        return lambda **_: GateDecision(allow=True, reasons=["production gate disabled by setting"])

    def decide(*, project_id: str, environment: str, version: str, deployment_id: str) -> Any:
        try:
            from puraify.planning.gate import decide_promotion
        except ImportError:
            logger.warning("planning gate not installed; denying", extra={"project_id": project_id})
            return GateDecision(allow=False, reasons=[UNAVAILABLE])
        return decide_promotion(
            rt, project_id=project_id, environment=environment, version=version, deployment_id=deployment_id
        )

    return decide


def post_deploy_judge(rt: Any) -> Any:
    """The deployment watch's judge: the Planning Engine's post_deploy rule, imported when first asked.

    Without the Planning Engine every judgement is ``undecided`` (never a rollback).
    """

    def judge(**request: Any) -> Any:
        try:
            from puraify.planning.gate import decide_post_deploy
        except ImportError:
            return Undecided(reasons=[UNAVAILABLE])
        return decide_post_deploy(rt, **request)

    return judge


@dataclass(frozen=True)
class Undecided:
    reasons: list[str]
    verdict: str = "undecided"
    notes: list[str] = field(default_factory=list)
    decision_id: str = ""
    candidate: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None
