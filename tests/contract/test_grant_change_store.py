"""GrantChangeStore: grant changes waiting for a second admin; every write after the first is conditional
on ``seq``; pages newest first. The adapter keeps them beside the catalog without touching it."""

from __future__ import annotations

from typing import Any

import pytest

from puraify.engine_control.ports import GrantChangeStore
from puraify.engine_control.records import GrantChangeRecord
from puraify.errors import ConflictError
from puraify.store.grant_changes import DynamoGrantChangeStore
from tests.fakes.engine_control import MemoryGrantChangeStore


@pytest.fixture
def store(side: str, resources) -> GrantChangeStore:
    if side == "fake":
        return MemoryGrantChangeStore()
    return DynamoGrantChangeStore(resources("CatalogTable").name("CatalogTable"))


def change(n: int, **fields: Any) -> GrantChangeRecord:
    values: dict[str, Any] = {
        "change_id": f"gch_{1_800_000_000_000 + n:013d}0000000000",
        "kind": "permissions",
        "target": "mailer",
        "requested_by": "admin",
        "requested_at": "2027-01-15T08:00:00.000000Z",
        "expires_epoch": 1_800_086_400.0,
        "request": {"permissions": {"gmail": ["send_email"]}},
        "simulation": {"replayed": 3, "allow_to_deny": 2},
    }
    return GrantChangeRecord(**{**values, **fields})


def test_create_then_get(store: GrantChangeStore) -> None:
    store.create(change(1))
    assert store.get(change(1).change_id) == change(1)
    assert store.get(change(2).change_id) is None
    with pytest.raises(ConflictError):
        store.create(change(1))


def test_replace_is_conditional_on_seq(store: GrantChangeStore) -> None:
    store.create(change(1))
    store.replace(change(1, seq=2, status="applying"), 1)
    with pytest.raises(ConflictError) as raised:
        store.replace(change(1, seq=2, status="rejected"), 1)
    assert raised.value.code == "change_changed"
    assert store.get(change(1).change_id).status == "applying"


def test_page_lists_newest_first_before_a_cursor(store: GrantChangeStore) -> None:
    for n in range(1, 6):
        store.create(change(n))
    ids = [c.change_id for c in store.page(3)]
    assert ids == [change(n).change_id for n in (5, 4, 3)]
    assert [c.change_id for c in store.page(3, before=ids[-1])] == [change(n).change_id for n in (2, 1)]


def test_the_adapters_catalog_does_not_see_them(resources) -> None:
    from puraify.store.catalog import DynamoCatalogStore

    table = resources("CatalogTable").name("CatalogTable")
    DynamoGrantChangeStore(table).create(change(1))
    catalog = DynamoCatalogStore(table).load()
    assert catalog.platforms == {} and catalog.flags == {}
