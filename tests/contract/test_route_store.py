"""RouteStore: a project's routes document, silences by project and by id, deliveries owed and claimed."""

from __future__ import annotations

import pytest

from puraify.monitoring.ports import RouteStore
from puraify.store.monitoring_routes import DynamoRouteStore
from tests.contract.conftest import expired, later
from tests.fakes.routes import MemoryRouteStore


@pytest.fixture
def store(side: str, resources) -> RouteStore:
    if side == "fake":
        return MemoryRouteStore()
    return DynamoRouteStore(resources("AlertsTable").name("AlertsTable"))


def _silence(silence_id: str, project_id: str = "p1", expires_at: int | None = None) -> dict:
    return {"silence_id": silence_id, "project_id": project_id, "match": {"severity": ["critical"]},
            "starts_at": "2026-01-01T00:00:00.000000Z", "ends_at": "2026-01-02T00:00:00.000000Z", "reason": "r",
            "created_by": "e", "created_at": "2026-01-01T00:00:00.000000Z",
            "expires_at": later() if expires_at is None else expires_at}  # fmt: skip


def _delivery(delivery_id: str, next_attempt_at: float | None, alert_id: str = "a1") -> dict:
    return {"alert_id": alert_id, "project_id": "p1", "delivery_id": delivery_id,
            "created_at": f"2026-01-01T00:00:0{delivery_id[-1]}.000000Z", "event": "alert.opened", "route": "r",
            "channel": "webhook", "target": "https://x/…", "config": {"url": "https://x/y"},
            "secret": {"name": "n", "version": "v", "key": "k"}, "status": "pending", "attempts": 0, "failures": 0,
            "next_attempt_at": next_attempt_at, "expires_at": later()}  # fmt: skip


def test_routes_are_none_until_saved_then_replaced_whole(store: RouteStore) -> None:
    assert store.get_routes("p1") is None
    store.put_routes("p1", {"project_id": "p1", "routes": [{"name": "a", "channels": [{"type": "email"}]}]})
    store.put_routes("p1", {"project_id": "p1", "routes": [{"name": "b", "match": {"severity": ["low"]},
                                                            "channels": [{"type": "email"}]}]})  # fmt: skip
    found = store.get_routes("p1")
    assert found is not None and [r["name"] for r in found["routes"]] == ["b"]
    assert found["routes"][0]["match"] == {"severity": ["low"]}
    assert store.get_routes("p2") is None


def test_silences_are_found_by_id_listed_by_project_and_deleted(store: RouteStore) -> None:
    store.put_silence(_silence("s1"))
    store.put_silence(_silence("s2", "p2"))
    store.put_silence(_silence("s3", expires_at=expired()))
    assert [s["silence_id"] for s in store.silences("p1")] == ["s1"]
    found = store.find_silence("s1")
    assert found is not None and found["match"] == {"severity": ["critical"]} and found["project_id"] == "p1"
    assert store.find_silence("s3") is None and store.find_silence("nope") is None
    assert store.delete_silence("s1") is True
    assert store.delete_silence("s1") is False
    assert store.silences("p1") == [] and store.find_silence("s1") is None


def test_owed_deliveries_are_due_in_order_and_claimed_once(store: RouteStore) -> None:
    store.put_deliveries([_delivery("d1", 100.0), _delivery("d2", 50.0), _delivery("d3", None), _delivery("d4", 900.0)])
    due = store.due_deliveries(200.0)
    assert [d["delivery_id"] for d in due] == ["d2", "d1"]
    assert store.claim_delivery(due[0], 260.0) is True
    assert store.claim_delivery(due[0], 270.0) is False  # it moved since it was read
    assert [d["delivery_id"] for d in store.due_deliveries(200.0)] == ["d1"]
    finished = {**due[0], "status": "delivered", "attempts": 1, "next_attempt_at": None}
    store.update_delivery_record(finished)
    shown = {d["delivery_id"]: d for d in store.deliveries("a1")}
    assert set(shown) == {"d1", "d2", "d3", "d4"}
    assert shown["d2"]["status"] == "delivered" and shown["d2"].get("next_attempt_at") is None
    assert shown["d2"]["secret"] == {"name": "n", "version": "v", "key": "k"}
    assert store.deliveries("other") == []
    assert [d["delivery_id"] for d in store.due_deliveries(1000.0)] == ["d1", "d4"]
