"""No lockout: the last active admin can be neither revoked nor demoted, even by two admins at once."""

from __future__ import annotations

import threading

import pytest

from puraify.audit import AuditLog
from puraify.auth import Authenticator, Principal, hash_key
from puraify.cache import TtlCache
from puraify.engine_control import models as m
from puraify.engine_control.check_counts import CheckCounter
from puraify.engine_control.records import EngineRecord
from puraify.engine_control.service import EngineControl
from puraify.errors import ConflictError, PuraifyError
from tests.fakes.engine_control import MemoryAuditStore, MemoryCatalogStore, MemoryCheckCountStore, MemoryEngineStore


def admin_principal(engine_id: str) -> Principal:
    return Principal(engine_id=engine_id, scopes=frozenset({"admin"}), projects=frozenset({"*"}))


@pytest.fixture
def control() -> EngineControl:
    engines = MemoryEngineStore()
    for engine_id in ("a", "b"):
        engines.create(
            EngineRecord(
                engine_id=engine_id, key_hash=hash_key(engine_id), scopes=["admin"], created_at="t", updated_at="t"
            )
        )
    return EngineControl(
        engines,
        MemoryCatalogStore(),
        AuditLog(MemoryAuditStore(), 90),
        Authenticator(engines.get, TtlCache(30)),
        CheckCounter(MemoryCheckCountStore(), retention_days=1, flush_seconds=5),
        cache_ttl_seconds=30,
        rotation_grace_seconds=300,
        self_rotation_max_grace_seconds=3600,
        api_version="v1",
    )


def test_second_admin_can_go_but_the_last_cannot(control):
    control.revoke(admin_principal("a"), "b", "r1")
    with pytest.raises(ConflictError) as raised:
        control.revoke(admin_principal("a"), "a", "r2")
    assert raised.value.code == "last_admin"
    with pytest.raises(ConflictError) as demoted:
        control.set_permissions(admin_principal("a"), "a", m.EnginePermissionsRequest(permissions={}, scopes=[]), "r3")
    assert demoted.value.code == "last_admin"
    assert control.engines.get("a").status == "active" and "admin" in control.engines.get("a").scopes


def test_permission_change_that_keeps_admin_is_allowed(control):
    control.revoke(admin_principal("a"), "b", "r1")
    body = m.EnginePermissionsRequest(permissions={}, scopes=["admin", "logs:read"])
    assert control.set_permissions(admin_principal("a"), "a", body, "r2").scopes == ["admin", "logs:read"]


@pytest.mark.parametrize("attempt", range(20))
def test_two_admins_revoking_each_other_at_once_leave_one(control, attempt):
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def revoke(caller: str, target: str) -> None:
        barrier.wait()
        try:
            control.revoke(admin_principal(caller), target, f"r-{caller}")
            outcomes[caller] = "revoked"
        except PuraifyError as error:
            outcomes[caller] = error.code

    threads = [threading.Thread(target=revoke, args=pair) for pair in (("a", "b"), ("b", "a"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["last_admin", "revoked"]
    active = [e.engine_id for e in control.engines.list() if e.status == "active"]
    assert len(active) == 1
