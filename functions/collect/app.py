"""Collects the global facts into a stored snapshot and runs the engine watch; EventBridge runs it on a schedule."""

from aws_lambda_powertools.metrics import MetricUnit

from puraify import wiring
from puraify.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event, context):
    planning = wiring.current().planning
    snapshot = planning.collect_snapshot()
    anomalies = planning.watch_engines()  # the engine_anomaly rule on each engine's recent check counters
    expiring = planning.watch_keys()  # one key_expiring alert per engine whose key expires within 7 days
    failed = sorted(fid for fid, fact in snapshot.facts.items() if fact.error)
    metrics.add_metric(name="FactsUnavailable", unit=MetricUnit.Count, value=len(failed))
    if failed:
        logger.warning("facts unavailable", extra={"facts": failed})
    metrics.add_metric(name="EngineAnomalies", unit=MetricUnit.Count, value=len(anomalies))
    return {
        "collected_at": snapshot.collected_at,
        "facts": sorted(snapshot.facts),
        "unavailable": failed,
        "engine_anomalies": [
            {"engine_id": a.engine_id, "minute": a.minute, "suspended": a.suspended} for a in anomalies
        ],
        "keys_expiring": [{"engine_id": k.engine_id, "expires_at": k.expires_at} for k in expiring],
    }
