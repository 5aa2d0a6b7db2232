"""FactStore: fact snapshots per scope; ``latest`` is the newest one, or None once it has expired."""

from __future__ import annotations

from typing import Any

import pytest

from puraify.clock import iso, now
from puraify.planning.models import Snapshot
from puraify.planning.ports import FactStore
from puraify.store.planning import DynamoFactStore
from tests.contract.conftest import expired, later
from tests.fakes.planning import MemoryFactStore


@pytest.fixture
def store(side: str, resources) -> FactStore:
    if side == "fake":
        return MemoryFactStore()
    return DynamoFactStore(resources("PlanFactsTable").name("PlanFactsTable"))


def snapshot(at: float, scope: str = "global", expires: int | None = None, **facts: Any) -> dict[str, Any]:
    taken = Snapshot(
        scope=scope,
        collected_at=at,
        facts={fid: {"id": fid, "value": value, "timestamp": at, "source": "test"} for fid, value in facts.items()},
        expires_at=later() if expires is None else expires,
    )
    return {**taken.model_dump(), "collected_iso": iso(at)}


def read(found: dict[str, Any] | None) -> Snapshot | None:
    """The snapshot as the Planning Engine reads it back."""
    return Snapshot.model_validate(found) if found is not None else None


def test_latest_is_the_newest_snapshot_of_the_scope(store: FactStore) -> None:
    at = now() - 60
    assert store.latest("global") is None
    store.put_snapshot(snapshot(at + 1, open_alerts=1))
    store.put_snapshot(snapshot(at + 2, open_alerts=2, error_rate=0.25, missing=None))
    store.put_snapshot(snapshot(at, open_alerts=0))
    store.put_snapshot(snapshot(at + 3, scope="other", open_alerts=9))
    assert read(store.latest("global")) == read(snapshot(at + 2, open_alerts=2, error_rate=0.25, missing=None))
    assert store.latest("global")["collected_iso"] == iso(at + 2)


def test_an_expired_newest_snapshot_is_none_even_if_an_older_one_lives(store: FactStore) -> None:
    at = now() - 60
    store.put_snapshot(snapshot(at, open_alerts=1))
    store.put_snapshot(snapshot(at + 1, expires=expired(), open_alerts=2))
    assert store.latest("global") is None


def test_a_snapshot_of_the_same_moment_replaces_the_other(store: FactStore) -> None:
    at = now() - 60
    store.put_snapshot(snapshot(at, open_alerts=1))
    store.put_snapshot(snapshot(at, open_alerts=2))
    assert read(store.latest("global")).facts["open_alerts"].value == 2
