"""Planning Engine: facts, Rego policy bundles from S3, and audited deployment decisions.

``service(rt)`` is this process's PlanningService, wired once from the runtime's settings and stores.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from puraify.observability import logger

if TYPE_CHECKING:
    from puraify.planning.engine import PlanningService

SERVICE = "planning"


def monitoring_alert(rt: Any) -> Any:
    """An alert function backed by Monitoring's ``raise_alert`` (logged only where Monitoring is absent);
    it returns the stored alert."""

    def alert(**fields: Any) -> dict[str, Any] | None:
        try:
            raise_alert = importlib.import_module("puraify.monitoring.alerts").raise_alert
        except (ImportError, AttributeError):
            logger.warning("alert not dispatched: puraify.monitoring.alerts is not available", extra=fields)
            return None
        return raise_alert(rt, **fields)

    return alert


def build(rt: Any) -> PlanningService:
    """The planning service over DynamoDB and S3, with the built-in fact providers."""
    from puraify.planning.engine import PlanningService
    from puraify.planning.providers import builtin_providers
    from puraify.store.planning import DynamoDecisionStore, DynamoFactStore, S3BundleStore

    settings = rt.settings
    return PlanningService(
        settings=settings,
        facts=DynamoFactStore(settings.plan_facts_table),
        decisions=DynamoDecisionStore(settings.plan_decisions_table),
        bundle_store=S3BundleStore(settings.policy_bucket),
        providers=builtin_providers(rt),
        audit=rt.audit,
        alert=monitoring_alert(rt),
    )


def service(rt: Any) -> PlanningService:
    """This runtime's planning service, built on first use."""
    return rt.service(SERVICE, build)
