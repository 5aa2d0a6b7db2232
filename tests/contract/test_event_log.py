"""EventLog (Monitoring's events, ledgers and error aggregates): exactly-once creation and counting.

What ingest relies on: an event is created once (a second writer is told it exists; the writer whose
reply was lost, retrying under the same ledger, is told it created it); a ledger is applied once
(its counts added and the ledger gone in one step, a second apply skips it); reads leave out expired
items and come newest first unless asked otherwise.
"""

from __future__ import annotations

from typing import Any

import pytest

from puraify.clock import now
from puraify.monitoring.ingest import IngestConfig, build_ledger, counter_updates
from puraify.monitoring.ports import EventLog
from puraify.store.monitoring import DynamoMonitoringStore
from tests.contract.conftest import expired, later
from tests.fakes.monitoring import MemoryMonitoringStore

CONFIG = IngestConfig(event_retention_days=7, aggregate_retention_days=30, window_seconds=60, threshold_count=5,
                      notify_min_severity="high", rules=[])  # fmt: skip
AT = float(int(now()) // 60 * 60 - 600)  # a window start (recent: aggregates expire after 30 days)


@pytest.fixture
def store(side: str, resources) -> EventLog:
    if side == "fake":
        return MemoryMonitoringStore(shards=4)
    aws = resources("EventsTable", "AggregatesTable", "AlertsTable")
    return DynamoMonitoringStore(aws.name("EventsTable"), aws.name("AggregatesTable"), aws.name("AlertsTable"), 4)


def event(n: int, project_id: str = "p1", error: bool = False, **fields: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "project_id": project_id,
        "event_id": f"ev-{n:03d}",
        "timestamp": f"2026-01-01T00:00:{n:02d}.000000Z",
        "event_type": "execution",
        "platform": "Shop",
        "flow_id": f"flow-{n % 2}",
        "expires_at": later(),
    }
    if error:
        found.update(is_error=True, fingerprint="fp1", error_type="Timeout", severity="high", message=f"m{n}")
    return {**found, **fields}


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["event_id"] for i in items]


def test_an_events_key_is_stable_and_within_the_shards(store: EventLog) -> None:
    keys = {n: store.event_key("p1", f"ev-{n}") for n in range(20)}
    assert keys == {n: store.event_key("p1", f"ev-{n}") for n in range(20)}
    assert {k["pk"] for k in keys.values()} <= {f"EV#p1#{shard}" for shard in range(4)}
    assert all(keys[n] == {"pk": f"EV#p1#{store.shard(f'ev-{n}')}", "sk": f"ev-{n}"} for n in keys)


# --- events --------------------------------------------------------------------------------------


def test_events_are_created_once(store: EventLog) -> None:
    made, refused = store.create_events([event(1), event(2)], "l1")
    assert (ids(made), refused) == (["ev-001", "ev-002"], [])
    made, _ = store.create_events([event(2), event(3)], "l2")  # another writer: ev-002 is not its own
    assert ids(made) == ["ev-003"]
    assert store.existing_events([("p1", "ev-001"), ("p1", "ev-003"), ("p1", "ev-009"), ("p2", "ev-001")]) == {
        ("p1", "ev-001"), ("p1", "ev-003")
    }  # fmt: skip


@pytest.mark.parametrize("count", [1, 3])
def test_a_writer_retrying_under_its_own_ledger_is_told_it_created_them(store: EventLog, count: int) -> None:
    batch = [event(n) for n in range(count)]
    store.create_events(batch, "l1")
    made, refused = store.create_events(batch, "l1")
    assert (ids(made), refused) == (ids(batch), [])


def test_events_of_ledger_are_those_its_writer_created(store: EventLog) -> None:
    store.create_events([event(1), event(2)], "l1")
    store.create_events([event(2), event(3)], "l2")
    found = store.events_of_ledger({"ledger_id": "l2", "events": [["p1", "ev-002"], ["p1", "ev-003"]]})
    assert ids(found) == ["ev-003"]
    (stored,) = found
    assert {k: stored[k] for k in event(3)} == event(3) and stored["ledger_id"] == "l2"


def test_query_events_by_time_is_newest_first_limited_and_unexpired(store: EventLog) -> None:
    store.create_events([event(n) for n in range(1, 6)] + [event(6, expires_at=expired()), event(7, "p2")], "l1")
    found, more = store.query_events("p1", index="by_time", limit=3)
    assert (ids(found), more) == (["ev-005", "ev-004", "ev-003"], True)
    found, more = store.query_events("p1", index="by_time", limit=10, newest_first=False)
    assert (ids(found), more) == (["ev-001", "ev-002", "ev-003", "ev-004", "ev-005"], False)


def test_query_events_takes_a_range_of_timestamps(store: EventLog) -> None:
    store.create_events([event(n) for n in range(1, 6)], "l1")
    low, high = "2026-01-01T00:00:02", "2026-01-01T00:00:04"  # ``ts`` is <timestamp>#<event_id>
    found, _ = store.query_events("p1", index="by_time", low=low, high=high, limit=10)
    assert ids(found) == ["ev-003", "ev-002"]
    assert store.query_events("p1", index="by_time", low=high, high=low, limit=10) == ([], False)


