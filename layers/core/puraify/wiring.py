"""The one place that names the AWS adapters and joins the services: a typed Runtime per process.

Every service declares what it needs from outside itself in its ``ports.py`` (stores, channels,
other services); this module is the only one that builds an implementation of each and hands it
over. A Lambda builds its Runtime once per cold start (``current()``); each service is built on
first use, so the check function never builds the Planning Engine. Tests ``install()`` a runtime
over in-memory fakes (``tests/fakes``), or ``reset()`` after pointing the process at another
endpoint. A missing dependency is an error at startup, never a silent in-memory stand-in.

    functions/<name>/app.py -> puraify.http -> puraify.wiring -> puraify.store (adapters)
                                                              -> puraify.<service> (logic, ports)
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from puraify import settings as settings_module
from puraify.audit import AuditLog, AuditStore
from puraify.auth import Authenticator
from puraify.cache import TtlCache
from puraify.engine_control.check_counts import CheckCounter
from puraify.engine_control.ports import CatalogStore, CheckCountStore, EngineStore, GrantChangeStore
from puraify.engine_control.records import EngineRecord
from puraify.engine_control.service import EngineControl
from puraify.ratelimit import Limit, RateLimiter, UsageStore
from puraify.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

    from puraify.environments.service import Environments
    from puraify.idempotency import Idempotency
    from puraify.monitoring.service import Monitoring
    from puraify.planning.service import PlanningService


@dataclass
class Runtime:
    """The stores and services of one process. Services are built on first use; a test may set one."""

    settings: Settings
    engines: EngineStore
    catalog: CatalogStore
    audit_store: AuditStore
    auth: Authenticator[EngineRecord]
    audit: AuditLog
    engine_control: EngineControl
    idempotency_layer: Callable[[], BasePersistenceLayer]  # Powertools' persistence layer, made on first use

    @cached_property
    def idempotency(self) -> Idempotency:
        """Retries of the routes that take an Idempotency-Key; imported on first use (the check has none)."""
        from puraify.idempotency import Idempotency

        return Idempotency(self.idempotency_layer(), self.settings.idempotency_ttl_seconds)

    @cached_property
    def monitoring(self) -> Monitoring:
        return build_monitoring(self)

    @cached_property
    def environments(self) -> Environments:
        return build_environments(self)

    @cached_property
    def planning(self) -> PlanningService:
        return build_planning(self)


def build(
    settings: Settings,
    *,
    engines: EngineStore,
    catalog: CatalogStore,
    audit_store: AuditStore,
    check_counts: CheckCountStore,
    idempotency_layer: Callable[[], BasePersistenceLayer],
    rate_limits: UsageStore | None = None,
    grant_changes: GrantChangeStore | None = None,
) -> Runtime:
    """A runtime over the given stores: the DynamoDB adapters in Lambda, fakes in unit tests.

    Without ``rate_limits`` each process keeps its exact local limit and shares nothing (one instance).
    """
    counter = CheckCounter(
        check_counts,
        retention_days=settings.aggregate_retention_days,
        flush_seconds=settings.check_count_flush_seconds,
    )
    auth: Authenticator[EngineRecord] = Authenticator(
        engines.get,
        TtlCache(settings.cache_ttl_seconds, settings.negative_cache_ttl_seconds),
        RateLimiter(rate_limits, sync_seconds=settings.rate_limit_sync_seconds),
        Limit(settings.engine_rate_limit_per_second, settings.engine_rate_limit_burst),
        settings.engine_events_per_second,
    )
    audit = AuditLog(audit_store, settings.audit_retention_days)
    control = EngineControl(
        engines,
        catalog,
        audit,
        auth,
        counter,
        cache_ttl_seconds=settings.cache_ttl_seconds,
        rotation_grace_seconds=settings.key_rotation_grace_seconds,
        self_rotation_max_grace_seconds=settings.self_rotation_max_grace_seconds,
        api_version=settings.api_version,
        grant_changes=grant_changes,
        grant_approvals=settings.grant_changes_require_approval,
        change_ttl_hours=settings.change_request_ttl_hours,
    )
    return Runtime(settings, engines, catalog, audit_store, auth, audit, control, idempotency_layer)


def build_default() -> Runtime:
    """The runtime of a deployed function: every store on its DynamoDB table."""
    from puraify.store.audit import DynamoAuditStore
    from puraify.store.catalog import DynamoCatalogStore
    from puraify.store.check_counts import DynamoCheckCountStore
    from puraify.store.engines import DynamoEngineStore
    from puraify.store.grant_changes import DynamoGrantChangeStore
    from puraify.store.rate_limits import DynamoUsageStore

    settings = settings_module.get_settings()

    def idempotency_layer() -> BasePersistenceLayer:
        from puraify.store.idempotency import dynamo_persistence

        return dynamo_persistence(settings.idempotency_table)

    runtime = build(
        settings,
        engines=DynamoEngineStore(settings.engines_table),
        catalog=DynamoCatalogStore(settings.catalog_table),
        audit_store=DynamoAuditStore(settings.audit_table),
        check_counts=DynamoCheckCountStore(settings.aggregates_table),
        idempotency_layer=idempotency_layer,
        rate_limits=DynamoUsageStore(settings.aggregates_table),
        grant_changes=DynamoGrantChangeStore(settings.catalog_table),
    )
    runtime.engine_control.key_rotated = lambda engine_id, by: runtime.monitoring.resolve_engine_alert(
        engine_id, "key_expiring", by=by, reason="key rotated"
    )
    return runtime


# --- the services, each over its adapters and joined to the services it needs ----------------------


def build_monitoring(rt: Runtime) -> Monitoring:
    from puraify.monitoring.service import create
    from puraify.planning.bundles import published
    from puraify.store.check_counts import DynamoCheckCountStore
    from puraify.store.events import DynamoEventStore
    from puraify.store.monitoring import DynamoMonitoringStore
    from puraify.store.monitoring_channels import SnsTopic, SsmParameters
    from puraify.store.monitoring_routes import DynamoRouteStore
    from puraify.store.monitoring_versions import DynamoVersionCounterStore
    from puraify.store.planning import S3BundleStore
    from puraify.store.project_marks import DynamoProjectMarks
    from puraify.store.secrets import SecretsManagerStore

    s = rt.settings
    return create(
        s,
        DynamoMonitoringStore(s.events_table, s.aggregates_table, s.alerts_table, s.event_shards),
        SsmParameters(),
        SnsTopic(),
        versions=DynamoVersionCounterStore(s.aggregates_table),
        check_counts=DynamoCheckCountStore(s.aggregates_table),
        engine_events=DynamoEventStore(s.events_table),
        # Joined at call time: the Environment Manager and the Planning Engine are built on first use.
        deployment_states=lambda project_id, limit: rt.environments.deployment_states(project_id, limit),
        policy_bundle=lambda: published(S3BundleStore(s.policy_bucket)),
        route_store=DynamoRouteStore(s.alerts_table),
        channel_secrets=SecretsManagerStore(s.route_secrets_prefix),
        project_marks=DynamoProjectMarks(s.aggregates_table, "events"),
        environment_marks=DynamoProjectMarks(s.environments_table, "environments"),
    )


def build_environments(rt: Runtime) -> Environments:
    from puraify.environments.service import Environments
    from puraify.store.changes import DynamoChangeStore
    from puraify.store.deployments import DynamoDeploymentStore
    from puraify.store.environments import DynamoEnvironmentStore
    from puraify.store.project_marks import DynamoProjectMarks
    from puraify.store.secrets import SecretsManagerStore

    s = rt.settings
    return Environments(
        DynamoEnvironmentStore(s.environments_table, s.versions_table),
        SecretsManagerStore(s.secrets_prefix),
        rt.audit,
        gate=production_gate(rt),
        url_base=s.preview_url_base,
        deployments=DynamoDeploymentStore(s.deployments_table),
        judge=lambda **request: _deployment_gate(rt).post_deploy(**request),
        alert=lambda **fields: rt.monitoring.raise_alert(**fields),
        default_bake_seconds=round(s.deployment_bake_minutes * 60),
        deployment_retention_days=s.deployment_retention_days,
        changes=DynamoChangeStore(s.environments_table),
        change_ttl_hours=s.change_request_ttl_hours,
        project_marks=DynamoProjectMarks(s.environments_table),
    )


def production_gate(rt: Runtime) -> Callable[..., Any]:
    """The Environment Manager's gate: the Planning Engine's decision (``PURAIFY_PRODUCTION_GATE=off``: none)."""
    from puraify.environments.gate import GateDecision

    if rt.settings.production_gate == "off":
        return lambda **_: GateDecision(allow=True, reasons=["production gate disabled by setting"])
    return lambda **request: _deployment_gate(rt).promotion(**request)


def _deployment_gate(rt: Runtime) -> Any:
    from puraify.planning.gate import DeploymentGate

    return DeploymentGate(rt.planning)


def build_planning(rt: Runtime) -> PlanningService:
    from puraify.planning.providers import builtin_providers
    from puraify.planning.service import PlanningService
    from puraify.store.check_counts import DynamoCheckCountStore
    from puraify.store.engines import DynamoEngineStore
    from puraify.store.planning import DynamoDecisionStore, DynamoFactStore, S3BundleStore

    s = rt.settings
    return PlanningService(
        settings=s,
        facts=DynamoFactStore(s.plan_facts_table),
        decisions=DynamoDecisionStore(s.plan_decisions_table),
        bundle_store=S3BundleStore(s.policy_bucket),
        providers=builtin_providers(s, rt.monitoring, rt.environments, rt.catalog),
        audit=rt.audit,
        alert=lambda **fields: rt.monitoring.raise_alert(**fields),
        engine_counters=DynamoCheckCountStore(s.aggregates_table),
        engine_alert=lambda **fields: rt.monitoring.raise_engine_alert(**fields),
        suspend=lambda engine_id, reason: _suspend_for_anomaly(rt, engine_id, reason),
        expiring_keys=DynamoEngineStore(s.engines_table).expiring_keys,
    )


def _suspend_for_anomaly(rt: Runtime, engine_id: str, reason: str) -> Any:
    """Engine Control's suspend, by the Planning Engine (audited as ``planning``; 409 for the last admin)."""
    import uuid

    from puraify.auth import ADMIN_SCOPE, Principal
    from puraify.engine_control.models import EngineSuspendRequest

    caller = Principal(engine_id="planning", scopes=frozenset({ADMIN_SCOPE}))
    return rt.engine_control.suspend(
        caller, engine_id, EngineSuspendRequest(reason=reason), f"engine-watch-{uuid.uuid4().hex}"
    )


