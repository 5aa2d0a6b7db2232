"""CatalogStore: platforms and flags, one put per item, read back whole in one load."""

from __future__ import annotations

import pytest

from puraify.engine_control.ports import CatalogStore
from puraify.engine_control.records import ActionSpec, Catalog, Flag, Platform, ScheduledFlagChange
from puraify.errors import ConflictError
from puraify.store.catalog import DynamoCatalogStore
from tests.fakes.engine_control import MemoryCatalogStore


@pytest.fixture
def store(side: str, resources) -> CatalogStore:
    if side == "fake":
        return MemoryCatalogStore()
    return DynamoCatalogStore(resources("CatalogTable").name("CatalogTable"))


def test_an_empty_catalog_loads_empty(store: CatalogStore) -> None:
    assert store.load() == Catalog()


def test_platforms_and_flags_load_as_they_were_put(store: CatalogStore) -> None:
    shop = Platform(name="shop", actions={"buy": ActionSpec(required_scopes=["orders:write"])}, updated_by="admin")
    store.put_platform(shop)
    store.put_platform(Platform(name="crm", status="maintenance"))
    flag = Flag(name="beta", enabled=True, platform="shop", action_type="buy", description="d")
    store.put_flag(flag)
    catalog = store.load()
    assert catalog.platforms == {"shop": shop, "crm": Platform(name="crm", status="maintenance")}
    assert catalog.flags == {"beta": flag.model_copy(update={"revision": 1})}


def test_a_flags_scheduled_changes_load_as_they_were_put(store: CatalogStore) -> None:
    change = ScheduledFlagChange(
        schedule_id="a1", enabled=False, at="2030-01-01T02:00:00.000000Z", at_epoch=1893463200.25,
        created_by="admin", created_at="2029-12-31T00:00:00.000000Z",
    )  # fmt: skip
    flag = Flag(name="deployments", enabled=True, schedule=[change])
    store.put_flag(flag)
    loaded = store.load().flags["deployments"]
    assert loaded == flag.model_copy(update={"revision": 1})
    assert (loaded.enabled_at(1893463200.24), loaded.enabled_at(1893463200.25)) == (True, False)


def test_a_put_replaces_the_item_of_the_same_name(store: CatalogStore) -> None:
    store.put_platform(Platform(name="shop", actions={"buy": ActionSpec()}))
    store.put_platform(Platform(name="shop", status="disabled"))
    store.put_flag(Flag(name="beta", enabled=True, platform="shop"))
    store.put_flag(Flag(name="beta", enabled=False, revision=1))
    catalog = store.load()
    assert catalog.platforms["shop"] == Platform(name="shop", status="disabled")
    assert catalog.flags["beta"] == Flag(name="beta", enabled=False, revision=2)


def test_a_flag_write_from_a_stale_read_is_a_conflict_and_changes_nothing(store: CatalogStore) -> None:
    store.put_flag(Flag(name="beta", enabled=True))
    read_by_a, read_by_b = store.load().flags["beta"], store.load().flags["beta"]
    read_by_a.enabled = False
    store.put_flag(read_by_a)
    read_by_b.description = "stale"
    with pytest.raises(ConflictError) as raised:
        store.put_flag(read_by_b)
    assert raised.value.code == "concurrent_change"
    assert store.load().flags["beta"] == Flag(name="beta", enabled=False, revision=2)
    with pytest.raises(ConflictError):  # a second create of the same name is stale too
        store.put_flag(Flag(name="beta", enabled=True))


def test_a_platform_and_a_flag_may_share_a_name(store: CatalogStore) -> None:
    store.put_platform(Platform(name="x"))
    store.put_flag(Flag(name="x", enabled=True))
    catalog = store.load()
    assert set(catalog.platforms) == set(catalog.flags) == {"x"}


def test_the_loaded_catalog_is_a_copy(store: CatalogStore) -> None:
    store.put_platform(Platform(name="shop"))
    store.load().platforms["shop"].status = "disabled"
    assert store.load().platforms["shop"].status == "available"
