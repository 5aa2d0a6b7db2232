"""Simulate's replay over many records counts what the check path would decide, and reads at most its bound.

The replay decides each distinct question once (who asked, about which engine, what, in which project),
except on platforms whose checks depend on their time; these tests hold that to the real check path:
the same records decided by ``Checks._decide`` before and after the change is made for real.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from puraify import wiring
from puraify.auth import ADMIN_SCOPE, ON_BEHALF_SCOPE, Principal, hash_key
from puraify.clock import iso, now
from puraify.engine_control import models as m
from puraify.engine_control import simulate as simulate_module
from puraify.engine_control.bootstrap import seed_catalog
from puraify.engine_control.records import EngineRecord, Flag, MaintenanceWindow
from tests.fakes.engine_control import MemoryAuditStore, MemoryCatalogStore, MemoryEngineStore
from tests.fakes.runtime import memory_runtime

ROOT = Path(__file__).resolve().parents[3]
ADMIN = Principal(engine_id="admin", scopes=frozenset({ADMIN_SCOPE}), projects=frozenset({"*"}))
# (caller, engine checked, platform, action, project): allowed and denied, own and on behalf, granted and not.
QUESTIONS = [
    ("a", None, "gmail", "send_email", "shop"),
    ("a", None, "gmail", "read_email", "shop"),
    ("a", None, "slack", "send_message", "shop"),
    ("a", None, "slack", "send_message", "blog"),
    ("a", None, "notion", "create_page", None),
    ("a", None, "gmail", "add_label", None),
    ("b", None, "gmail", "send_email", "blog"),
    ("b", None, "slack", "upload_file", None),
    ("b", None, "gmail", "read_email", None),
    ("helper", "a", "slack", "send_message", "shop"),
    ("helper", "a", "gmail", "read_email", "shop"),
    ("helper", "b", "gmail", "send_email", None),
    ("helper", "a", "notion", "create_page", "blog"),  # the helper does not hold blog: its standing decides
    ("a", None, "notion", "create_page", "blog"),
]


def _engine(engine_id: str, permissions: dict[str, list[str]], projects: list[str], scopes: list[str] = ()) -> Any:
    return EngineRecord(
        engine_id=engine_id,
        key_hash=hash_key(f"pfk_{engine_id}-key-0123456789abcdefghijklmnopqrstuvwxyz"),
        permissions=permissions,
        projects=projects,
        scopes=list(scopes),
        created_at=iso(),
        updated_at=iso(),
    )


@pytest.fixture
def stores() -> tuple[MemoryEngineStore, MemoryCatalogStore, MemoryAuditStore]:
    engines, catalog, audit = MemoryEngineStore(), MemoryCatalogStore(), MemoryAuditStore()
    seed_catalog(catalog, json.loads((ROOT / "local" / "seed" / "catalog.json").read_text()))
    engines.create(_engine("a", {"gmail": ["send_email"], "slack": ["send_message"]}, ["shop"]))
    engines.create(_engine("b", {"gmail": ["send_email", "read_email"], "slack": ["upload_file"]}, ["*"]))
    engines.create(_engine("helper", {}, ["shop"], [ON_BEHALF_SCOPE]))
    engines.create(_engine("admin", {}, ["*"], [ADMIN_SCOPE]))
    # slack was in maintenance for two of the last ten hours, and a scheduled flag turned gmail's read_email
    # off for an hour: those checks depend on their time, and are replayed one by one.
    start = now() - 10 * 3600
    slack = catalog.catalog.platforms["slack"]
    slack.windows = [
        MaintenanceWindow(
            window_id="w1",
            starts_at=iso(start + 3 * 3600),
            ends_at=iso(start + 5 * 3600),
            starts_epoch=start + 3 * 3600,
            ends_epoch=start + 5 * 3600,
            reason="upgrade",
            created_by="admin",
            created_at=iso(),
        )  # fmt: skip
    ]
    catalog.put_flag(
        Flag.model_validate(
            {"name": "reads", "enabled": True, "platform": "gmail", "action_type": "read_email",
             "schedule": [{"schedule_id": "s1", "at": iso(start + 6 * 3600), "at_epoch": start + 6 * 3600,
                           "enabled": False, "created_by": "admin", "created_at": iso()},
                          {"schedule_id": "s2", "at": iso(start + 7 * 3600), "at_epoch": start + 7 * 3600,
                           "enabled": True, "created_by": "admin", "created_at": iso()}]}
        )
    )  # fmt: skip
    return engines, catalog, audit


def _principal(current: wiring.Runtime, engine_id: str) -> Principal:
    record = current.engines.get(engine_id)
    assert record is not None
    return Principal(engine_id=engine_id, scopes=frozenset(record.scopes), projects=frozenset(record.projects))


def _checks(current: wiring.Runtime, count: int) -> list[dict[str, Any]]:
    """``count`` checks decided and audited by the check's own code, spread over the last ten hours."""
    start = now() - 10 * 3600
    records = []
    for n in range(count):
        caller_id, engine_id, platform, action, project = QUESTIONS[n % len(QUESTIONS)]
        caller = _principal(current, caller_id)
        body = m.ActionCheckRequest(platform=platform, action_type=action, project_id=project, engine_id=engine_id)
        at = start + n * (10 * 3600 / count)
        checked = current.engine_control._decide(caller, body, f"r-{n:05d}", at, current.engine_control.catalog)
        records.append(checked.record)
    for first in range(0, len(records), 25):
        current.audit.store.put_many(records[first : first + 25])
    return records