# --- this process's runtime ---------------------------------------------------------------------

_current: Runtime | None = None


def current() -> Runtime:
    global _current
    if _current is None:
        _current = build_default()
    return _current


def install(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def reset() -> None:
    """Forget settings, clients and caches: the next request rebuilds them from the environment."""
    from puraify.store import clients

    install(None)
    settings_module.get_settings.cache_clear()
    clients.reset()


def close() -> None:
    """A process about to end (the local runner's SIGTERM/SIGINT): write what the check counter holds."""
    if _current is not None:
        _current.engine_control.counter.close()


def prepare_snapshot() -> None:
    """SnapStart, before the snapshot: settings, stores and services built once for every restored
    instance. Nothing unique to an instance exists yet (no AWS client, connection or credentials)."""
    current().engine_control.counter.flush()


def restored() -> None:
    """SnapStart, after a restore: make anew what one snapshot must not share between instances.

    Random state (reseeded), AWS clients with their connections and credentials (rebuilt on first
    use), cached engines and catalog (a snapshot's entries are of unknown age, which would break the
    revocation bound), and the check counter's tally (counted by the instance that took the snapshot).
    """
    from puraify import observability
    from puraify.store import clients

    random.seed()
    clients.reset()
    observability.restored()
    if _current is not None:
        _current.auth.cache.invalidate()
        _current.engine_control.forget_cached()
        _current.engine_control.counter.discard()
        if _current.auth.limiter is not None:
            _current.auth.limiter.discard()
