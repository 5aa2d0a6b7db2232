"""Wires stores, caches and services together once per process (per Lambda cold start).

Handlers call ``current()``; tests and benchmarks ``install()`` a runtime built on in-memory
stores, or ``reset()`` after pointing the process at another endpoint.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from puraify import settings as settings_module
from puraify.audit import AuditLog
from puraify.auth import Authenticator
from puraify.cache import TtlCache
from puraify.engine_control.check_counts import CheckCounter
from puraify.engine_control.service import EngineControl
from puraify.settings import Settings

if TYPE_CHECKING:
    from puraify.idempotency import Idempotency

T = TypeVar("T")


@dataclass
class Runtime:
    settings: Settings
    engines: Any
    catalog: Any
    audit_store: Any
    events: Any
    auth: Authenticator
    audit: AuditLog
    engine_control: EngineControl
    idempotency_layer: Callable[[], Any]  # Powertools' persistence layer, made on first use
    services: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def idempotency(self) -> Idempotency:
        """Retries of the routes that take an Idempotency-Key; imported on first use (the check has none)."""
        from puraify.idempotency import Idempotency

        return Idempotency(self.idempotency_layer(), self.settings.idempotency_ttl_seconds)

    def service(self, name: str, factory: Callable[[Runtime], T]) -> T:
        """The service ``name`` of this runtime, built by ``factory(runtime)`` on first use.

        Each service package (monitoring, environments, planning) wires itself through this, so
        ``reset()`` and ``install()`` rebuild every service together with the stores it uses.
        """
        found = self.services.get(name)
        if found is None:
            found = self.services[name] = factory(self)
        return found


def build(
    settings: Settings,
    *,
    engines: Any,
    catalog: Any,
    audit_store: Any,
    events: Any,
    check_counts: Any = None,
    idempotency_layer: Callable[[], Any] | None = None,
) -> Runtime:
    """A runtime over the given stores (DynamoDB ones in Lambda, memory ones in unit tests)."""
    if check_counts is None:
        from puraify.store.memory import MemoryCheckCountStore

        check_counts = MemoryCheckCountStore()
    counter = CheckCounter(
        check_counts,
        retention_days=settings.aggregate_retention_days,
        flush_seconds=settings.check_count_flush_seconds,
    )
    auth = Authenticator(engines.get, TtlCache(settings.cache_ttl_seconds, settings.negative_cache_ttl_seconds))
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
    )
    return Runtime(
        settings,
        engines,
        catalog,
        audit_store,
        events,
        auth,
        audit,
        control,
        idempotency_layer or _memory_persistence,
    )


def _memory_persistence() -> Any:
    from puraify.store.idempotency import MemoryPersistenceLayer

    return MemoryPersistenceLayer()


def build_default() -> Runtime:
    from puraify.store.audit import DynamoAuditStore
    from puraify.store.catalog import DynamoCatalogStore
    from puraify.store.check_counts import DynamoCheckCountStore
    from puraify.store.engines import DynamoEngineStore
    from puraify.store.events import DynamoEventStore

    settings = settings_module.get_settings()

    def idempotency_layer() -> Any:
        from puraify.store.idempotency import dynamo_persistence

        return dynamo_persistence(settings.idempotency_table)

    return build(
        settings,
        engines=DynamoEngineStore(settings.engines_table),
        catalog=DynamoCatalogStore(settings.catalog_table),
        audit_store=DynamoAuditStore(settings.audit_table),
        events=DynamoEventStore(settings.events_table),
        check_counts=DynamoCheckCountStore(settings.aggregates_table),
        idempotency_layer=idempotency_layer,
    )


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