def _decided_again(current: wiring.Runtime, records: list[dict[str, Any]]) -> list[bool]:
    """Each record's check asked again through the check path, at its own time, with today's stores."""
    allowed = []
    for n, record in enumerate(records):
        caller = _principal(current, record["caller_id"])
        project = record.get("project_id") or (record.get("details") or {}).get("project_id")
        engine_id = record["engine_id"] if record["engine_id"] != record["caller_id"] else None
        body = m.ActionCheckRequest(platform=record["platform"], action_type=record["action_type"],
                                    project_id=project, engine_id=engine_id)  # fmt: skip
        at = record["at"]
        allowed.append(current.engine_control._decide(caller, body, f"again-{n}", at, current.engine_control.catalog)
                       .reply["allowed"])  # fmt: skip
    return allowed


def _flips_by_the_check_path(stores: Any, records: list[dict[str, Any]], apply: Any) -> Counter[str]:
    before = _decided_again(
        memory_runtime(engines=stores[0], catalog=stores[1], audit_store=MemoryAuditStore()), records
    )
    apply(stores[0], stores[1])
    after = _decided_again(
        memory_runtime(engines=stores[0], catalog=stores[1], audit_store=MemoryAuditStore()), records
    )
    counts: Counter[str] = Counter()
    for old, new in zip(before, after, strict=True):
        counts["unchanged" if old == new else "allow_to_deny" if old else "deny_to_allow"] += 1
    return counts


