"""Monitoring wired once per runtime: ``monitoring(rt)`` builds the store, dispatcher and policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from puraify.errors import UnavailableError
from puraify.monitoring.alerts import AlertPolicy, Alerts, Dispatcher
from puraify.monitoring.entitlement import Entitled, nobody
from puraify.monitoring.fingerprint import parse_rules
from puraify.monitoring.ingest import IngestConfig, IngestResult, ParsedBatch, ingest, repair_counts
from puraify.observability import logger
from puraify.settings import Settings

if TYPE_CHECKING:
    from puraify.runtime import Runtime


@dataclass
class Monitoring:
    """The monitoring service of one runtime: its store, alerts and ingest configuration."""

    store: Any
    alerts: Alerts
    config: IngestConfig
    versions: Any = None  # per-version counters (puraify.monitoring.versions); None: not counted

    @property
    def window_seconds(self) -> int:
        """The aggregation window (the error threshold's window)."""
        return self.config.window_seconds

    def ingest(self, reporter: str, batch: ParsedBatch, entitled: Entitled = nobody) -> IngestResult:
        """Store a parsed batch reported by engine ``reporter`` (``entitled``: see ``monitoring.entitlement``)."""
        return ingest(self.store, self.alerts, self.config, reporter, batch, self.versions, entitled)

    def scheduled(self) -> dict[str, int]:
        """The schedule's pass: retry owed notifications, count left-behind ledgers, resolve quiet alerts."""
        summary: dict[str, int] = {}
        steps = {
            "retry": lambda: summary.update(self.alerts.retry_due()),
            "repair": lambda: summary.update(ledgers_repaired=repair_counts(self.store, self.alerts, self.config)),
            "auto_resolve": lambda: summary.update(auto_resolved=self.alerts.auto_resolve()),
        }
        for name, step in steps.items():
            try:
                step()
            except UnavailableError:
                logger.exception("scheduled monitoring step failed", extra={"step": name})  # the next run retries
        return summary


def create(settings: Settings, store: Any, parameters: Any, topic: Any) -> Monitoring:
    """A Monitoring service over the given store and channels (DynamoDB/SNS/SSM, or fakes)."""
    dispatcher = Dispatcher(
        topic_arn=settings.alerts_topic_arn,
        slack_parameter=settings.slack_webhook_parameter,
        parameters=parameters,
        topic=topic,
        timeout=settings.dispatch_timeout_seconds,
        parameter_ttl=min(settings.cache_ttl_seconds, 60.0),
    )
    policy = AlertPolicy(
        notify_min_severity=settings.alert_notify_min_severity,
        flood_window_seconds=settings.alert_flood_window_seconds,
        retention_days=settings.alert_retention_days,
        open_hours=settings.alert_open_hours,
        max_attempts=settings.dispatch_max_attempts,
        grace_seconds=max(30.0, settings.dispatch_timeout_seconds * 4),
        auto_resolve_minutes=settings.alert_auto_resolve_minutes,
        window_seconds=settings.alert_threshold_window_seconds,
    )
    config = IngestConfig(
        event_retention_days=settings.event_retention_days,
        aggregate_retention_days=settings.aggregate_retention_days,
        window_seconds=settings.alert_threshold_window_seconds,
        threshold_count=settings.alert_threshold_count,
        notify_min_severity=settings.alert_notify_min_severity,
        rules=parse_rules(settings.alert_severity_rules),
        alerts_per_minute_project=settings.alerts_per_minute_per_project,
        alerts_per_minute_engine=settings.alerts_per_minute_per_engine,
    )
    return Monitoring(store, Alerts(store, dispatcher, policy), config)


def _build(rt: Runtime) -> Monitoring:
    from puraify.store.monitoring import DynamoMonitoringStore
    from puraify.store.monitoring_channels import SnsTopic, SsmParameters
    from puraify.store.monitoring_versions import DynamoVersionCounterStore

    s = rt.settings
    store = DynamoMonitoringStore(s.events_table, s.aggregates_table, s.alerts_table, s.event_shards)
    service = create(s, store, SsmParameters(), SnsTopic())
    service.versions = DynamoVersionCounterStore(s.aggregates_table)
    return service


def monitoring(rt: Runtime) -> Monitoring:
    """This runtime's Monitoring service (built on first use)."""
    return rt.service("monitoring", _build)
