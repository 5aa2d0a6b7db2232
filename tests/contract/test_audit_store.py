"""AuditStore: audit records as ``AuditLog.build`` makes them, and the reads Engine Control and the
Monitoring timeline make of them (``last_seen``, ``by_engine``, ``by_project``)."""

from __future__ import annotations

from typing import Any

import pytest

from puraify.audit import REPLAYED, AuditLog
from puraify.clock import iso, now
from puraify.store.audit import DynamoAuditStore
from tests.fakes.engine_control import MemoryAuditStore


@pytest.fixture
def store(side: str, resources) -> DynamoAuditStore | MemoryAuditStore:
    if side == "fake":
        return MemoryAuditStore()
    return DynamoAuditStore(resources("AuditTable").name("AuditTable"))


def record(engine_id: str, request_id: str, at: float, kind: str = "check", **fields: Any) -> dict[str, Any]:
    built = AuditLog(MemoryAuditStore(), retention_days=30).build(
        kind=kind, request_id=request_id, engine_id=engine_id, status="allowed", at=at, **fields
    )
    return built


def expire(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "expires_at": int(now()) - 60}


def test_put_then_by_engine_returns_the_record_without_its_none_fields(store) -> None:
    stored = record("e1", "r1", now(), platform="shop", action_type="buy", details={"n": 1})
    store.put(stored)
    (found,) = store.by_engine("e1")
    assert found == {k: v for k, v in stored.items() if v is not None}


def test_by_engine_is_oldest_first_limited_and_leaves_out_expired_records(store) -> None:
    at = now() - 100
    store.put_many([record("e1", f"r{n}", at + n) for n in range(4)] + [record("e2", "x", at)])
    store.put(expire(record("e1", "old", at - 50)))
    assert [r["request_id"] for r in store.by_engine("e1")] == ["r0", "r1", "r2", "r3"]
    assert [r["request_id"] for r in store.by_engine("e1", limit=2)] == ["r0", "r1"]


def test_by_project_finds_only_records_about_the_project(store) -> None:
    at = now() - 100
    store.put_many(
        [
            record("e1", "a", at, project_id="p1"),
            record("e2", "b", at + 1, project_id="p1"),
            record("e1", "c", at + 2, project_id="p2"),
            record("e1", "d", at + 3),
        ]
    )
    store.put(expire(record("e1", "old", at - 50, project_id="p1")))
    assert [r["request_id"] for r in store.by_project("p1")] == ["b", "a"]  # newest first


def test_a_batch_keeps_every_check_apart(store) -> None:
    at = now()
    audit = AuditLog(MemoryAuditStore(), retention_days=30)
    batch = [
        audit.build(kind="check", request_id="r1", engine_id="e1", status="denied", at=at, item=n) for n in range(3)
    ]
    store.put_many(batch)
    assert [r["item"] for r in store.by_engine("e1")] == [0, 1, 2]


def test_last_seen_is_the_newest_authenticated_request(store) -> None:
    at = now() - 100
    assert store.last_seen("e1") is None
    store.put(record("e1", "r1", at))
    store.put(record("e1", "r2", at + 10, kind="admin"))
    store.put(record("e1", "r3", at + 20, kind="auth"))  # a rejected credential claiming e1
    store.put(record("e2", "r4", at + 30))
    assert store.last_seen("e1") == record("e1", "r2", at + 10)["timestamp"]


def test_last_seen_ignores_an_engine_with_only_rejected_credentials(store) -> None:
    store.put(record("e1", "r1", now(), kind="auth"))
    assert store.last_seen("e1") is None


def test_checks_about_finds_an_engines_checks_whoever_asked_newest_first_in_the_window(store) -> None:
    at = now() - 100
    store.put_many(
        [
            record("e1", "a", at, platform="gmail", action_type="send"),
            record("e1", "b", at + 1, platform="slack", action_type="post", caller_id="gateway"),
            record("e2", "c", at + 2, platform="gmail", action_type="send"),
            record("e1", "d", at + 3, kind="admin"),
            record("e1", "e", at + 4, platform="gmail", action_type="send"),
        ]
    )
    store.put(expire(record("e1", "old", at - 50, platform="gmail", action_type="send")))
    window = {"since": iso(at - 60), "until": iso(at + 60)}
    assert [r["request_id"] for r in store.checks_about("e1", **window, limit=10)] == ["e", "b", "a"]
    assert [r["request_id"] for r in store.checks_about("e1", **window, limit=2)] == ["e", "b"]
    newest = store.checks_about("e1", **window, limit=1)[0]
    older = store.checks_about("e1", since=window["since"], until=newest["sk"], limit=10)  # the next page
    assert [r["request_id"] for r in older] == ["b", "a"]
    assert store.checks_about("e1", since=iso(at + 2), until=iso(at + 1), limit=10) == []  # inverted window


def test_checks_on_reads_every_shard_of_a_platform(store) -> None:
    at = now() - 100
    built = [record(f"e{n % 3}", f"r{n:02d}", at + n / 100, platform="gmail", action_type="send",
                    caller_id="gateway" if n % 4 == 0 else None) for n in range(24)]  # fmt: skip
    assert len({r["platform_pk"] for r in built}) > 1  # spread over shards
    store.put_many(built)
    store.put(record("e1", "other", at, platform="slack", action_type="post"))
    found = store.checks_on("gmail", since=iso(at - 1), until=iso(at + 60), limit=100)
    assert [r["request_id"] for r in found] == [f"r{n:02d}" for n in reversed(range(24))]
    assert set(found[0]) == {k for k in REPLAYED if built[0].get(k) is not None}  # only what a replay reads
    written = {r["request_id"]: r for r in built}
    assert [r for r in found if r != {k: written[r["request_id"]].get(k) for k in r}] == []  # as written
    assert {r["caller_id"] for r in found} == {"gateway", "e0", "e1", "e2"}  # the caller, from the key
    assert [r["request_id"] for r in store.checks_on("gmail", since=iso(at - 1), until=iso(at + 60), limit=3)] == [
        "r23", "r22", "r21"
    ]  # fmt: skip


def test_admin_changes_are_only_admin_records_newest_first(store) -> None:
    at = now() - 100
    store.put_many(
        [
            record("admin", "a", at, kind="admin", details={"operation": "put_flag"}),
            record("admin", "b", at + 1, platform="gmail", action_type="send"),
            record("ops", "c", at + 2, kind="admin", details={"operation": "revoke_engine"}),
        ]
    )
    found = store.admin_changes(since=iso(at - 1), until=iso(at + 60), limit=10)
    assert [r["request_id"] for r in found] == ["c", "a"]
