"""SnapStart: what one snapshot must not share between the instances restored from it is made anew."""

from __future__ import annotations

import random

import snapshot_restore_py

from local.gateway import load_handler
from local.template import Template
from puraify import observability, wiring
from puraify.auth import hash_key
from puraify.engine_control.records import EngineRecord
from puraify.settings import Settings
from puraify.store import clients
from tests.fakes.engine_control import (
    MemoryCheckCountStore,
    MemoryEngineStore,
)
from tests.fakes.runtime import memory_runtime


def test_the_check_function_registers_both_hooks():
    load_handler(Template().functions()["CheckFunction"])
    assert (wiring.prepare_snapshot, (), {}) in snapshot_restore_py.get_before_snapshot()
    assert (wiring.restored, (), {}) in snapshot_restore_py.get_after_restore()


def test_restore_forgets_caches_clients_tally_and_random_state(monkeypatch):
    # Given: an instance as it is snapshotted, with an engine and the catalog cached and a tally pending
    engines, counts = MemoryEngineStore(), MemoryCheckCountStore()
    engines.create(EngineRecord(engine_id="e1", key_hash=hash_key("k"), created_at="t", updated_at="t"))
    current = memory_runtime(Settings(check_count_flush_seconds=60), engines=engines, check_counts=counts)
    wiring.install(current)
    try:
        current.auth.engine("e1")
        current.engine_control.catalog()
        current.engine_control.counter.count("2026-12-01T21:45:00.000000Z", "allowed")
        wiring.prepare_snapshot()
        assert counts.items["2026-12-01T21:45"]["allowed"] == 1  # flushed before the snapshot
        current.engine_control.counter.count("2026-12-01T21:45:01.000000Z", "allowed")
        monkeypatch.setitem(clients._clients, "dynamodb", object())
        random.seed(7)
        snapshot_state = random.getstate()
        reads = engines.reads, current.catalog.reads
        # When
        wiring.restored()
        # Then
        assert clients._clients == {}
        assert random.getstate() != snapshot_state
        current.auth.engine("e1")
        current.engine_control.catalog()
        assert (engines.reads, current.catalog.reads) == (reads[0] + 1, reads[1] + 1)
        current.engine_control.counter.flush()
        assert counts.items["2026-12-01T21:45"]["allowed"] == 1  # the snapshot's tally is not counted again
        assert observability._cold_start is True
    finally:
        wiring.install(None)
