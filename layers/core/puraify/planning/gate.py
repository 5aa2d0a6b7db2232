"""The deployment gate as the Environment Manager consults it before a promotion."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError

from puraify.errors import validation_error
from puraify.planning import service
from puraify.planning.models import PlanDecideRequest, PromotionGate

CALLER = "environment-manager"


def decide_promotion(rt: Any, *, project_id: str, environment: str, version: str, deployment_id: str) -> PromotionGate:
    """Run one full, stored and audited decision for a promotion; ``allow`` False blocks it.

    Raises ValidationFailedError (422) on malformed ids and UnavailableError (503) when the decision
    cannot be stored: a promotion must then not proceed either.
    """
    try:
        body = PlanDecideRequest(
            deployment_id=deployment_id, environment=environment, project_id=project_id, version=version
        )
    except ValidationError as error:
        raise validation_error([dict(e) for e in error.errors()]) from error
    decision = service(rt).decide(body, engine_id=CALLER, request_id=f"promotion-{uuid.uuid4().hex}")
    return PromotionGate(allow=decision.allow, reasons=decision.deny_reasons, decision_id=decision.decision_id)
