"""ChangeStore: change requests, one pending change per environment, writes conditional on ``seq``.

A request takes its environment's slot unless another unexpired change holds it (409 ``change_pending``
naming it); the write that ends a change frees its own slot, never the next request's.
"""

from __future__ import annotations

from typing import Any

import pytest

from puraify.environments.errors import ChangeChanged, ChangePending
from puraify.environments.ports import ChangeStore
from puraify.environments.records import ChangeRecord
from puraify.store.changes import DynamoChangeStore
from tests.fakes.environments import MemoryChangeStore

AT = 1_800_000_000.0


@pytest.fixture
def store(side: str, resources) -> ChangeStore:
    if side == "fake":
        return MemoryChangeStore()
    return DynamoChangeStore(resources("EnvironmentsTable").name("EnvironmentsTable"))


def change(n: int, environment: str = "production", project_id: str = "p1", **fields: Any) -> ChangeRecord:
    values: dict[str, Any] = {
        "change_id": f"chg_{1_800_000_000_000 + n:013d}0000000000",
        "project_id": project_id,
        "environment": environment,
        "requested_by": "releaser",
        "requested_at": "2027-01-15T08:00:00.000000Z",
        "expires_epoch": AT + 3600,
        "request": {"project_id": project_id, "source_env": "staging", "target_env": environment},
        "version": f"v1.0.{n}",
        "diff_from_previous": {"entities_added": ["User"]},
        "approvals_required": 1,
    }
    return ChangeRecord(**{**values, **fields})


def test_create_then_get_and_pending(store: ChangeStore) -> None:
    record = change(1)
    store.create(record, AT)
    assert store.get("p1", record.change_id) == record
    assert store.pending("p1", "production") == record.change_id
    assert store.pending("p1", "staging") is None
    assert store.get("p2", record.change_id) is None


def test_a_second_request_while_one_is_pending_names_it(store: ChangeStore) -> None:
    store.create(change(1), AT)
    with pytest.raises(ChangePending) as raised:
        store.create(change(2), AT + 10)
    assert raised.value.change_id == change(1).change_id
    assert store.get("p1", change(2).change_id) is None  # nothing of the refused request is written
    store.create(change(3, environment="staging"), AT)  # another environment has its own slot


def test_an_expired_slot_is_taken_by_the_next_request(store: ChangeStore) -> None:
    store.create(change(1), AT)
    store.create(change(2), AT + 3600)
    assert store.pending("p1", "production") == change(2).change_id


def test_replace_is_conditional_on_seq_and_an_ending_write_frees_the_slot(store: ChangeStore) -> None:
    record = change(1)
    store.create(record, AT)
    counted = record.model_copy(update={"seq": 2, "status": "applying"})
    store.replace(counted, 1)
    with pytest.raises(ChangeChanged):
        store.replace(record.model_copy(update={"seq": 2}), 1)  # a racing write read seq 1 too
    assert store.get("p1", record.change_id).status == "applying"
    assert store.pending("p1", "production") == record.change_id
    store.replace(counted.model_copy(update={"seq": 3, "status": "applied"}), 2, release=True)
    assert store.pending("p1", "production") is None
    store.create(change(2), AT)


def test_ending_an_expired_change_leaves_the_next_requests_slot(store: ChangeStore) -> None:
    first = change(1)
    store.create(first, AT)
    store.create(change(2), AT + 7200)
    store.replace(first.model_copy(update={"seq": 2, "status": "expired"}), 1, release=True)
    assert store.get("p1", first.change_id).status == "expired"
    assert store.pending("p1", "production") == change(2).change_id


def test_page_lists_newest_first_before_a_cursor(store: ChangeStore) -> None:
    for n in range(1, 6):
        store.create(change(n, environment=f"e{n}"), AT)
    store.create(change(9, project_id="p2"), AT)
    ids = [c.change_id for c in store.page("p1", 3)]
    assert ids == [change(n).change_id for n in (5, 4, 3)]
    rest = [c.change_id for c in store.page("p1", 3, before=ids[-1])]
    assert rest == [change(n).change_id for n in (2, 1)]