def test_query_events_by_index_and_filters(store: EventLog) -> None:
    store.create_events([event(1), event(2, error=True), event(3, error=True, platform="CRM"), event(4)], "l1")
    assert ids(store.query_events("p1", index="errors", limit=10)[0]) == ["ev-003", "ev-002"]
    assert ids(store.query_events("p1", index="by_flow", key="flow-0", limit=10)[0]) == ["ev-004", "ev-002"]
    found, _ = store.query_events("p1", index="errors", filters={"platform_key": "shop"}, limit=10)
    assert ids(found) == ["ev-002"]


def test_the_engine_filter_matches_the_engine_or_the_sender_of_an_event_stored_without_one(store: EventLog) -> None:
    # ev-001 names its engine; ev-002 was stored without one (before ingest defaulted it) by mailer
    store.create_events([event(1, engine="Mailer", reported_by="x"), event(2, reported_by="mailer"),
                         event(3, engine="other", reported_by="mailer")], "l1")  # fmt: skip
    found, _ = store.query_events("p1", index="by_time", filters={"engine_key": "mailer"}, limit=10)
    assert ids(found) == ["ev-002", "ev-001"]  # not ev-003: it names another engine


# --- ledgers and aggregates ------------------------------------------------------------------------


def test_a_ledger_is_applied_once(store: EventLog) -> None:
    records = [event(1), event(2, error=True), event(3, error=True)]
    ledger = build_ledger(records, AT + 5, CONFIG, "0000000a" + "0" * 24)
    store.put_ledger({**ledger, "events": [["p1", r["event_id"]] for r in records]})
    store.create_events(records, ledger["ledger_id"])
    assert [x["ledger_id"] for x in store.apply_ledgers([ledger], counter_updates)] == [ledger["ledger_id"]]
    assert store.apply_ledgers([ledger], counter_updates) == []
    (total,) = store.totals("p1", int(AT))[0]
    assert (total["events"], total["errors"], total["window_start"]) == (3, 2, int(AT))
    (group,) = store.error_groups("p1", int(AT))[0]
    assert (group["occurrences"], group["fingerprint"], group["sample"]) == (2, "fp1", "m3")
    assert store.group_counts([("p1", int(AT), "fp1"), ("p1", int(AT), "fp9")]) == {
        ("p1", int(AT), "fp1"): {"occurrences": 2, "entitled": 0, "last_received": AT + 5}
    }


def test_applying_ledgers_adds_their_counts(store: EventLog) -> None:
    first = build_ledger([event(1, error=True)], AT + 1, CONFIG, "00000001" + "0" * 24)
    second = build_ledger([event(2, error=True), event(3)], AT + 2, CONFIG, "00000002" + "0" * 24)
    for ledger in (first, second):
        store.put_ledger(ledger)
    store.apply_ledgers([first], counter_updates)
    store.apply_ledgers([first, second], counter_updates)  # ``first`` is gone: only ``second`` counts
    (total,) = store.totals("p1", int(AT))[0]
    assert (total["events"], total["errors"]) == (3, 2)
    assert store.error_groups("p1", int(AT))[0][0]["occurrences"] == 2


def test_stale_ledgers_are_those_written_before_and_not_applied(store: EventLog) -> None:
    start = now()  # one clock reading: a slow emulator must not move the bound past the third ledger
    ledgers = [build_ledger([event(n)], start - 120 + n, CONFIG, f"{n:08x}" + "0" * 24) for n in range(1, 4)]
    for ledger in ledgers:
        store.put_ledger(ledger)
    store.apply_ledgers([ledgers[0]], counter_updates)
    assert store.stale_ledgers(start - 120 + 2.5) == [ledgers[1]]
    assert sorted(x["ledger_id"] for x in store.stale_ledgers(now())) == [
        ledgers[1]["ledger_id"],
        ledgers[2]["ledger_id"],
    ]
    assert len(store.stale_ledgers(now(), limit=1)) == 1


def test_aggregates_since_a_window_filtered_and_unexpired(store: EventLog) -> None:
    windows = [AT - 120, AT - 60, AT]
    for n, at in enumerate(windows, start=1):
        ledger = build_ledger(
            [event(n, error=True, platform="Shop" if n < 3 else "CRM")], at, CONFIG, f"{n:08x}" + "0" * 24
        )
        store.put_ledger(ledger)
        store.apply_ledgers([ledger], counter_updates)
    old = build_ledger([event(9, error=True, fingerprint="fp9")], AT - 180, CONFIG, "00000009" + "0" * 24)
    old["expires_at"] = expired()
    store.put_ledger(old)
    store.apply_ledgers([old], counter_updates)
    assert [t["window_start"] for t in store.totals("p1", int(AT - 60))[0]] == [int(AT - 60), int(AT)]
    groups, truncated = store.error_groups("p1", int(AT - 120), filters={"platform_key": "shop"})
    assert ([g["window_start"] for g in groups], truncated) == ([int(AT - 120), int(AT - 60)], False)
    assert [g["fingerprint"] for g in store.error_groups("p1", 0)[0]] == ["fp1", "fp1", "fp1"]  # not fp9
    assert [t["window_start"] for t in store.totals("p1", 0)[0]] == [int(w) for w in windows]
    assert store.error_groups("p1", 0, limit=2) == (store.error_groups("p1", 0)[0][:2], True)
