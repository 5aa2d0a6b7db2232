"""Collects the global facts into a stored snapshot; EventBridge runs it on a schedule."""

from aws_lambda_powertools.metrics import MetricUnit

from puraify import wiring
from puraify.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event, context):
    snapshot = wiring.current().planning.collect_snapshot()
    failed = sorted(fid for fid, fact in snapshot.facts.items() if fact.error)
    metrics.add_metric(name="FactsUnavailable", unit=MetricUnit.Count, value=len(failed))
    if failed:
        logger.warning("facts unavailable", extra={"facts": failed})
    return {"collected_at": snapshot.collected_at, "facts": sorted(snapshot.facts), "unavailable": failed}
