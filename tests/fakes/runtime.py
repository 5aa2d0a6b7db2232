"""A whole runtime over in-memory stores: Engine Control's fakes and the idempotency layer's."""

from __future__ import annotations

from puraify import wiring
from puraify.settings import Settings, get_settings
from tests.fakes.engine_control import MemoryAuditStore, MemoryCatalogStore, MemoryCheckCountStore, MemoryEngineStore
from tests.fakes.idempotency import MemoryPersistenceLayer


def memory_runtime(
    settings: Settings | None = None,
    *,
    engines: MemoryEngineStore | None = None,
    catalog: MemoryCatalogStore | None = None,
    audit_store: MemoryAuditStore | None = None,
    check_counts: MemoryCheckCountStore | None = None,
) -> wiring.Runtime:
    """``wiring.build`` over fakes; a store given is used, the others are new and empty."""
    return wiring.build(
        settings or get_settings(),
        engines=engines if engines is not None else MemoryEngineStore(),
        catalog=catalog if catalog is not None else MemoryCatalogStore(),
        audit_store=audit_store if audit_store is not None else MemoryAuditStore(),
        check_counts=check_counts if check_counts is not None else MemoryCheckCountStore(),
        idempotency_layer=MemoryPersistenceLayer,
    )