def _timed(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from puraify.clock import parse_time

    return [{**r, "at": parse_time(r["timestamp"])} for r in records]


@pytest.mark.parametrize(
    ("change", "apply"),
    [
        pytest.param(
            {
                "engine": {
                    "engine_id": "a",
                    "permissions": {"gmail": ["send_email", "read_email"], "notion": ["create_page"]},
                    "projects": ["shop", "blog"],
                }
            },  # fmt: skip
            lambda engines, catalog: engines.update(
                engines.get("a").model_copy(
                    update={
                        "permissions": {"gmail": ["send_email", "read_email"], "notion": ["create_page"]},
                        "projects": ["blog", "shop"],
                    }
                ),
                engines.get("a").key_hash,
            ),  # fmt: skip
            id="engine-permissions-and-projects",
        ),
        pytest.param(
            {"platforms": {"gmail": {"status": "maintenance"}}},
            lambda engines, catalog: catalog.put_platform(
                catalog.catalog.platforms["gmail"].model_copy(update={"status": "maintenance"})
            ),
            id="platform-maintenance",
        ),
        pytest.param(
            {"platforms": {"slack": {"status": "disabled"}}},
            lambda engines, catalog: catalog.put_platform(
                catalog.catalog.platforms["slack"].model_copy(update={"status": "disabled"})
            ),
            id="windowed-platform-disabled",
        ),
        pytest.param(
            {"flags": {"reads": {"enabled": False}}},
            lambda engines, catalog: catalog.put_flag(
                catalog.catalog.flags["reads"].model_copy(update={"enabled": False, "schedule": []})
            ),
            id="scheduled-flag-off",
        ),
    ],
)
def test_simulate_over_many_records_counts_what_the_check_path_decides(stores, change, apply) -> None:
    # Given 1,400 checks audited by the check path (own and on behalf, windows and flag schedules)
    current = memory_runtime(engines=stores[0], catalog=stores[1], audit_store=stores[2])
    wiring.install(current)
    try:
        records = _timed(_checks(current, 1400))
        # When the change is simulated (before it is made)
        body = m.SimulateRequest.model_validate({"change": change, "since": now() - 11 * 3600})
        simulated = current.engine_control.simulate(ADMIN, body, "sim-1")
    finally:
        wiring.install(None)
    # Then its counts are those of the check path deciding every record again, before and after the change
    touched = [r for r in records if r["engine_id"] == change["engine"]["engine_id"]] if "engine" in change else [
        r for r in records if r["platform"] in {*change.get("platforms", {}), "gmail" if "flags" in change else ""}
    ]  # fmt: skip
    expected = _flips_by_the_check_path(stores, touched, apply)
    assert (simulated.replayed, simulated.unchanged) == (len(touched), expected["unchanged"])
    assert (simulated.allow_to_deny, simulated.deny_to_allow) == (expected["allow_to_deny"], expected["deny_to_allow"])
    assert simulated.allow_to_deny + simulated.deny_to_allow > 0  # the change flips something
    assert not simulated.truncated and simulated.records_read == len(touched)


def test_simulate_reads_at_most_its_bound_newest_first_and_says_truncated(stores, monkeypatch) -> None:
    current = memory_runtime(engines=stores[0], catalog=stores[1], audit_store=stores[2])
    wiring.install(current)
    try:
        records = _checks(current, 140)  # checks about engine a: 9 of every 14, 90 in all
        own = sorted((r for r in records if r["engine_id"] == "a"), key=lambda r: r["sk"], reverse=True)
        body = m.SimulateRequest.model_validate(
            {"change": {"engine": {"engine_id": "a", "permissions": {}}}, "since": now() - 11 * 3600}
        )
        monkeypatch.setattr(simulate_module, "MAX_SIMULATE_RECORDS", len(own))
        exact = current.engine_control.simulate(ADMIN, body, "sim-exact")
        monkeypatch.setattr(simulate_module, "MAX_SIMULATE_RECORDS", 40)
        bounded = current.engine_control.simulate(ADMIN, body, "sim-bounded")
    finally:
        wiring.install(None)
    # Exactly the bound: everything read, nothing truncated
    assert (exact.records_read, exact.replayed, exact.truncated) == (len(own), len(own), False)
    # Past the bound: the newest 40 read, and said so
    assert (bounded.records_read, bounded.replayed, bounded.truncated, bounded.max_records) == (40, 40, True, 40)
    newest = {r["request_id"] for r in own[:40]}
    assert {e.request_id for e in bounded.examples} <= newest
    assert bounded.allow_to_deny == sum(1 for r in own[:40] if r["status"] == "allowed")
