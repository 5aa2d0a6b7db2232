"""VersionCounterStore: per-minute counters of a (version, environment), added atomically, read by range."""

from __future__ import annotations

from typing import Any

import pytest

from puraify.monitoring.ports import VersionCounterStore
from puraify.store.monitoring_versions import DynamoVersionCounterStore
from tests.contract.conftest import expired, later
from tests.fakes.monitoring import MemoryVersionCounterStore


@pytest.fixture
def store(side: str, resources) -> VersionCounterStore:
    if side == "fake":
        return MemoryVersionCounterStore()
    return DynamoVersionCounterStore(resources("AggregatesTable").name("AggregatesTable"))


def add(store: VersionCounterStore, window: int, version: str = "v1", environment: str = "production",
        expires: int | None = None, project_id: str = "p1", reporter: str = "mailer",
        **counts: int) -> None:  # fmt: skip
    store.add_version_counts(project_id, version, environment, window, counts or {"events": 1},
                             later() if expires is None else expires, reporter)  # fmt: skip


def windows(items: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(i["version"], i["environment"], i["window_start"]) for i in items]


def test_adding_twice_adds_and_keeps_the_window_fields(store: VersionCounterStore) -> None:
    add(store, 60, events=2, errors=1, dur_n=2, dur_sum=300)
    add(store, 60, events=3, b_100=1)
    (item,) = store.version_windows("p1", "v1", "production", 60, 60)
    assert {k: v for k, v in item.items() if k not in ("pk", "sk", "expires_at")} == {
        "events": 5, "errors": 1, "dur_n": 2, "dur_sum": 300, "b_100": 1,
        "window_start": 60, "version": "v1", "environment": "production", "reporter": "mailer",
    }  # fmt: skip


def test_version_windows_is_an_inclusive_range_oldest_first(store: VersionCounterStore) -> None:
    for window in (180, 0, 120, 60, 240):
        add(store, window)
    add(store, 120, environment="staging")
    add(store, 120, version="v10")
    add(store, 120, project_id="p2")
    assert windows(store.version_windows("p1", "v1", "production", 60, 180)) == [
        ("v1", "production", 60), ("v1", "production", 120), ("v1", "production", 180)
    ]  # fmt: skip
    assert [w for _, _, w in windows(store.version_windows("p1", "v1", "production", -600, 0))] == [0]


def test_expired_windows_are_left_out(store: VersionCounterStore) -> None:
    add(store, 60, expires=expired())
    add(store, 120)
    add(store, 60, environment="staging", expires=expired())
    assert [w for _, _, w in windows(store.version_windows("p1", "v1", "production", 0, 600))] == [120]
    assert windows(store.versions_seen("p1", "v1")) == [("v1", "production", 120)]


def test_versions_seen_is_every_environment_of_that_version_only(store: VersionCounterStore) -> None:
    add(store, 60)
    add(store, 60, environment="staging")
    add(store, 60, version="v10")
    add(store, 60, version="v1#x")
    add(store, 60, version="v1", environment="pr#1")
    assert sorted(windows(store.versions_seen("p1", "v1"))) == [
        ("v1", "pr#1", 60), ("v1", "production", 60), ("v1", "staging", 60)
    ]  # fmt: skip
    assert windows(store.versions_seen("p1", "v1#x")) == [("v1#x", "production", 60)]
