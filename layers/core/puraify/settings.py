"""Runtime settings: one pydantic model, parsed from the environment once per cold start.

Nothing else in the code base reads ``os.environ``. Table and bucket names come from
``template.yaml`` (``!Ref`` in the functions' environment), tunables from its parameters.
AWS endpoints are botocore's own to resolve (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_<SERVICE>``).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    region: str = "us-east-1"
    sam_local_endpoint_url: str = ""
    engines_table: str = "EnginesTable"
    catalog_table: str = "CatalogTable"
    audit_table: str = "AuditTable"
    events_table: str = "EventsTable"

    cache_ttl_seconds: float = Field(default=30.0, ge=0, le=300)
    negative_cache_ttl_seconds: float = Field(default=5.0, ge=0, le=60)
    key_rotation_grace_seconds: int = Field(default=300, ge=0, le=7 * 86400)
    self_rotation_max_grace_seconds: int = Field(default=3600, ge=0, le=7 * 86400)
    audit_retention_days: int = Field(default=90, ge=1, le=3650)
    event_retention_days: int = Field(default=30, ge=1, le=3650)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    api_version: str = "v1"
    check_count_flush_seconds: float = Field(default=5.0, ge=0, le=60)
    idempotency_table: str = "IdempotencyTable"
    idempotency_ttl_seconds: int = Field(default=86400, ge=60, le=7 * 86400)
    # Per-engine rate limits (an engine's own ``rate_limit`` overrides them): README, Security.
    engine_rate_limit_per_second: float = Field(default=100.0, gt=0, le=100_000)
    engine_rate_limit_burst: int = Field(default=250, ge=1, le=1_000_000)
    engine_events_per_second: float = Field(default=1000.0, gt=0, le=1_000_000)
    rate_limit_sync_seconds: float = Field(default=2.0, ge=0, le=60)

    # Monitoring & Logs
    alerts_table: str = "AlertsTable"
    aggregates_table: str = "AggregatesTable"
    alerts_topic_arn: str = ""
    slack_webhook_parameter: str = ""  # the SSM parameter NAME; the URL itself lives only in SSM
    alert_retention_days: int = Field(default=90, ge=1, le=3650)
    aggregate_retention_days: int = Field(default=30, ge=1, le=3650)
    log_max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=6 * 1024 * 1024)
    event_shards: int = Field(default=4, ge=1, le=64)
    alert_threshold_count: int = Field(default=20, ge=1)
    alerts_per_minute_per_project: int = Field(default=20, ge=1, le=10000)
    alerts_per_minute_per_engine: int = Field(default=10, ge=1, le=10000)
    alert_threshold_window_seconds: int = Field(default=300, ge=10, le=86400)
    alert_flood_window_seconds: int = Field(default=600, ge=0, le=86400)
    alert_auto_resolve_minutes: int = Field(default=30, ge=1, le=10080)
    alert_notify_min_severity: Literal["low", "medium", "high", "critical"] = "high"
    alert_open_hours: int = Field(default=24, ge=1, le=24 * 90)
    alert_severity_rules: str = ""  # JSON list of {"pattern": regex, "severity": ...}; empty = built-in rules
    dispatch_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    dispatch_max_attempts: int = Field(default=8, ge=1, le=50)
    # Outbound notifications may go to http and to loopback/private addresses (the local runner only).
    allow_private_webhooks: bool = False
    route_secrets_prefix: str = "puraify/dev/alert-routes"  # Secrets Manager: <prefix>/<project>/...

    # Planning Engine
    plan_facts_table: str = "PlanFactsTable"
    plan_decisions_table: str = "PlanDecisionsTable"
    policy_bucket: str = "policybucket"
    plan_fact_max_age_seconds: float = Field(default=45.0, gt=0, le=3600)
    plan_provider_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    plan_policy_poll_seconds: float = Field(default=30.0, ge=0, le=3600)
    plan_fail_safe_mode: Literal["deny", "pause"] = "deny"
    plan_decision_budget_ms: int = Field(default=200, ge=1, le=10000)  # longer evaluations deny, fail-safe
    plan_decision_retention_days: int = Field(default=90, ge=1, le=3650)
    plan_snapshot_retention_hours: int = Field(default=24, ge=1, le=24 * 90)
    plan_error_window_seconds: int = Field(default=300, ge=10, le=86400)
    plan_http_facts: str = ""  # JSON object: fact id -> URL returning JSON (external metrics)
    plan_fact_max_ages: str = ""  # JSON object: fact id -> max age in seconds (others: plan_fact_max_age_seconds)

    # Environment Manager
    environments_table: str = "EnvironmentsTable"
    versions_table: str = "VersionsTable"
    secrets_prefix: str = "puraify/dev/env"  # Secrets Manager names: <prefix>/<project>/<env>/<variable>
    preview_url_base: str = "https://preview.puraify.app"
    production_gate: Literal["on", "off"] = "on"  # off: promotions into production skip the Planning gate
    deployment_bake_minutes: float = Field(default=10, ge=0, le=7 * 24 * 60)  # a promotion's default bake
    bake_baseline_seconds: int = Field(default=3600, ge=60, le=7 * 86400)  # previous version's window
    deployments_table: str = "DeploymentsTable"
    deployment_retention_days: int = Field(default=90, ge=1, le=3650)
    change_request_ttl_hours: float = Field(default=24, gt=0, le=24 * 30)  # a pending promotion's life
    # Four-eyes on grants: permission changes and admin registrations wait for a second admin.
    grant_changes_require_approval: bool = False


# Environment variable -> Settings field. Kept explicit so a reader can grep a variable's use.
_ENV = {
    "AWS_REGION": "region",
    # Declared (empty) in the template so `sam local invoke --env-vars` can point a container at the
    # local emulator (local/sam-env-vars.json); unset everywhere else, where botocore resolves endpoints.
    "PURAIFY_AWS_ENDPOINT_URL": "sam_local_endpoint_url",
    "ENGINES_TABLE": "engines_table",
    "CATALOG_TABLE": "catalog_table",
    "AUDIT_TABLE": "audit_table",
    "EVENTS_TABLE": "events_table",
    "PURAIFY_CACHE_TTL_SECONDS": "cache_ttl_seconds",
    "PURAIFY_NEGATIVE_CACHE_TTL_SECONDS": "negative_cache_ttl_seconds",
    "PURAIFY_KEY_ROTATION_GRACE_SECONDS": "key_rotation_grace_seconds",
    "PURAIFY_SELF_ROTATION_MAX_GRACE_SECONDS": "self_rotation_max_grace_seconds",
    "PURAIFY_AUDIT_RETENTION_DAYS": "audit_retention_days",
    "PURAIFY_EVENT_RETENTION_DAYS": "event_retention_days",
    "PURAIFY_MAX_BODY_BYTES": "max_body_bytes",
    "PURAIFY_API_VERSION": "api_version",
    "PURAIFY_CHECK_COUNT_FLUSH_SECONDS": "check_count_flush_seconds",
    "IDEMPOTENCY_TABLE": "idempotency_table",
    "PURAIFY_IDEMPOTENCY_TTL_SECONDS": "idempotency_ttl_seconds",
    "PURAIFY_ENGINE_RATE_LIMIT_PER_SECOND": "engine_rate_limit_per_second",
    "PURAIFY_ENGINE_RATE_LIMIT_BURST": "engine_rate_limit_burst",
    "PURAIFY_ENGINE_EVENTS_PER_SECOND": "engine_events_per_second",
    "PURAIFY_RATE_LIMIT_SYNC_SECONDS": "rate_limit_sync_seconds",
    "ALERTS_TABLE": "alerts_table",
    "AGGREGATES_TABLE": "aggregates_table",
    "ALERTS_TOPIC_ARN": "alerts_topic_arn",
    "PURAIFY_SLACK_WEBHOOK_PARAMETER": "slack_webhook_parameter",
    "PURAIFY_ALERT_RETENTION_DAYS": "alert_retention_days",
    "PURAIFY_AGGREGATE_RETENTION_DAYS": "aggregate_retention_days",
    "PURAIFY_LOG_MAX_BODY_BYTES": "log_max_body_bytes",
    "PURAIFY_EVENT_SHARDS": "event_shards",
    "PURAIFY_ALERT_THRESHOLD_COUNT": "alert_threshold_count",
    "PURAIFY_ALERTS_PER_MINUTE_PER_PROJECT": "alerts_per_minute_per_project",
    "PURAIFY_ALERTS_PER_MINUTE_PER_ENGINE": "alerts_per_minute_per_engine",
    "PURAIFY_ALERT_THRESHOLD_WINDOW_SECONDS": "alert_threshold_window_seconds",
    "PURAIFY_ALERT_FLOOD_WINDOW_SECONDS": "alert_flood_window_seconds",
    "PURAIFY_ALERT_AUTO_RESOLVE_MINUTES": "alert_auto_resolve_minutes",
    "PURAIFY_ALERT_NOTIFY_MIN_SEVERITY": "alert_notify_min_severity",
    "PURAIFY_ALERT_OPEN_HOURS": "alert_open_hours",
    "PURAIFY_ALERT_SEVERITY_RULES": "alert_severity_rules",
    "PURAIFY_DISPATCH_TIMEOUT_SECONDS": "dispatch_timeout_seconds",
    "PURAIFY_DISPATCH_MAX_ATTEMPTS": "dispatch_max_attempts",
    "PURAIFY_ALLOW_PRIVATE_WEBHOOKS": "allow_private_webhooks",
    "PURAIFY_ROUTE_SECRETS_PREFIX": "route_secrets_prefix",
    "ENVIRONMENTS_TABLE": "environments_table",
    "VERSIONS_TABLE": "versions_table",
    "PURAIFY_SECRETS_PREFIX": "secrets_prefix",
    "PURAIFY_PREVIEW_URL_BASE": "preview_url_base",
    "PURAIFY_PRODUCTION_GATE": "production_gate",
    "PURAIFY_DEPLOYMENT_BAKE_MINUTES": "deployment_bake_minutes",
    "PURAIFY_BAKE_BASELINE_SECONDS": "bake_baseline_seconds",
    "DEPLOYMENTS_TABLE": "deployments_table",
    "PURAIFY_DEPLOYMENT_RETENTION_DAYS": "deployment_retention_days",
    "PURAIFY_CHANGE_REQUEST_TTL_HOURS": "change_request_ttl_hours",
    "PURAIFY_GRANT_CHANGES_REQUIRE_APPROVAL": "grant_changes_require_approval",
    "PLAN_FACTS_TABLE": "plan_facts_table",
    "PLAN_DECISIONS_TABLE": "plan_decisions_table",
    "POLICY_BUCKET": "policy_bucket",
    "PURAIFY_PLAN_FACT_MAX_AGE_SECONDS": "plan_fact_max_age_seconds",
    "PURAIFY_PLAN_PROVIDER_TIMEOUT_SECONDS": "plan_provider_timeout_seconds",
    "PURAIFY_PLAN_POLICY_POLL_SECONDS": "plan_policy_poll_seconds",
    "PURAIFY_PLAN_FAIL_SAFE_MODE": "plan_fail_safe_mode",
    "PURAIFY_PLAN_DECISION_BUDGET_MS": "plan_decision_budget_ms",
    "PURAIFY_PLAN_DECISION_RETENTION_DAYS": "plan_decision_retention_days",
    "PURAIFY_PLAN_SNAPSHOT_RETENTION_HOURS": "plan_snapshot_retention_hours",
    "PURAIFY_PLAN_ERROR_WINDOW_SECONDS": "plan_error_window_seconds",
    "PURAIFY_PLAN_HTTP_FACTS": "plan_http_facts",
    "PURAIFY_PLAN_FACT_MAX_AGES": "plan_fact_max_ages",
}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, parsed once."""
    values = {field: os.environ[var] for var, field in _ENV.items() if os.environ.get(var)}
    return Settings.model_validate(values)
