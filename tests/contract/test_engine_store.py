"""EngineStore: engine records, created once, replaced only over the key hash the writer read."""

from __future__ import annotations

import pytest

from puraify.auth import ADMIN_SCOPE
from puraify.engine_control.ports import EngineStore
from puraify.engine_control.records import EngineRecord
from puraify.errors import ConflictError, NotFoundError
from puraify.store.engines import DynamoEngineStore
from tests.fakes.engine_control import MemoryEngineStore


@pytest.fixture
def store(side: str, resources) -> EngineStore:
    if side == "fake":
        return MemoryEngineStore()
    return DynamoEngineStore(resources("EnginesTable").name("EnginesTable"))


def engine(engine_id: str, key_hash: str = "h1", **fields) -> EngineRecord:
    return EngineRecord(
        engine_id=engine_id,
        key_hash=key_hash,
        created_at="2025-01-01T00:00:00Z",
        updated_at="2025-01-01T00:00:00Z",
        **fields,
    )


def test_create_then_get_returns_the_record(store: EngineStore) -> None:
    record = engine("e1", permissions={"shop": ["buy"]}, scopes=["engines:read"], projects=["p1"],
                    previous_key_hash="h0", previous_key_expires_at=1_700_000_000.5)  # fmt: skip
    store.create(record)
    assert store.get("e1") == record
    assert store.get("nobody") is None


def test_create_of_an_existing_id_is_a_conflict_even_when_revoked(store: EngineStore) -> None:
    store.create(engine("e1"))
    store.update(engine("e1", status="revoked"), "h1")
    with pytest.raises(ConflictError) as raised:
        store.create(engine("e1", key_hash="h2"))
    assert raised.value.code == "engine_exists"
    assert store.get("e1").status == "revoked"


def test_list_returns_every_engine(store: EngineStore) -> None:
    for n in range(3):
        store.create(engine(f"e{n}"))
    assert sorted(r.engine_id for r in store.list()) == ["e0", "e1", "e2"]


def test_update_replaces_the_record_when_the_key_hash_is_the_one_read(store: EngineStore) -> None:
    store.create(engine("e1"))
    store.update(engine("e1", key_hash="h2", previous_key_hash="h1"), "h1")
    assert store.get("e1").key_hash == "h2"
    assert store.get("e1").previous_key_hash == "h1"


def test_update_with_a_stale_key_hash_is_a_conflict_and_writes_nothing(store: EngineStore) -> None:
    store.create(engine("e1"))
    store.update(engine("e1", key_hash="h2"), "h1")  # a rotation won the race
    with pytest.raises(ConflictError) as raised:
        store.update(engine("e1", key_hash="h3"), "h1")
    assert raised.value.code == "concurrent_change"
    assert store.get("e1").key_hash == "h2"


@pytest.mark.parametrize("revoked", [False, True])
def test_update_of_a_missing_or_revoked_engine_is_not_found(store: EngineStore, revoked: bool) -> None:
    if revoked:
        store.create(engine("e1"))
        store.update(engine("e1", status="revoked"), "h1")
    with pytest.raises(NotFoundError) as raised:
        store.update(engine("e1", key_hash="h9"), "h1")
    assert raised.value.code == "engine_not_found"
    assert store.get("e1") is None or store.get("e1").key_hash == "h1"


def test_update_keeping_an_admin_succeeds_while_that_admin_is_active(store: EngineStore) -> None:
    store.create(engine("a1", scopes=[ADMIN_SCOPE]))
    store.create(engine("a2", scopes=[ADMIN_SCOPE]))
    store.update(engine("a1", status="revoked"), "h1", keep_admin="a2")
    assert store.get("a1").status == "revoked"


@pytest.mark.parametrize("other", ["revoked", "not_admin", "missing"])
def test_update_keeping_an_admin_that_is_gone_is_a_last_admin_conflict(store: EngineStore, other: str) -> None:
    store.create(engine("a1", scopes=[ADMIN_SCOPE]))
    if other != "missing":
        store.create(engine("a2", scopes=[ADMIN_SCOPE] if other == "revoked" else ["engines:read"]))
    if other == "revoked":
        store.update(engine("a2", scopes=[ADMIN_SCOPE], status="revoked"), "h1")
    with pytest.raises(ConflictError) as raised:
        store.update(engine("a1", status="revoked"), "h1", keep_admin="a2")
    assert raised.value.code == "last_admin"
    assert store.get("a1").status == "active"


def test_update_keeping_an_admin_with_a_stale_key_hash_is_a_concurrent_change(store: EngineStore) -> None:
    store.create(engine("a1", scopes=[ADMIN_SCOPE]))
    store.create(engine("a2", scopes=[ADMIN_SCOPE]))
    with pytest.raises(ConflictError) as raised:
        store.update(engine("a1", status="revoked"), "stale", keep_admin="a2")
    assert raised.value.code == "concurrent_change"
